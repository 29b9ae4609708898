"""Operator accounts: add, authenticate, change settings. Passwords hashed with argon2."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.domain import text
from statusboard.domain.errors import Conflict, InvalidInput, NotFound
from statusboard.models import Operator, Role
from statusboard.services import audit
from statusboard.services.audit import Actor

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; a megabyte "password" is an attack
# zxcvbn's score (0-4) estimates guesses against common passwords, words, names, dates,
# keyboard patterns and repeats: 3 means "safely unguessable" for an online attack.
MIN_PASSWORD_SCORE = 3


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


def check_password(password: str, *, email: str = "", name: str = "") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"use at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"use at most {MAX_PASSWORD_LENGTH} characters", field="password")
    from zxcvbn import zxcvbn  # its dictionaries take a while to load: only when needed

    verdict = zxcvbn(password, user_inputs=[part for part in (email, name) if part])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise InvalidInput(
            f"choose a stronger password: {hint.rstrip('.').lower()}. "
            "A few unrelated words make a strong one",
            field="password",
        )
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
    name = _clean_name(name)
    check_password(password, email=email, name=name)
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


def _clean_name(name: str) -> str:
    name = text.clean(name or "", field="name", one_line=True, max_length=text.OPERATOR_NAME)
    name = name.strip()
    if not name:
        raise InvalidInput("enter a name", field="name")
    return name


def set_password(session: Session, *, operator: Operator, password: str, actor: Actor) -> None:
    """A new password ends every session of the operator, this one included (the view that
    asked for it opens a new one)."""
    check_password(password, email=operator.email, name=operator.name)
    operator.password_hash = _hasher.hash(password)
    operator.end_sessions()
    audit.record(
        session,
        actor=actor,
        action="operator.password",
        subject_type="operator",
        subject_id=str(operator.id),
    )


def change_own_password(
    session: Session, *, operator: Operator, current: str, new: str, actor: Actor
) -> None:
    """An operator changing their own password proves they know the current one first: a
    session left open on a shared screen must not be enough to take the account."""
    try:
        _hasher.verify(operator.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise InvalidInput("that is not your current password", field="current_password") from None
    set_password(session, operator=operator, password=new, actor=actor)


def _remaining_admins(session: Session, *, without: Operator) -> int:
    """Active admins other than `without`. Every active admin's row is locked, in one order
    (PostgreSQL), so two admins demoting each other at the same moment take turns and the
    second sees the first's change; SQLite writes hold the database's write lock already."""
    ids = session.scalars(
        select(Operator.id)
        .where(Operator.role == Role.ADMIN, Operator.active.is_(True))
        .order_by(Operator.id)
        .with_for_update()
    ).all()
    return len([found for found in ids if found != without.id])


def _check_admin_stays(
    session: Session, *, operator: Operator, actor: Actor, change: str, command: str
) -> None:
    """Someone must always be able to manage the team: the last active admin cannot lose
    that, and an admin does not lock themselves out by a slip of the mouse (another admin,
    or `statusboard operator` on the server, can do it for them)."""
    if not (operator.is_admin and operator.active):
        return
    if actor.operator is not None and actor.operator.id == operator.id:
        raise Conflict(
            f"you cannot {change} yourself; ask another admin, or run "
            f"`statusboard operator {command}` on the server",
            field="operator",
        )
    if _remaining_admins(session, without=operator) == 0:
        raise Conflict(
            f"{operator.email} is the last active admin; make another operator admin "
            f"before you {change} them",
            field="operator",
        )


def set_role(session: Session, *, operator: Operator, role: Role, actor: Actor) -> None:
    """A new role ends the operator's sessions: what they may do is decided at login again."""
    role = Role(role)
    if operator.role is role:
        return
    if role is not Role.ADMIN:
        _check_admin_stays(
            session,
            operator=operator,
            actor=actor,
            change="demote",
            command=f"role {operator.email} {role.value}",
        )
    old = operator.role
    operator.role = role
    operator.end_sessions()
    audit.record(
        session,
        actor=actor,
        action="operator.role",
        subject_type="operator",
        subject_id=str(operator.id),
        email=operator.email,
        old=old.value,
        role=role.value,
    )


def set_active(session: Session, *, operator: Operator, active: bool, actor: Actor) -> None:
    """Deactivating ends every session of the operator at once; their tokens stop working
    because token authentication requires an active owner. Their name stays on what they
    posted, and reactivating gives them back the same account (a new login is needed)."""
    if operator.active is active:
        return
    if not active:
        _check_admin_stays(
            session,
            operator=operator,
            actor=actor,
            change="deactivate",
            command=f"deactivate {operator.email}",
        )
    operator.active = active
    operator.end_sessions()
    audit.record(
        session,
        actor=actor,
        action="operator.activate" if active else "operator.deactivate",
        subject_type="operator",
        subject_id=str(operator.id),
        email=operator.email,
    )


def set_on_call(session: Session, *, operator: Operator, on_call: bool, actor: Actor) -> None:
    """On-call operators get the nag at a promise's due time, with the incident's owner
    (services/nags.py); everyone else hears from the first escalation on."""
    if operator.on_call is on_call:
        return
    operator.on_call = on_call
    audit.record(
        session,
        actor=actor,
        action="operator.on_call",
        subject_type="operator",
        subject_id=str(operator.id),
        email=operator.email,
        on_call=on_call,
    )


def end_sessions(session: Session, *, operator: Operator) -> None:
    """Log out: every session of the operator ends, including cookies copied elsewhere."""
    operator.end_sessions()


def update_profile(
    session: Session, *, operator: Operator, name: str, sign_updates: bool | None, actor: Actor
) -> None:
    """`sign_updates`: True or False is the operator's own choice; None follows the page."""
    name = _clean_name(name)
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


def find_operator(session: Session, email: str) -> Operator:
    """An operator by email, whatever their state (for the team management screens)."""
    wanted = (email or "").strip().lower()
    operator = session.scalar(select(Operator).where(Operator.email == wanted))
    if operator is None:
        raise NotFound(f"no operator with email {(email or '').strip()}", field="operator")
    return operator


def find_active_operator(session: Session, email: str) -> Operator:
    """The operator a command acts as: writes are audited as them, so they must exist and be
    active (a deactivated operator can no more post from a script than log in)."""
    operator = find_operator(session, email)
    if not operator.active:
        raise InvalidInput(f"{operator.email} is deactivated", field="operator")
    return operator
