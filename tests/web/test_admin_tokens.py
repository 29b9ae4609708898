import re

from statusboard.models import ApiToken, AuditEvent
from statusboard.services import tokens
from statusboard.services.audit import Actor
from tests.conftest import login, make_operator


def test_operator_creates_a_token_and_sees_it_once(operator_client, session, clock, operator):
    page = operator_client.get("/admin/tokens/")
    assert page.status_code == 200 and "No tokens yet." in page.get_data(as_text=True)
    created = operator_client.post("/admin/tokens/", data={"name": "deploy-bot"})
    assert created.status_code == 201
    [secret] = re.findall(r'<code class="secret">(sb_[^<]+)</code>', created.get_data(as_text=True))
    session.rollback()
    assert tokens.authenticate(session, secret).operator.id == operator.id
    again = operator_client.get("/admin/tokens/").get_data(as_text=True)
    assert secret not in again and "deploy-bot" in again and secret[:9] in again
    event = session.query(AuditEvent).filter_by(action="token.create").one()
    assert (event.actor_id, event.via) == (operator.id, "web")


def test_empty_name_is_refused_and_nothing_created(operator_client, session, clock):
    refused = operator_client.post("/admin/tokens/", data={"name": " "})
    assert refused.status_code == 400
    assert "Name the token" in refused.get_data(as_text=True)
    session.rollback()
    assert session.query(ApiToken).count() == 0


def test_operator_sees_and_revokes_only_own_tokens(client, session, clock, operator):
    other = make_operator(session, email="other@example.com", name="Other")
    theirs, _ = tokens.create_token(
        session, operator=other, name="their-bot", actor=Actor(other, "test")
    )
    mine, secret = tokens.create_token(
        session, operator=operator, name="my-bot", actor=Actor(operator, "test")
    )
    session.commit()
    login(client, operator)
    page = client.get("/admin/tokens/").get_data(as_text=True)
    assert "my-bot" in page and "their-bot" not in page
    assert client.post(f"/admin/tokens/{theirs.public_id}/revoke").status_code == 403
    revoked = client.post(f"/admin/tokens/{mine.public_id}/revoke")
    assert revoked.status_code == 302
    session.rollback()
    assert tokens.authenticate(session, secret) is None
    assert session.get(ApiToken, theirs.id).revoked_at is None


def test_admin_sees_everyones_tokens_with_owner(admin_client, session, clock, operator):
    tokens.create_token(session, operator=operator, name="pager", actor=Actor(operator, "t"))
    session.commit()
    page = admin_client.get("/admin/tokens/").get_data(as_text=True)
    assert "pager" in page and "ops@example.com" in page


def test_tokens_page_needs_login(client):
    response = client.get("/admin/tokens/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
