"""Domain errors. Raised by services, mapped to HTTP once in web/errors.py."""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. `field` names the input at fault, when there is one."""

    code = "invalid"
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "invalid_input"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


class PromiseInThePast(DomainError):
    code = "promise_in_the_past"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class NeedsConfirmation(InvalidInput):
    """Allowed, but only once the operator confirms it (e.g. maintenance in peak hours)."""

    code = "needs_confirmation"
