"""Engine and sessions. Views get one session per request (`db_session()`); jobs and
commands open their own with `Database.session()`. The edge that opens a session commits it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "statusboard.db"
T = TypeVar("T")
# SQLite's "database is locked"/"busy", PostgreSQL's lock timeouts, deadlocks and
# serialization failures: another writer was in the way, and trying again can succeed.
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}


class DatabaseBusy(RuntimeError):
    """Another writer held the database for longer than a command is willing to wait."""


def is_busy(error: DBAPIError) -> bool:
    if getattr(error.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def make_engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if "poolclass" not in options:
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 10)
    return create_engine(url, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN defers locking badly).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # single-statement reads (the public version check) need no transaction
    # BEGIN IMMEDIATE when a caller asked for a write lock up front (claims in the worker,
    # write requests), for every transaction of that session: a later deferred BEGIN that
    # reads and then writes fails at once ("database is locked") if another process committed
    # in between, instead of waiting its turn.
    connection.exec_driver_sql(connection.info.get("sqlite_begin", "BEGIN"))


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open_session(self, *, write_lock: bool = False) -> Session:
        """A new session; close it with `close_session`. `write_lock` takes SQLite's write
        lock when the transaction begins (BEGIN IMMEDIATE): a read that later turns into a
        write then waits its turn instead of failing when another process committed in
        between, and two workers reading the same due rows cannot both act on them.
        PostgreSQL needs none of this (row locks)."""
        if not (write_lock and self.dialect == "sqlite"):
            return self.sessions()
        connection = self.engine.connect()
        connection.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        session = self.sessions(bind=connection)
        session.info["own_connection"] = connection
        return session

    @staticmethod
    def close_session(session: Session) -> None:
        session.close()
        connection = session.info.pop("own_connection", None)
        if connection is not None:
            connection.info.pop("sqlite_begin", None)  # the pooled connection goes back plain
            connection.close()

    @contextmanager
    def session(self, *, write_lock: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.open_session(write_lock=write_lock)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self.close_session(session)

    def write(self, work: Callable[[Session], T], *, patience: float = 60.0) -> T:
        """Run `work` in one write-locked transaction, as web writes do, and commit. While
        another writer is in the way it is tried again with growing, jittered pauses, for
        at most `patience` seconds in all; then DatabaseBusy says so and nothing changed.
        `work` may run more than once: it must only touch the session."""
        deadline = time.monotonic() + patience
        pause = 0.05
        while True:
            try:
                with self.session(write_lock=True) as session:
                    return work(session)
            except DBAPIError as exc:
                if not is_busy(exc):
                    raise
                if time.monotonic() + pause > deadline:
                    raise DatabaseBusy(
                        f"the database stayed busy with other writes for {patience:.0f} s; "
                        "nothing was changed. Try again."
                    ) from exc
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 2.0)


def register_database(app: Flask) -> None:
    from statusboard.config import settings_of

    app.extensions[EXTENSION] = Database(settings_of(app).database_url)
    app.teardown_appcontext(_close_request_session)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION]


def db_session() -> Session:
    """The request's session, opened on first use; a request that may write (any method but
    GET/HEAD/OPTIONS) takes the write lock up front (see Database.open_session)."""
    if "db_session" not in g:
        g.db_session = database().open_session(
            write_lock=request.method not in {"GET", "HEAD", "OPTIONS"}
        )
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        Database.close_session(session)


def upsert_insert(dialect: str) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT DO NOTHING (PostgreSQL and SQLite)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
