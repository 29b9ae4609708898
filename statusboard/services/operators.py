"""Operator accounts: add, authenticate, change settings. Passwords hashed with argon2."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.domain.errors import Conflict, InvalidInput, NotFound
from statusboard.models import Operator, Role
from statusboard.services import audit
from statusboard.services.audit import Actor

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps a login for an unknown email as slow as for a known one.
    Made on first use: argon2 takes 64 MiB, which no worker that never logs anyone in needs."""
    return _hasher.hash("statusboard-dummy-password")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("enter a valid email address", field="email")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"use at least {MIN_PASSWORD_LENGTH} characters", field="password")
    return password


def add_operator(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role = Role.OPERATOR,
    actor: Actor,
) -> Operator:
    email = normalize_email(email)
    name = name.strip()
    if not name:
        raise InvalidInput("enter a name", field="name")
    check_password(password)
    if session.scalar(select(Operator.id).where(Operator.email == email)) is not None:
        raise Conflict(f"an operator with email {email} already exists", field="email")
    operator = Operator(email=email, name=name, password_hash=_hasher.hash(password), role=role)
    session.add(operator)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="operator.add",
        subject_type="operator",
        subject_id=str(operator.id),
        email=email,
        role=role.value,
    )
    return operator


def authenticate(session: Session, *, email: str, password: str) -> Operator | None:
    operator = session.scalar(select(Operator).where(Operator.email == email.strip().lower()))
    try:
        _hasher.verify(operator.password_hash if operator else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if operator is None or not operator.active:
        return None
    if _hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = _hasher.hash(password)
    operator.last_login_at = clock.now()
    return operator


def set_password(session: Session, *, operator: Operator, password: str, actor: Actor) -> None:
    operator.password_hash = _hasher.hash(check_password(password))
    audit.record(
        session,
        actor=actor,
        action="operator.password",
        subject_type="operator",
        subject_id=str(operator.id),
    )


def update_profile(
    session: Session, *, operator: Operator, name: str, sign_updates: bool, actor: Actor
) -> None:
    name = name.strip()
    if not name:
        raise InvalidInput("enter a name", field="name")
    operator.name = name
    operator.sign_updates = sign_updates
    audit.record(
        session,
        actor=actor,
        action="operator.profile",
        subject_type="operator",
        subject_id=str(operator.id),
        name=name,
        sign_updates=sign_updates,
    )


def count_operators(session: Session) -> int:
    return session.scalar(select(func.count(Operator.id))) or 0


def all_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def find_active_operator(session: Session, email: str) -> Operator:
    """The operator a command acts as: writes are audited as them, so they must exist and be
    active (a deactivated operator can no more post from a script than log in)."""
    wanted = (email or "").strip().lower()
    operator = session.scalar(select(Operator).where(Operator.email == wanted))
    if operator is None:
        raise NotFound(f"no operator with email {email.strip()}", field="operator")
    if not operator.active:
        raise InvalidInput(f"{operator.email} is deactivated", field="operator")
    return operator
