"""The page version a public request checks (page_state: the data version, the version
published by the last write, the time of the last change)."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, event

from statusboard import clock

# How long readers keep answering the published version of the hot surfaces (snapshots.HOT)
# while a newer one is being rendered by its writer: past it (the writer died, the write came
# from outside the app), they render it themselves.
PUBLISHING = timedelta(seconds=5)


class PageVersion(NamedTuple):
    version: int
    published: int  # the version of the surfaces in rendered_surface
    changed_at: Any  # page_state.updated_at as the driver returns it (text on SQLite)

    def publishing(self) -> bool:
        """Whether the newest version is young enough for its writer to be rendering it."""
        changed = self.changed_at
        if isinstance(changed, str):
            changed = datetime.fromisoformat(changed)
        if changed is None:
            return False
        if changed.tzinfo is None:
            changed = changed.replace(tzinfo=UTC)
        return clock.now() - changed < PUBLISHING


class VersionReader:
    """The page version, the one query of a public request, on a DBAPI connection of its own
    in autocommit: no pool checkout, liveness ping or BEGIN/COMMIT per request, and no Core
    execution either: measured here, a read through Core's `exec_driver_sql` took 130 µs, the
    DBAPI cursor 20 µs (SQLite, same connection), on a path whose whole budget is a few
    hundred µs.

    On SQLite each thread has its own connection (a file handle, nothing on a server): with
    one shared by a process's 8 threads, py-spy found its threads waiting for that
    connection's lock in 11 % of their samples under 64 connections. On PostgreSQL one per
    process, taken from the app's pool: a server is not asked for a connection per thread
    of every web process (8 x 8 of them ran out of `max_connections`), and 4 per process
    bought nothing (benchmarks/surge.py: `/` 4,474 and 4,706 req/s against 4,627 with one)
    while the busier server slowed the writes' publication (write p95 676 and 712 ms against
    384). Each read costs 50 µs of the web process's CPU in psycopg and a round trip.

    A failed read drops the connection; the next one connects afresh. Disposing of the engine
    (after an outage, before a fork) drops them all."""

    SQL = "SELECT version, published, updated_at FROM page_state WHERE id = 1"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None
        self._own = threading.local()
        self._generation = 0  # bumped when the engine is disposed: every connection is dropped
        self._per_thread = engine.dialect.name == "sqlite"
        event.listen(engine, "engine_disposed", self._forget)

    def read(self) -> PageVersion:
        row = self._read_own() if self._per_thread else self._read_shared()
        return PageVersion(*row) if row else PageVersion(1, 0, None)

    def _read_own(self) -> Any:
        own = self._own
        if getattr(own, "generation", None) != self._generation:
            arguments, options = self.engine.dialect.create_connect_args(self.engine.url)
            own.connection = self.engine.dialect.loaded_dbapi.connect(*arguments, **options)
            own.generation = self._generation
        try:
            return own.connection.execute(self.SQL).fetchone()
        except BaseException:
            own.generation = None
            raise

    def _read_shared(self) -> Any:
        with self._lock:
            if self._connection is None:
                connection = self.engine.raw_connection()
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
        return row

    def _forget(self, *_: Any) -> None:
        with self._lock:
            self._drop()
            self._generation += 1

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()
