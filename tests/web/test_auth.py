import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(client, path="/login"):
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_with_csrf_token_then_logout(client, operator):
    response = client.post(
        "/login",
        data={"email": operator.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_form_post_without_csrf_token_is_refused(client, operator):
    response = client.post("/login", data={"email": operator.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_admin_form_post_without_csrf_token_changes_nothing(client, admin, session):
    from sqlalchemy import select

    from statusboard.models import Component

    client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    response = client.post("/admin/components", data={"name": "API"})
    assert response.status_code == 400
    assert session.scalar(select(Component)) is None


def test_wrong_password_is_refused_without_saying_which_part(client, operator):
    response = client.post(
        "/login",
        data={"email": operator.email, "password": "nope", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400
    assert "do not match" in response.get_data(as_text=True)


def test_login_never_redirects_off_site(client, operator):
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": operator.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.location == "/admin/"


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
            "WTF_CSRF_ENABLED": False,
        }

    def test_login_attempts_are_rate_limited(self, client, operator):
        codes = [
            client.post("/login", data={"email": operator.email, "password": "bad"}).status_code
            for _ in range(4)
        ]
        assert codes == [400, 400, 400, 429]
