"""Reading JSON bodies for the operator API: shape only, every error naming its field.

Malformed JSON, or anything but an object, is a 400; a missing, unknown or ill-typed field is
a 422 naming that field. The rules themselves (promises in the future, transitions ...) stay
in the services, which report their own fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any, Literal, TypeVar, overload

from flask import request
from sqlalchemy.orm import Session

from statusboard.domain import text as domain_text
from statusboard.domain.errors import DomainError, InvalidInput
from statusboard.domain.statuses import ComponentStatus
from statusboard.models import Component
from statusboard.services.components import find_component

E = TypeVar("E", bound=StrEnum)


class MalformedBody(DomainError):
    code = "malformed_json"
    http_status = 400


class Missing(Enum):
    """A field that was not sent at all (as opposed to sent as null)."""

    FIELD = "missing"


MISSING = Missing.FIELD
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# Every object the API takes is two levels deep; anything much deeper is an attack on the
# parser, refused before it costs stack or time.
MAX_DEPTH = 32


def _check_shape(data: dict[str, Any]) -> None:
    """Not too deep, and no string anywhere (keys included) that domain/text.py refuses:
    such a string would fail in the database even as a lookup key."""
    stack: list[tuple[str, Any, int]] = [(name, value, 2) for name, value in data.items()]
    for name in data:
        domain_text.clean(name, field=name, label="field name")
    while stack:
        field, item, level = stack.pop()
        if level > MAX_DEPTH:
            raise MalformedBody(f"the body is nested too deeply (at most {MAX_DEPTH})")
        if isinstance(item, str):
            domain_text.clean(item, field=field)
        elif isinstance(item, dict):
            for key, child in item.items():
                domain_text.clean(key, field=field)
                stack.append((field, child, level + 1))
        elif isinstance(item, list):
            stack.extend((field, child, level + 1) for child in item)


class Body:
    """The request's JSON object, read field by field."""

    def __init__(self, allowed: Collection[str], nullable: Collection[str] = ()) -> None:
        """`nullable` names the fields that may be sent as null; any other is refused."""
        raw = request.get_data(cache=True)
        try:
            data = json.loads(raw) if raw.strip() else {}
        except RecursionError:
            raise MalformedBody(f"the body is nested too deeply (at most {MAX_DEPTH})") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedBody(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise MalformedBody("the body must be a JSON object")
        _check_shape(data)
        for name in data:
            if name not in allowed:
                raise InvalidInput(
                    f"unknown field {name!r}; expected one of {', '.join(sorted(allowed))}",
                    field=name,
                )
            if data[name] is None and name not in nullable:
                raise InvalidInput(f"{name} cannot be null; leave it out instead", field=name)
        self.data: dict[str, Any] = data

    def has(self, name: str) -> bool:
        return name in self.data

    def _value(self, name: str, required: bool) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise InvalidInput(f"{name} is required", field=name)
            return None
        return self.data[name]

    @overload
    def text(
        self,
        name: str,
        *,
        required: Literal[True],
        max_length: int | None = None,
        one_line: bool = True,
    ) -> str: ...
    @overload
    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        one_line: bool = True,
    ) -> str | None: ...
    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        one_line: bool = True,
    ) -> str | None:
        """The field normalised by the domain's one rule for text (domain/text.py)."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string", field=name)
        return domain_text.clean(value, field=name, max_length=max_length, one_line=one_line)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._value(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false", field=name)
        return value

    @overload
    def choice(self, name: str, enum: type[E], *, required: Literal[True]) -> E: ...
    @overload
    def choice(self, name: str, enum: type[E], *, required: bool = False) -> E | None: ...
    def choice(self, name: str, enum: type[E], *, required: bool = False) -> E | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            raise InvalidInput(
                f"{name} must be one of {', '.join(m.value for m in enum)}", field=name
            ) from None

    def timestamp(self, name: str) -> datetime | None | Missing:
        """RFC 3339 with an offset; null means "unknown"; absent means "not given"."""
        if name not in self.data:
            return MISSING
        value = self.data[name]
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be an RFC 3339 timestamp or null", field=name)
        try:
            if not RFC3339.match(value):
                raise ValueError
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{name} must be an RFC 3339 timestamp such as 2026-11-24T15:00:00Z", field=name
            ) from None
        if parsed.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone offset, e.g. Z or +01:00", field=name)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(f"{name} is out of range", field=name) from None

    def day(self, name: str) -> date | None:
        """A calendar date, "YYYY-MM-DD"; absent or null means none."""
        value = self.data.get(name)
        if value is None:
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name} must be a date such as 2026-12-01", field=name) from None

    def required_timestamp(self, name: str) -> datetime:
        value = self.timestamp(name)
        if value is None or value is MISSING:
            raise InvalidInput(f"{name} is required", field=name)
        return value

    def components(self, session: Session, name: str = "components") -> list[Component]:
        """["<component id>", ...]; empty when not sent."""
        value = self._value(name, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f'{name} must list component ids, e.g. ["abc123"]', field=name)
        found = []
        for public_id in value:
            try:
                found.append(find_component(session, public_id))
            except DomainError:
                raise InvalidInput(f"no component {public_id}", field=name) from None
        return found

    def component_changes(
        self, session: Session, name: str = "components"
    ) -> dict[Component, ComponentStatus] | None:
        """{"<component id>": "<status>", ...}; None when not sent."""
        value = self._value(name, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InvalidInput(
                f'{name} must map component ids to statuses, e.g. {{"abc123": "major_outage"}}',
                field=name,
            )
        changes: dict[Component, ComponentStatus] = {}
        for public_id, status in value.items():
            try:
                component = find_component(session, public_id)
            except DomainError:
                raise InvalidInput(f"no component {public_id}", field=name) from None
            try:
                changes[component] = ComponentStatus(status)
            except ValueError:
                raise InvalidInput(
                    f"status for {public_id} must be one of "
                    f"{', '.join(s.value for s in ComponentStatus)}",
                    field=name,
                ) from None
        return changes
