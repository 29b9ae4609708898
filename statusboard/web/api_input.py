"""Reading JSON bodies for the operator API: shape only, every error naming its field.

Malformed JSON, or anything but an object, is a 400; a missing, unknown or ill-typed field is
a 422 naming that field. The rules themselves (promises in the future, transitions ...) stay
in the services, which report their own fields.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Literal, TypeVar, overload

from flask import request
from sqlalchemy.orm import Session

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


class Body:
    """The request's JSON object, read field by field."""

    def __init__(self, allowed: Collection[str]) -> None:
        raw = request.get_data(cache=True)
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedBody(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise MalformedBody("the body must be a JSON object")
        for name in data:
            if name not in allowed:
                raise InvalidInput(
                    f"unknown field {name!r}; expected one of {', '.join(sorted(allowed))}",
                    field=name,
                )
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
    def text(self, name: str, *, required: Literal[True]) -> str: ...
    @overload
    def text(self, name: str, *, required: bool = False) -> str | None: ...
    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._value(name, required)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string", field=name)
        return value

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
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{name} must be an RFC 3339 timestamp such as 2026-11-24T15:00:00Z", field=name
            ) from None
        if parsed.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone offset, e.g. Z or +01:00", field=name)
        return parsed

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
