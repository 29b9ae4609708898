"""Public surfaces and the one function that renders them: `render_surface(session, path)`.

A surface is a public GET path (the page, incident pages, history, /api/v2, feeds, calendar).
Each is declared with `@surface(blueprint, rule)` over a renderer `(session, **route args) ->
(body, content_type)`; the views (web/snapshots.py), the static export and the warm-up all
get their bytes from `render_surface`, so they can never differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from flask import Blueprint, current_app, g, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date
from werkzeug.routing import Map
from werkzeug.test import EnvironBuilder

from statusboard import __version__
from statusboard.config import settings_of
from statusboard.services.page import current_version

Body = tuple[str | bytes, str]  # (body, content type)
RENDERERS: dict[str, Callable[..., Body]] = {}
# Browsers revalidate every time (a cheap 304), so whoever just posted sees it at once; shared
# caches (reverse proxies, CDNs) may serve a copy for 5 s and keep serving it while they
# refetch, or while this server is down.
CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30, stale-if-error=86400"
# environ key: why a surface could not be served; its Flask view raises it (see `_explain`).
FAILED = "statusboard.surface_failed"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    etag: str  # from the page version alone: a 304 needs neither the body nor a render
    last_modified: datetime | None
    version: int

    @cached_property
    def headers(self) -> list[tuple[str, str]]:
        """Computed once per rendering, not per request. Nothing in them depends on who
        asks: no cookie, no Vary."""
        headers = [
            ("ETag", f'"{self.etag}"'),
            ("Cache-Control", CACHE_CONTROL),
            ("Access-Control-Allow-Origin", "*"),  # widgets read the page from other origins
        ]
        if self.last_modified is not None:
            headers.append(("Last-Modified", http_date(self.last_modified)))
        return headers


def etag_for(version: int) -> str:
    return f"{version}-{__version__}"  # a new release renders differently: a new tag


def surface(
    blueprint: Blueprint, rule: str, endpoint: str | None = None, **options: Any
) -> Callable[[Callable[..., Body]], Callable[..., Body]]:
    """Declare `render` as the public surface at `rule` (stackable for several rules)."""

    def register(render: Callable[..., Body]) -> Callable[..., Body]:
        name = endpoint or render.__name__
        blueprint.add_url_rule(rule, name, _explain, methods=["GET"], **options)
        RENDERERS[f"{blueprint.name}.{name}"] = render
        return render

    return register


def _explain(**_: Any) -> Any:
    """Flask sees a surface's path only when it could not be served (snapshots answers the
    others before Flask): this raises the reason, for the error handlers to answer."""
    raise request.environ.get(FAILED) or NotFound()


def match(url_map: Map, path: str) -> tuple[str, dict[str, Any]] | None:
    """(endpoint, route arguments) when `path` is a public surface, else None. Routing
    exceptions (a redirect to the canonical path, say) are raised for Flask to answer."""
    endpoint, arguments = url_map.bind("surface").match(path, method="GET")
    return (str(endpoint), dict(arguments)) if endpoint in RENDERERS else None


def render_surface(session: Session, surface: str) -> Rendered:
    """The bytes of one public surface at the current data version. Raises NotFound when
    the path is no surface or names nothing. Needs an app context; reads nothing of any
    request, so every caller gets the same bytes for the same version."""
    found = match(current_app.url_map, surface)
    if found is None:
        raise NotFound()
    endpoint, arguments = found
    # The version first: the data read after it is at least that new, so the bytes are never
    # older than the version they are kept under.
    version, changed_at = current_version(session)
    base_url = settings_of().page.base_url
    # A request context of its own, so templates build the same relative links as in any
    # request, and nothing of the reader's request (host, cookies, query) reaches the bytes.
    environ = EnvironBuilder(path=surface, base_url=base_url).get_environ()
    with current_app.request_context(environ):
        g.etag = etag_for(version)  # the version a page shows, for its own refresh check
        body, content_type = RENDERERS[endpoint](session, **arguments)
    return Rendered(
        body=body.encode() if isinstance(body, str) else body,
        content_type=content_type,
        etag=etag_for(version),
        last_modified=changed_at,  # type: ignore[arg-type]
        version=version,
    )
