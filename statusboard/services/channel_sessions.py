"""Network logins kept between runs (Bluesky rate-limits logins): the database-backed store
the factory gives the Bluesky channel."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.channels.bluesky import SessionStore
from statusboard.db import Database
from statusboard.models import ChannelSession


def database_session_store(db: Database, channel: str) -> SessionStore:
    def load() -> str | None:
        with db.session() as session:
            row = session.get(ChannelSession, channel)
            return row.data if row else None

    def save(value: str) -> None:
        with db.session() as session:
            _save(session, channel, value)

    return SessionStore(load, save)


def _save(session: Session, channel: str, value: str) -> None:
    # Write first (no read): SQLite then takes its write lock directly instead of upgrading a
    # read snapshot, which WAL refuses when another worker wrote in between.
    result = session.execute(
        update(ChannelSession)
        .where(ChannelSession.channel == channel)
        .values(data=value, updated_at=clock.now())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(ChannelSession(channel=channel, data=value, updated_at=clock.now()))
        except IntegrityError:
            pass  # another worker saved its login at the same moment: either will do
