"""The page version: every change customers could see bumps it, inside the same transaction,
so caches and snapshots keyed on it are never older than the data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.db import upsert_insert
from statusboard.models import PageState


def bump_version(session: Session) -> int:
    bump = (
        update(PageState)
        .where(PageState.id == 1)
        .values(version=PageState.version + 1, updated_at=clock.now())
        .returning(PageState.version)
    )
    version = session.execute(bump).scalar_one_or_none()
    if version is None:
        # No row yet (the migrations create it; an emptied database may lack it): create it
        # so that two writers doing this at once do not collide, then bump it.
        insert = upsert_insert(session.get_bind().dialect.name)
        session.execute(
            insert(PageState)
            .values(id=1, version=1, updated_at=clock.now())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        version = session.execute(bump).scalar_one()
    return version


def current_version(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(
        select(PageState.version, PageState.updated_at).where(PageState.id == 1)
    ).first()
    return (row[0], row[1]) if row else (1, None)
