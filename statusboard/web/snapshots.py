"""The read path: public surfaces served from what `render_surface` made for the current data
version, checked on every request.

A request for a surface costs one query, the page version (on a connection each process
keeps, see `VersionReader`). When this process holds the surface at that version, its bytes
go out with a version ETag, Last-Modified and cache headers (or a 304); otherwise it is taken
from this host's store (web/store.py), or the database (below), or rendered under this
process's one render lock, and kept. Every request reads the version itself, so a write is
seen by the next request on any process and any host.

The surfaces a surge reads (HOT) are rendered once per write, by the write, right
after it commits, and published in the database (rendered_surface, page_state.published)
before the writer is answered: readers on every process and host take that copy instead of
each rendering it. Measured in the write storm of benchmarks/surge.py (SQLite, 10 API
writers), readers that rendered each new version in every process answered about 700 req/s
at a p99 of 480 ms; taking the published copy, 2,900-3,400 req/s at a p99 of 63-81 ms.
Until the writer has published (PUBLISHING at most), readers answer the version published
before it.

With the database unreachable the newest copy of memory and store is served, so every
process of a host serves the same last version, and a process started during the outage
serves what its predecessors kept.

Public surfaces are answered here, before Flask: no routing, contexts, hooks or session, so
no cookie and no "Vary: Cookie" can reach a response proxies and CDNs should share. What it
buys, in one run of benchmarks/surge.py (SQLite, 2 shared cores, 64 connections): Flask's
own /healthz answered 647 req/s, `/` answered here 1,439, the raw WSGI ceiling 1,827.
Flask sees a surface's path only to answer why it could not be served (surfaces._explain).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.http import parse_date, parse_etags

from statusboard.db import database
from statusboard.models import RenderedSurface
from statusboard.services import page
from statusboard.services.page import BUMPED
from statusboard.web import publisher
from statusboard.web.store import Store, store_for
from statusboard.web.surfaces import FAILED, Rendered, match, render_surface
from statusboard.web.versions import VersionReader

EXTENSION = "statusboard.snapshots"
MEMORY_CAPACITY = 2048  # surfaces a process keeps; bounds memory when crawlers walk history
STALE = '110 - "Response is stale: database unreachable"'
# The surfaces a surge asks for first: rendered at every start (server.warm_before_fork) and
# rendered once and published by every write that changes the page (`publish`).
HOT = (
    "/",
    "/history",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents/unresolved.json",
    "/feed.atom",
    "/history.atom",
)
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached and no copy of this surface exists."""


class Snapshots:
    """WSGI in front of Flask: answers GET and HEAD of public surfaces, passes the rest on."""

    def __init__(self, app: Flask, store: Store, flask_wsgi: Callable[..., Any]) -> None:
        self.app = app
        self.store = store
        self.flask_wsgi = flask_wsgi
        engine = database(app).engine
        self.versions = VersionReader(engine)
        # A raw DBAPI read raises the driver's errors, a render SQLAlchemy's.
        self.database_errors = (SQLAlchemyError, engine.dialect.loaded_dbapi.Error)
        self.memory: dict[str, Rendered] = {}
        self.render_lock = threading.Lock()
        self.publisher = publisher.address_for(store.directory)
        self.publish_lock = threading.Lock()
        self.published = 0  # the newest version this process published
        sessions = database(app).sessions
        event.listen(sessions, "after_commit", self._publish_the_write)
        event.listen(sessions, "after_rollback", self._forget_the_write)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        if method not in ("GET", "HEAD") or not self._is_surface(path):
            return self.flask_wsgi(environ, start_response)
        try:
            rendered, stale = self.current(path)
        except Exception as error:  # not found, or no copy in an outage: Flask says why
            environ[FAILED] = error
            return self.flask_wsgi(environ, start_response)
        headers = list(rendered.headers)
        if stale:
            headers.append(("Warning", STALE))
        if _not_modified(environ, rendered):
            start_response("304 Not Modified", headers)
            return []
        headers += [
            ("Content-Type", rendered.content_type),
            ("Content-Length", str(len(rendered.body))),
        ]
        start_response("200 OK", headers)
        return [rendered.body] if method == "GET" else []

    def _is_surface(self, path: str) -> bool:
        if path in self.memory:
            return True
        try:
            return match(self.app.url_map, path) is not None
        except Exception:  # a redirect to the canonical path, a 404: Flask's to answer
            return False

    def current(self, path: str) -> tuple[Rendered, bool]:
        """The surface at the current version, and whether it is a stale copy (the
        database being unreachable)."""
        try:
            state = self.versions.read()
        except self.database_errors:
            return self.last_good(path), True
        version = state.version
        if state.published < version and path in HOT and state.publishing():
            version = state.published  # its writer is rendering it; it answers once done
        kept = self.memory.get(path)
        if kept is not None and kept.version >= version:
            return kept, False
        with self.render_lock:  # one render at a time; whoever waited finds it done
            kept = self.memory.get(path)
            if kept is not None and kept.version >= version:
                return kept, False
            shared = self.store.get(path, at_least=version)  # another process's rendering
            if shared is not None:
                self._keep(path, shared)  # already in the store
                return shared, False
            try:
                published = self._published(path, version)
                if published is not None:
                    return published, False
                return self.render(path), False
            except self.database_errors:  # the database went away mid-render
                log.warning("could not render %s", path, exc_info=True)
                return self.last_good(path), True

    def _publish_the_write(self, session: Session) -> None:
        """A transaction that changed the page committed: have HOT rendered and
        published before whoever wrote is answered, by this host's worker when it answers
        (web/publisher.py), else here. Not inside the write: its SQLite write lock (or the
        PostgreSQL row lock on page_state) would be held for the rendering; in a storm of 10
        writers, 38 writes went through in 15 s instead of 274."""
        if session.in_nested_transaction():
            return
        version = session.info.pop(BUMPED, None)
        if version is not None and not publisher.ask(self.publisher, version):
            self.publish(version)

    def publish(self, version: int) -> int:
        """Render HOT at `version` or newer and publish them for every process and
        host; the version published (0 when it failed, and readers render it after
        PUBLISHING). One at a time: whoever waited may find its version published."""
        with self.publish_lock:
            if self.published >= version:
                return self.published
            try:
                if self.published >= self.versions.read().version:
                    return self.published  # asked for a version not committed: nothing new
                with self.app.app_context(), database(self.app).session() as reading:
                    rendered = {path: render_surface(reading, path) for path in HOT}
                rows = [_row(path, copy) for path, copy in rendered.items()]
                database(self.app).write(lambda writing: page.publish(writing, rows))
            except Exception:
                log.warning("could not publish the page", exc_info=True)
                return 0
            for path, copy in rendered.items():
                self._hold(path, copy)
            self.published = max(self.published, rows[0].version)
            return self.published

    def _forget_the_write(self, session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(BUMPED, None)

    def _published(self, path: str, version: int) -> Rendered | None:
        if path not in HOT:
            return None
        with database(self.app).session() as session:
            row = page.rendered(session, path, at_least=version)
            if row is None:
                return None
            kept = Rendered(row.body, row.content_type, row.etag, row.last_modified, row.version)
        self._hold(path, kept)
        return kept

    def render(self, path: str) -> Rendered:
        with self.app.app_context(), database(self.app).session() as session:
            rendered = render_surface(session, path)
        self._hold(path, rendered)
        return rendered

    def _hold(self, path: str, rendered: Rendered) -> None:
        """Keep a copy this process made or fetched, unless it holds a newer one, and store it
        for the host."""
        kept = self.memory.get(path)
        if kept is None or kept.version <= rendered.version:
            self._keep(path, rendered)
        self.store.put(path, rendered)

    def _keep(self, path: str, rendered: Rendered) -> None:
        if len(self.memory) >= MEMORY_CAPACITY:
            self.memory.pop(next(iter(self.memory)), None)  # the longest kept
        self.memory[path] = rendered

    def last_good(self, path: str) -> Rendered:
        """The newest copy this host has: every process picks the same one."""
        copies = [c for c in (self.memory.get(path), self.store.get(path)) if c is not None]
        if not copies:
            raise DatabaseUnavailable()
        return max(copies, key=lambda copy: copy.version)

    def warm(self, paths: Iterable[str]) -> int:
        """Render `paths` now (at start-up), each one a reader need not wait for later."""
        done = 0
        for path in paths:
            try:
                self.render(path)
                done += 1
            except Exception:  # the database may be down at start; readers retry
                log.warning("could not render %s", path, exc_info=True)
        return done


def _not_modified(environ: dict[str, Any], rendered: Rendered) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        return parse_etags(if_none_match).contains(rendered.etag)
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    modified = rendered.last_modified
    return since is not None and modified is not None and modified.replace(microsecond=0) <= since


def _row(path: str, rendered: Rendered) -> RenderedSurface:
    return RenderedSurface(
        path=path,
        version=rendered.version,
        content_type=rendered.content_type,
        etag=rendered.etag,
        last_modified=rendered.last_modified,
        body=rendered.body,
    )


def snapshots(app: Flask) -> Snapshots:
    return app.extensions[EXTENSION]


def register_snapshots(app: Flask) -> None:
    front = app.extensions[EXTENSION] = Snapshots(app, store_for(app), app.wsgi_app)
    app.wsgi_app = front  # type: ignore[method-assign]
