"""The page version: every change customers could see bumps it, inside the same transaction,
so caches and snapshots keyed on it are never older than the data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.db import upsert_insert
from statusboard.models import PageState, RenderedSurface

# session.info key: the version this transaction bumped the page to (the read path renders the
# page once it committed, web/snapshots.py).
BUMPED = "statusboard.page_version_bumped"


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
    session.info[BUMPED] = version
    return version


def start_the_day(session: Session, *, zone: str, now: datetime) -> bool:
    """Bump the version on the first check of a new day in the page's time zone: the uptime
    bars, the days of recent history and "today" move on at midnight, not at the next write,
    and every cached or exported copy follows. True when it did."""
    changed_at = current_version(session)[1]
    if changed_at is None:
        return False
    local = ZoneInfo(zone)
    if changed_at.astimezone(local).date() >= now.astimezone(local).date():
        return False
    bump_version(session)
    return True


def current_version(session: Session) -> tuple[int, datetime | None]:
    row = session.execute(
        select(PageState.version, PageState.updated_at).where(PageState.id == 1)
    ).first()
    return (row[0], row[1]) if row else (1, None)


RENDERED_COLUMNS = ("path", "version", "content_type", "etag", "last_modified", "body")


def publish(session: Session, surfaces: list[RenderedSurface]) -> None:
    """Keep `surfaces`, rendered at one version, and mark that version published, unless a
    newer one was published meanwhile (two writers render in either order)."""
    version = surfaces[0].version
    published = update(PageState).where(PageState.id == 1, PageState.published < version)
    if session.execute(published.values(published=version)).rowcount == 0:  # type: ignore[attr-defined]
        return
    insert = upsert_insert(session.get_bind().dialect.name)
    for surface in surfaces:
        values = {column: getattr(surface, column) for column in RENDERED_COLUMNS}
        session.execute(
            insert(RenderedSurface)
            .values(**values)
            .on_conflict_do_update(index_elements=["path"], set_=values)
        )


def rendered(session: Session, path: str, at_least: int) -> RenderedSurface | None:
    """The published rendering of `path`, if it is of version `at_least` or newer."""
    return session.scalar(
        select(RenderedSurface).where(
            RenderedSurface.path == path, RenderedSurface.version >= at_least
        )
    )
