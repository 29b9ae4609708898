"""Declarative base, naming convention and the aware-UTC datetime column type."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session

from statusboard.domain.text import has_forbidden, printable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # no i, l, o, u: unambiguous when read aloud


def new_public_id() -> str:
    """A 12-character id for URLs, feeds and posts; row ids never leave the database."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum_values(members: Any) -> list[str]:
    return [member.value for member in members]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # StrEnums are stored as their lowercase values in a VARCHAR: no native enum types, so
    # adding a value never needs a database-specific migration.
    type_annotation_map: dict[Any, Any] = {
        datetime: UTCDateTime(),
        StrEnum: Enum(
            StrEnum,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=_enum_values,
            validate_strings=True,
        ),
    }


@event.listens_for(Session, "before_flush")
def _strip_unprintable_text(session: Session, _context: Any, _instances: Any) -> None:
    """The last line of defence behind domain/text.py's `clean` at the edges, which refuses
    such text with a field error: whatever a path that forgot it writes (a new command, an
    import, a network's error message) loses its NUL, control characters and unpaired
    surrogates here, so it can neither break a feed nor fail in the database. Only values
    being written are looked at."""
    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for attribute in state.mapper.column_attrs:
            if instance in session.new:
                value = state.dict.get(attribute.key)
            else:
                added = state.attrs[attribute.key].history.added
                value = added[0] if added else None
            if isinstance(value, str) and has_forbidden(value):
                setattr(instance, attribute.key, printable(value))
