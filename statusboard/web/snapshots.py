"""The read path: public surfaces served from what `render_surface` made for the current data
version, checked on every request.

A request for a surface costs one query, the page version (on a connection each thread keeps,
see `VersionReader`). When this process holds the surface at that version, its bytes go out
with a version ETag, Last-Modified and cache headers (or a 304); otherwise the surface is
rendered under this process's one render lock and kept. Every request reads the version
itself, so a write is seen by the very next request on any process and any host, with
nothing for the write to wait for or announce.

Each rendering is also written to a store on disk (one file per surface, replaced
atomically, never by an older version). A process that misses looks there before rendering:
after a write, one rendering serves every process of the host, the export included. With
the database unreachable the newest copy of memory and store is served, so every process of
a host serves the same last version, and a process started during the outage serves what
its predecessors kept.

Public surfaces are answered here, before Flask: no routing, contexts, hooks or session, so
no cookie and no "Vary: Cookie" can reach a response proxies and CDNs should share. What it
buys, in one run of benchmarks/surge.py (SQLite, 2 shared cores, 64 connections): Flask's
own /healthz answered 647 req/s, `/` answered here 1,439, the raw WSGI ceiling 1,827.
Flask sees a surface's path only to answer why it could not be served (surfaces._explain).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_date, parse_etags

from statusboard.config import settings_of
from statusboard.db import database
from statusboard.web.surfaces import FAILED, Rendered, match, render_surface

EXTENSION = "statusboard.snapshots"
MEMORY_CAPACITY = 2048  # surfaces a process keeps; bounds memory when crawlers walk history
STALE = '110 - "Response is stale: database unreachable"'
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached and no copy of this surface exists."""


class VersionReader:
    """The page version, the one query of a public request, on one DBAPI connection the
    process keeps (taken from the app's pool once), in autocommit: no pool checkout, liveness
    ping or BEGIN/COMMIT per request, and no Core execution either: measured here, a read
    through Core's `exec_driver_sql` took 130 µs, the DBAPI cursor 20 µs (SQLite, same
    connection), on a path whose whole budget is a few hundred µs. One connection per process,
    not per thread: threads take turns for 20 µs, and a PostgreSQL server is not asked for a
    connection per thread of every web process (8 x 8 of them ran out of `max_connections`).
    A failed read drops the connection; the next one connects afresh. Disposing of the engine
    (after an outage, before a fork) drops it."""

    SQL = "SELECT version FROM page_state WHERE id = 1"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None
        event.listen(engine, "engine_disposed", self._forget)

    def read(self) -> int:
        with self._lock:
            if self._connection is None:
                connection = self.engine.raw_connection()
                if self.engine.dialect.name != "sqlite":  # SQLite's is in autocommit already
                    connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
                self._connection = connection
            try:
                cursor = self._connection.cursor()
                cursor.execute(self.SQL)
                row = cursor.fetchone()
                cursor.close()
            except BaseException:
                self._drop()
                raise
        return int(row[0]) if row else 1

    def _forget(self, *_: Any) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()


class Store:
    """The last good copy of each surface on disk, for outages and processes started in one.
    A file is a JSON header line and the body; it is replaced by renaming, so a reader sees
    the old file or the new one, never half of one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, path: str, at_least: int = 0) -> Rendered | None:
        """The kept copy, if it is of version `at_least` or newer (an older one's body is
        not read)."""
        try:
            with open(self._file(path), "rb") as handle:
                header = json.loads(handle.readline())
                if header["version"] < at_least:
                    return None
                body = handle.read()
        except (OSError, ValueError, KeyError):
            return None
        modified = header["last_modified"]
        return Rendered(
            body=body,
            content_type=header["content_type"],
            etag=header["etag"],
            last_modified=datetime.fromisoformat(modified) if modified else None,
            version=header["version"],
        )

    def put(self, path: str, rendered: Rendered) -> None:
        try:
            with open(self._file(path), "rb") as handle:
                kept = json.loads(handle.readline())["version"]
        except (OSError, ValueError, KeyError):
            kept = 0
        if kept > rendered.version:
            return  # another process stored a newer one meanwhile
        modified = rendered.last_modified
        header = {
            "version": rendered.version,
            "content_type": rendered.content_type,
            "etag": rendered.etag,
            "last_modified": modified.isoformat() if modified else None,
        }
        try:
            write_atomically(self._file(path), json.dumps(header).encode() + b"\n" + rendered.body)
        except OSError:  # a full or read-only disk must not break serving from memory
            log.warning("could not store the last good copy of %s", path, exc_info=True)

    def __contains__(self, path: str) -> bool:
        return self._file(path).exists()

    def _file(self, path: str) -> Path:
        return self.directory / quote(path, safe="")


def write_atomically(path: Path, data: bytes) -> None:
    """Write then rename: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
            version = self.versions.read()
        except self.database_errors:
            return self.last_good(path), True
        kept = self.memory.get(path)
        if kept is not None and kept.version >= version:
            return kept, False
        with self.render_lock:  # one render at a time; whoever waited finds it done
            kept = self.memory.get(path)
            if kept is not None and kept.version >= version:
                return kept, False
            shared = self.store.get(path, at_least=version)  # another process's rendering
            if shared is not None:
                self._keep(path, shared)
                return shared, False
            try:
                return self.render(path), False
            except self.database_errors:  # the database went away mid-render
                log.warning("could not render %s", path, exc_info=True)
                return self.last_good(path), True

    def render(self, path: str) -> Rendered:
        with self.app.app_context(), database(self.app).session() as session:
            rendered = render_surface(session, path)
        self._keep(path, rendered)
        self.store.put(path, rendered)
        return rendered

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


def snapshots(app: Flask) -> Snapshots:
    return app.extensions[EXTENSION]


def store_for(app: Flask) -> Store:
    """This host's store for the app's database: one per database, so copies of two
    databases never mix."""
    settings = settings_of(app)
    database_key = hashlib.sha256(settings.database_url.encode()).hexdigest()
    return Store(Path(settings.web.snapshot_dir) / database_key[:12])


def register_snapshots(app: Flask) -> None:
    front = app.extensions[EXTENSION] = Snapshots(app, store_for(app), app.wsgi_app)
    app.wsgi_app = front  # type: ignore[method-assign]
