"""Public surfaces served from snapshots: rendered once per data version, not per request.

A public request costs at most one cheap query (the page version, which a process reuses for
STATUSBOARD_VERSION_REUSE_MS). When the version is the one the snapshot was rendered for, the
stored bytes are sent as they are, with a strong ETag, Last-Modified and cache headers that let
proxies and CDNs absorb a surge. Once Flask has served a snapshot, its exact status and headers
are kept beside it and `SnapshotMiddleware` answers later hits before Flask's routing and
request machinery, so a hit costs little more than the version check. When the database cannot
be reached, the last good snapshot is served (from memory, or from the snapshot store on disk
that any process of this host wrote), so the page stays up when the system it describes does
not.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from werkzeug.http import http_date, parse_etags

from statusboard.config import settings_of
from statusboard.db import database, make_engine
from statusboard.services.page import NEW_VERSIONS

EXTENSION = "statusboard.snapshots"
# Browsers revalidate every time (a cheap 304), so whoever just posted sees it at once; shared
# caches (reverse proxies, CDNs) may serve a copy for 5 s and keep serving it while they
# refetch, or while this server is down.
CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30, stale-if-error=86400"
# How recently a surface must have been asked for to be prepared before a write is answered.
HOT_FOR = 60.0
# How long a write waits for that before it is answered anyway (a write must stay quick even
# when a surge leaves the renderer a small share of the CPU).
PREPARE_AT_MOST = 0.2
PENDING_FOR_AT_MOST = 60.0
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached and no snapshot of this surface exists."""


@dataclass(frozen=True)
class Snapshot:
    version: int
    status: int
    body: bytes
    content_type: str
    etag: str
    last_modified: datetime | None

    @cached_property
    def headers(self) -> dict[str, str]:
        """Computed once per snapshot, not per request."""
        headers = {"ETag": f'"{self.etag}"', "Cache-Control": CACHE_CONTROL}
        if self.last_modified is not None:
            headers["Last-Modified"] = http_date(self.last_modified)
        return headers


class SnapshotCache:
    """An LRU of rendered surfaces per process, mirrored to a directory for cold starts."""

    def __init__(self, store: Path | None, versions: VersionReader, capacity: int = 4096) -> None:
        self.store = store
        self.versions = versions
        self.capacity = capacity
        self._entries: OrderedDict[str, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._render_locks = [threading.Lock() for _ in range(64)]
        self._pending: set[int] = set()

    def get(self, key: str) -> Snapshot | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, snapshot: Snapshot) -> None:
        with self._lock:
            newer = self._entries.get(key)
            if newer is not None and newer.version > snapshot.version:
                return
            self._entries[key] = snapshot
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        if self.store is not None:
            self._write(key, snapshot)

    def last_good(self, key: str) -> Snapshot | None:
        return self.get(key) or self._read(key)

    def stored(self, key: str, version: int) -> Snapshot | None:
        """The snapshot of `key` in the store, whatever its version; kept in memory when it
        is `version` (another process of this host rendered it)."""
        found = self._read(key)
        if found is not None and found.version == version:
            with self._lock:
                self._entries[key] = found
        return found

    @contextlib.contextmanager
    def lock_for(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        """Held while one surface is rendered: by one thread of this process, and (through a
        lock file in the store) by one process of this host, so a new version is rendered
        once and the others read what it stored. With `wait=False`, yields False at once
        when someone else holds it."""
        slot = zlib.crc32(key.encode()) % len(self._render_locks)  # same in every process
        lock = self._render_locks[slot]
        if not lock.acquire(blocking=wait):
            yield False
            return
        try:
            handle = self._lock_file(slot)
            if handle is None:
                yield True
                return
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            lock.release()

    def _lock_file(self, slot: int) -> Any:
        if self.store is None:
            return None
        try:
            self.store.mkdir(parents=True, exist_ok=True)
            return open(self.store / f".render-{slot}.lock", "a+b")  # noqa: SIM115
        except OSError:
            return None

    # A version is pending from the moment its write commits until that write is answered;
    # meanwhile its writer renders the surfaces readers are asking for (see `prepare`).
    # A marker file tells the other processes of this host; one older than a minute is a
    # crashed writer's and counts for nothing.
    def mark_pending(self, versions: list[int]) -> None:
        self._pending.update(versions)
        for version in versions:
            with contextlib.suppress(OSError):
                if self.store is not None:
                    self.store.mkdir(parents=True, exist_ok=True)
                    (self.store / f".pending-{version}").touch()

    def clear_pending(self, versions: list[int]) -> None:
        for version in versions:
            self._pending.discard(version)
            if self.store is not None:
                (self.store / f".pending-{version}").unlink(missing_ok=True)

    def pending(self, version: int) -> bool:
        if version in self._pending:
            return True
        if self.store is None:
            return False
        try:
            marked = (self.store / f".pending-{version}").stat().st_mtime
        except OSError:
            return False
        return time.time() - marked < PENDING_FOR_AT_MOST

    def servable(self, snapshot: Snapshot, version: int, *, preparing: bool) -> bool:
        """Whether `snapshot` may be served when the page is at `version`: it is that
        version, or an earlier one while every version since is pending (made by a write
        not answered yet, whose writer is rendering them). A render for a write (`preparing`)
        wants that version itself."""
        behind = version - snapshot.version
        return behind == 0 or (
            not preparing
            and 0 < behind <= 8
            and all(self.pending(v) for v in range(snapshot.version + 1, version + 1))
        )

    def _path(self, key: str) -> Path:
        assert self.store is not None
        return self.store / quote(key, safe="")

    def _write(self, key: str, snapshot: Snapshot) -> None:
        try:
            self.store.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            modified = snapshot.last_modified.isoformat() if snapshot.last_modified else ""
            header = (
                f"{snapshot.version}\n{snapshot.status}\n{snapshot.content_type}\n"
                f"{snapshot.etag}\n{modified}\n"
            )
            write_atomically(self._path(key), header.encode() + snapshot.body)
        except OSError:  # a read-only or full disk must not break serving from memory
            log.warning("could not store snapshot %s", key, exc_info=True)

    def _read(self, key: str) -> Snapshot | None:
        if self.store is None:
            return None
        try:
            raw = self._path(key).read_bytes()
        except OSError:
            return None
        version, status, content_type, etag, modified, body = raw.split(b"\n", 5)
        return Snapshot(
            int(version),
            int(status),
            body,
            content_type.decode(),
            etag.decode(),
            datetime.fromisoformat(modified.decode()) if modified else None,
        )


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


_VERSION_SQL = "SELECT version, updated_at FROM page_state WHERE id = 1"


class VersionReader:
    """The page version, the one query of the public read path. It runs on the hot path, so
    it skips the ORM, Core and the pool: each thread keeps a connection of its own, in
    autocommit, with no liveness ping on checkout (the query is the ping: when it fails,
    the connection is dropped, the error raised, and the next read connects afresh).
    Disposing of the app's engine (as after a fork or an outage) drops these as well."""

    def __init__(self, engine: Any, reuse_for: float = 0.0) -> None:
        self.engine = make_engine(
            engine.url.render_as_string(hide_password=False), poolclass=NullPool
        )
        self.reuse_for = reuse_for
        self._local = threading.local()
        self._generation = 0
        self._last: tuple[float, int, datetime | None] | None = None
        self.queries = 0
        event.listen(engine, "engine_disposed", self.dispose)

    def current(self, *, fresh: bool = False) -> tuple[int, datetime | None]:
        """The page version, read at most once per `reuse_for` seconds by this process.

        Safe for read-your-writes across processes and hosts because every write that
        changes the page waits `reuse_for` after its commit before it is answered (see
        `_prepare_every_new_version`): a version read before that commit was read (its
        query started) before it, so it has expired by the time anyone hears of the write.
        """
        last = self._last
        started = time.monotonic()
        if not fresh and last is not None and started - last[0] < self.reuse_for:
            return last[1], last[2]
        version, updated = self.read()
        if self._last is None or self._last[0] < started:
            self._last = (started, version, updated)
        return version, updated

    def dispose(self, *_: Any) -> None:
        self._generation += 1
        self._drop()  # this thread's at once (before a fork, say); the others' on next use

    def read(self) -> tuple[int, datetime | None]:
        connection = self._connection()
        try:
            cursor = connection.cursor()
            cursor.execute(_VERSION_SQL)
            row = cursor.fetchone()
            cursor.close()
        except BaseException:
            self._drop()
            raise
        self.queries += 1
        if row is None:
            return 1, None
        updated = row[1]
        if isinstance(updated, str):  # SQLite hands back text
            updated = datetime.fromisoformat(updated)
        if updated is not None and updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)
        return int(row[0]), updated

    def _connection(self) -> Any:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            self._drop()
        if getattr(local, "connection", None) is None:
            connection = self.engine.raw_connection()
            if self.engine.dialect.name != "sqlite":  # SQLite's is in autocommit already
                connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            local.connection, local.generation = connection, self._generation
        return local.connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()


def _not_modified(snapshot: Snapshot) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(snapshot.etag)
    since = request.if_modified_since
    return (
        since is not None
        and snapshot.last_modified is not None
        and snapshot.last_modified.replace(microsecond=0) <= since
    )


def _respond(snapshot: Snapshot, stale: bool = False) -> Response:
    not_modified = _not_modified(snapshot)
    if not_modified:
        response = Response(status=304)
    else:
        response = Response(
            snapshot.body, status=snapshot.status, content_type=snapshot.content_type
        )
    response.headers.update(snapshot.headers)
    if stale:
        response.headers["Warning"] = '110 - "Response is stale: database unreachable"'
    else:  # SnapshotMiddleware keeps what goes out, to answer the next hits itself
        request.environ[_SERVED] = (snapshot, not_modified)
    return response


def snapshot(view: Callable[..., Any]) -> Callable[..., Response]:
    """Serve `view` from the snapshot of the current data version (keyed by path only, so a
    query string can neither bust the cache nor change what is served)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        cache: SnapshotCache = app.extensions[EXTENSION]
        key = request.path
        try:
            version, updated_at = cache.versions.current(fresh=_PREPARING in request.environ)
        except (SQLAlchemyError, database(app).engine.dialect.loaded_dbapi.Error):
            found = cache.last_good(key)
            if found is None:
                raise DatabaseUnavailable() from None
            return _respond(found, stale=True)
        found = cache.get(key)
        if found is None or found.version != version:  # another process may have rendered it
            stored = cache.stored(key, version)
            if stored is not None and (found is None or stored.version > found.version):
                found = stored
        if found is not None and found.version == version:
            return _respond(found)
        previous = found
        # Until the writes that made the versions since are answered, the previous version
        # is everyone's truth: readers keep getting it instead of queueing behind the render.
        wait = previous is None or not cache.servable(
            previous, version, preparing=_PREPARING in request.environ
        )
        with cache.lock_for(key, wait=wait) as held:
            if not held:
                return _respond(previous)  # type: ignore[arg-type]
            found = cache.get(key)
            if found is None or found.version != version:
                found = cache.stored(key, version)
            if found is None or found.version != version:
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code not in (200, 404) or response.is_streamed:
                    return response
                body = response.get_data()
                found = Snapshot(
                    version=version,
                    status=response.status_code,
                    body=body,
                    content_type=response.content_type or "text/html",
                    etag=hashlib.sha256(body).hexdigest()[:32],
                    last_modified=updated_at,
                )
                cache.put(key, found)
        return _respond(found)

    wrapped.is_snapshot = True  # type: ignore[attr-defined]
    return wrapped


_SERVED = "statusboard.snapshot"
_PREPARING = "statusboard.preparing"  # a render for a write, never answered from before it


@dataclass
class Wire:
    """A snapshot as it last went out through Flask: status line and headers (after every
    after_request hook), for the 200 answer and, once one was sent, the 304 answer."""

    snapshot: Snapshot
    status: str
    headers: list[tuple[str, str]]
    not_modified: list[tuple[str, str]] | None = None
    asked: float = field(default_factory=time.monotonic)  # when a reader last asked for it


class SnapshotMiddleware:
    """Answers hits on public surfaces before Flask: the same version check, the same bytes
    and the same headers Flask sent for that snapshot, without routing, contexts or hooks.
    Everything else (a miss, a new version, a database outage, If-Modified-Since without an
    ETag) goes to Flask, which renders, stores and serves as usual."""

    def __init__(self, app: Flask, cache: SnapshotCache, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.cache = cache
        self.wsgi_app = wsgi_app
        self.wires: dict[str, Wire] = {}
        self.capacity = 4096

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        wire = self.wires.get(path)
        if wire is not None:
            wire.asked = time.monotonic()
            answer = self._answer(wire, environ)
            if answer is not None:
                status, headers = answer
                start_response(status, headers)
                return [wire.snapshot.body] if method == "GET" and status[:3] != "304" else []
        if method == "HEAD":
            return self.wsgi_app(environ, start_response)

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            served = environ.get(_SERVED)
            if served is not None and exc_info is None:
                self._keep(path, served[0], served[1], status, headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, keep)

    def _answer(
        self, wire: Wire, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]]] | None:
        try:
            version, _ = self.cache.versions.current(fresh=_PREPARING in environ)
        except Exception:  # an outage is Flask's to answer (stale snapshot or error page)
            return None
        if not self.cache.servable(wire.snapshot, version, preparing=_PREPARING in environ):
            return None  # a new version: Flask's to find or render
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            if not parse_etags(if_none_match).contains(wire.snapshot.etag):
                return wire.status, wire.headers
            if wire.not_modified is None:
                return None
            return "304 NOT MODIFIED", wire.not_modified
        if environ.get("HTTP_IF_MODIFIED_SINCE"):
            return None
        return wire.status, wire.headers

    def _keep(
        self,
        path: str,
        snapshot: Snapshot,
        not_modified: bool,
        status: str,
        headers: list[tuple[str, str]],
    ) -> None:
        if any(name.lower() in ("set-cookie", "warning") for name, _ in headers):
            return  # meant for one client or one moment: never repeated to others
        kept = [(name, value) for name, value in headers if name.lower() != "date"]
        wire = self.wires.get(path)
        if not_modified:
            if wire is not None and wire.snapshot is snapshot:
                wire.not_modified = kept
            return
        if wire is None or wire.snapshot.version <= snapshot.version:
            if len(self.wires) >= self.capacity:
                self.wires.pop(next(iter(self.wires)), None)
            self.wires[path] = Wire(snapshot, status, kept)

    def prepare(self, limit: int = 32) -> None:
        """Render the new version of what readers asked for in the last minute, before the
        write that made it is answered (or for PREPARE_AT_MOST): the next reader anywhere on
        this host finds it ready, and no reader queues behind a render (see `pending`). Runs
        on a thread of its own so each render has fresh contexts and sessions, apart from the
        writer's."""
        now = time.monotonic()
        recent = sorted(
            (
                (wire.asked, path)
                for path, wire in list(self.wires.items())
                if now - wire.asked < HOT_FOR
            ),
            reverse=True,
        )
        paths = [path for _, path in recent[:limit]]
        if not paths:
            return
        renderer = threading.Thread(
            target=self._render, args=(paths,), daemon=True, name="snapshot-prepare"
        )
        renderer.start()
        renderer.join(timeout=PREPARE_AT_MOST)
        if renderer.is_alive():  # answer the writer; readers now wait for what is left
            log.info(
                "still preparing %d surfaces after %.1fs; answering the write",
                len(paths),
                PREPARE_AT_MOST,
            )

    def _render(self, paths: list[str]) -> None:
        client = self.app.test_client()
        for path in paths:
            try:
                client.get(path, environ_overrides={_PREPARING: True})
            except Exception:  # a reader will render it, and hit the same error, later
                log.exception("could not prepare %s", path)


def _prepare_every_new_version(app: Flask, middleware: SnapshotMiddleware) -> None:
    """A write that changes the page announces its versions as pending before it commits,
    renders them after, and only then is answered (the hooks run inside `commit()`)."""
    sessions, cache = database(app).sessions, middleware.cache

    def announce(session: Any) -> None:
        versions = session.info.get(NEW_VERSIONS)
        if versions:
            cache.mark_pending(versions)

    def prepare(session: Any) -> None:
        versions = session.info.pop(NEW_VERSIONS, None)
        if versions:
            committed = time.monotonic()
            try:
                middleware.prepare()
            finally:
                cache.clear_pending(versions)
            # Versions read before the commit may be reused that long: outlast them.
            time.sleep(max(0.0, cache.versions.reuse_for - (time.monotonic() - committed)))

    def forget(session: Any) -> None:
        versions = session.info.pop(NEW_VERSIONS, None)
        if versions:
            cache.clear_pending(versions)

    event.listen(sessions, "before_commit", announce)
    event.listen(sessions, "after_commit", prepare)
    event.listen(sessions, "after_rollback", forget)


class _PublicAwareSessions(SecureCookieSessionInterface):
    """Never touch the session cookie on snapshot responses: a Set-Cookie or "Vary: Cookie"
    makes every proxy and CDN cache skip them (a logged-in operator reading the page would
    otherwise get one through Flask-Login's remember-cookie check)."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "is_snapshot", False):
            return
        super().save_session(app, session, response)


def register_snapshots(app: Flask) -> None:
    # One store per database, so versions of two databases never mix.
    database_key = hashlib.sha256(settings_of(app).database_url.encode()).hexdigest()
    store = Path(settings_of(app).web.snapshot_dir) / database_key[:12]
    versions = VersionReader(
        database(app).engine, reuse_for=settings_of(app).web.version_reuse_ms / 1000
    )
    cache = app.extensions[EXTENSION] = SnapshotCache(store, versions)
    app.session_interface = _PublicAwareSessions()
    middleware = SnapshotMiddleware(app, cache, app.wsgi_app)
    app.wsgi_app = middleware  # type: ignore[method-assign]
    _prepare_every_new_version(app, middleware)
