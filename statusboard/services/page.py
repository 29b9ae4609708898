"""The page version: every change customers could see bumps it, inside the same transaction,
so caches and snapshots keyed on it are never older than the data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.models import PageState


def bump_version(session: Session) -> int:
    version = session.execute(
        update(PageState)
        .where(PageState.id == 1)
        .values(version=PageState.version + 1, updated_at=clock.now())
        .returning(PageState.version)
    ).scalar_one_or_none()
    if version is None:
        version = 2
        session.add(PageState(id=1, version=version, updated_at=clock.now()))
        session.flush()
    return version


def current_version(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(
        select(PageState.version, PageState.updated_at).where(PageState.id == 1)
    ).first()
    return (row[0], row[1]) if row else (1, None)
