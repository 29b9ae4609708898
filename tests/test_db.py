"""Sessions that must write: SQLite's write lock taken up front, every transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from statusboard.db import database


def test_a_write_locked_session_takes_the_lock_for_every_transaction(app):
    db = database(app)
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL locks rows instead")
    begins: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        # An API request: the token's last use is committed, then the update is written.
        # A deferred second BEGIN would fail at once with "database is locked" if another
        # process committed between its read and its write.
        session = db.open_session(write_lock=True)
        session.execute(select(1))
        session.commit()
        session.execute(text("UPDATE page_state SET version = version WHERE id = 1"))
        session.commit()
        db.close_session(session)
        with db.session() as plain:  # the pooled connection went back without the lock mode
            plain.execute(select(1))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert begins == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE", "BEGIN"]
