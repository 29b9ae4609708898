"""What every response says about itself, and what no request may carry, in one place.

Headers: a Content-Security-Policy that runs only our own script files (no inline script,
no eval), lets no other site frame any page (`frame-ancestors 'none'`, and X-Frame-Options
for older browsers) except under FRAMEABLE_PREFIXES, never lets a browser guess a content
type, sends only the origin to other sites, and asks for HTTPS for two years when the page
is served over https. They are added around the whole WSGI app, so the public surfaces
answered before Flask carry them too.

Requests: a body larger than MAX_REQUEST_BYTES is refused with 413 before it is read, and a
NUL or control character in the path, the query or a form field is a 400 before any view or
database sees it (PostgreSQL refuses NUL in text and would otherwise fail the request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest

from statusboard.config import settings_of
from statusboard.domain.text import has_forbidden

# Paths other sites may frame: the embeddable status widget (/embed, and /embed.js, harmless).
FRAMEABLE_PREFIXES: tuple[str, ...] = ("/embed",)

SCRIPTS_AND_STYLES = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)
HSTS = "max-age=63072000"


def security_headers(*, https: bool, frameable: bool) -> list[tuple[str, str]]:
    ancestors = "*" if frameable else "'none'"
    headers = [
        ("Content-Security-Policy", f"{SCRIPTS_AND_STYLES}; frame-ancestors {ancestors}"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if not frameable:
        headers.append(("X-Frame-Options", "DENY"))
    if https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


class SecurityHeaders:
    """WSGI around everything else, so the public surfaces answered before Flask get the
    same headers as Flask's own responses. The header lists are built once."""

    def __init__(self, wsgi: Callable[..., Any], *, https: bool) -> None:
        self.wsgi = wsgi
        self.headers = security_headers(https=https, frameable=False)
        self.frameable = security_headers(https=https, frameable=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO") or "/"
        frameable = bool(FRAMEABLE_PREFIXES) and path.startswith(FRAMEABLE_PREFIXES)
        extra = self.frameable if frameable else self.headers

        def with_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + extra, exc_info)

        return self.wsgi(environ, with_headers)


def _refuse_control_characters() -> None:
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request.get_data(cache=True)  # kept for views that read the raw body (the JSON API)
        fields += [*request.form.keys(), *request.form.values()]
    if any(has_forbidden(value) for value in fields):
        raise BadRequest(
            "The address or a form field contains a NUL or an invisible control character. "
            "Remove it and try again."
        )


def register_security(app: Flask) -> None:
    """After register_snapshots: the headers wrap the surfaces answered before Flask too."""
    settings = settings_of(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.web.max_request_bytes
    app.before_request(_refuse_control_characters)
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        app.wsgi_app, https=settings.page.base_url.startswith("https://")
    )
