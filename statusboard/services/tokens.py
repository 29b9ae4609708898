"""API tokens: create (the secret is shown once), revoke, authenticate a bearer secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from statusboard import clock
from statusboard.domain import text
from statusboard.domain.errors import Forbidden, InvalidInput, NotFound
from statusboard.models import ApiToken, Operator
from statusboard.services import audit
from statusboard.services.audit import Actor

PREFIX = "sb_"
MAX_NAME = text.TOKEN_NAME
# Recording every use would turn each read into a write; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_name(name: str) -> str:
    name = " ".join(text.clean(name or "", field="name", one_line=True).split())
    if not name:
        raise InvalidInput("name the token after what will use it, e.g. deploy-bot", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"keep the name under {MAX_NAME} characters", field="name")
    return name


def create_token(
    session: Session, *, operator: Operator, name: str, actor: Actor
) -> tuple[ApiToken, str]:
    """A new token for `operator`; returns it with its secret, which is never stored."""
    name = _clean_name(name)
    if not operator.active:
        raise InvalidInput(f"{operator.email} is deactivated", field="operator")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        operator=operator,
        name=name,
        secret_hash=_digest(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        subject_type="api_token",
        subject_id=token.public_id,
        name=name,
        operator=operator.email,
    )
    return token, secret


def revoke_token(session: Session, *, token: ApiToken, actor: Actor) -> None:
    """Revoke at once; revoking twice changes nothing. Operators revoke only their own."""
    if (
        actor.operator is not None
        and not actor.operator.is_admin
        and token.operator_id != actor.operator.id
    ):
        raise Forbidden("only admins can revoke other operators' tokens", field="token")
    if token.revoked_at is not None:
        return
    token.revoked_at = clock.now()
    audit.record(
        session,
        actor=actor,
        action="token.revoke",
        subject_type="api_token",
        subject_id=token.public_id,
        name=token.name,
        operator=token.operator.email,
    )


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The active token with this secret whose owner is active, else None."""
    if not secret.startswith(PREFIX):
        return None
    digest = _digest(secret)
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.secret_hash == digest)
        .options(joinedload(ApiToken.operator))
    )
    # The lookup is by digest; compare again in constant time for good measure.
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    if token.revoked_at is not None or not token.operator.active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token


def find_token(session: Session, public_id: str) -> ApiToken:
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.public_id == public_id)
        .options(joinedload(ApiToken.operator))
    )
    if token is None:
        raise NotFound(f"no token {public_id}", field="token")
    return token


def list_tokens(session: Session, operator: Operator | None = None) -> list[ApiToken]:
    """Newest first; one operator's tokens, or everyone's when `operator` is None."""
    query = (
        select(ApiToken)
        .options(joinedload(ApiToken.operator))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if operator is not None:
        query = query.where(ApiToken.operator_id == operator.id)
    return list(session.scalars(query))


def find_owner(session: Session, email: str) -> Operator:
    """The operator a token is created for or listed by, by email."""
    operator = session.scalar(select(Operator).where(Operator.email == email.strip().lower()))
    if operator is None:
        raise NotFound(f"no operator with email {email.strip()}", field="email")
    return operator
