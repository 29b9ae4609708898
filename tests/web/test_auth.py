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

    def test_only_failures_count_and_a_correct_password_is_never_refused(self, client, operator):
        for _ in range(5):
            good = client.post("/login", data={"email": operator.email, "password": PASSWORD})
            assert good.status_code == 302
            client.post("/logout")
        bad = [
            client.post("/login", data={"email": operator.email, "password": "bad"}).status_code
            for _ in range(4)
        ]
        assert bad == [400, 400, 400, 429]
        good = client.post("/login", data={"email": operator.email, "password": PASSWORD})
        assert good.status_code == 302

    def test_the_limit_is_shared_by_every_web_process(self, app, client, operator, tmp_path):
        """A second app on the same database, with its own memory, as a second process."""
        from statusboard.app import create_app
        from statusboard.config import settings_of

        other = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "WTF_CSRF_ENABLED": False,
                "DATABASE_URL": settings_of(app).database_url,
                "SNAPSHOT_DIR": str(tmp_path / "other"),
                "LOGIN_RATE_LIMIT": "3 per minute",
            }
        ).test_client()
        codes = [
            process.post("/login", data={"email": operator.email, "password": "bad"}).status_code
            for process in (client, other, client, other)
        ]
        assert codes == [400, 400, 400, 429]
        assert "Too many failed logins" in other.post(
            "/login", data={"email": operator.email, "password": "bad"}
        ).get_data(as_text=True)
