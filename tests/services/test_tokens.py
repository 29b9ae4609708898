from datetime import timedelta

import pytest

from statusboard.domain.errors import Forbidden, InvalidInput
from statusboard.models import ApiToken, AuditEvent
from statusboard.services import tokens
from statusboard.services.audit import Actor
from tests.conftest import START, make_operator


def test_secret_is_returned_once_and_only_its_digest_is_stored(session, clock, operator):
    token, secret = tokens.create_token(
        session, operator=operator, name=" deploy  bot ", actor=Actor(operator, "test")
    )
    session.commit()
    assert secret.startswith("sb_") and len(secret) > 40
    assert token.name == "deploy bot" and token.prefix == secret[:9]
    stored = session.query(ApiToken).one()
    assert secret not in (stored.secret_hash, stored.prefix, stored.name)
    assert all(secret not in str(e.detail) for e in session.query(AuditEvent))
    assert tokens.authenticate(session, secret) is token


def test_authenticate_refuses_unknown_revoked_and_deactivated(session, clock, operator):
    token, secret = tokens.create_token(
        session, operator=operator, name="a", actor=Actor(operator, "test")
    )
    assert tokens.authenticate(session, secret + "x") is None
    assert tokens.authenticate(session, secret.removeprefix("sb_")) is None
    tokens.revoke_token(session, token=token, actor=Actor(operator, "test"))
    assert tokens.authenticate(session, secret) is None
    _, other = tokens.create_token(
        session, operator=operator, name="b", actor=Actor(operator, "test")
    )
    operator.active = False
    assert tokens.authenticate(session, other) is None


def test_last_use_is_recorded_to_the_minute(session, clock, operator):
    token, secret = tokens.create_token(
        session, operator=operator, name="a", actor=Actor(operator, "test")
    )
    tokens.authenticate(session, secret)
    assert token.last_used_at == START
    clock.advance(timedelta(seconds=30))
    tokens.authenticate(session, secret)
    assert token.last_used_at == START  # no write for every request
    clock.advance(timedelta(seconds=30))
    tokens.authenticate(session, secret)
    assert token.last_used_at == START + timedelta(minutes=1)


def test_operators_revoke_only_their_own_tokens_admins_any(session, clock, operator, admin):
    other = make_operator(session, email="other@example.com", name="Other")
    token, _ = tokens.create_token(
        session, operator=other, name="theirs", actor=Actor(other, "test")
    )
    with pytest.raises(Forbidden):
        tokens.revoke_token(session, token=token, actor=Actor(operator, "test"))
    assert token.revoked_at is None
    tokens.revoke_token(session, token=token, actor=Actor(admin, "test"))
    assert token.revoked_at == START
    events = session.query(AuditEvent).filter_by(action="token.revoke").all()
    assert [(e.actor_id, e.subject_id) for e in events] == [(admin.id, token.public_id)]


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_token_needs_a_sensible_name(session, clock, operator, name):
    with pytest.raises(InvalidInput) as refused:
        tokens.create_token(session, operator=operator, name=name, actor=Actor(operator, "test"))
    assert refused.value.field == "name"
