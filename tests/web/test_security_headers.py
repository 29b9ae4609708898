"""Security headers on every kind of response, from one place; request bodies bounded."""

from __future__ import annotations

import json

import pytest

from statusboard.services import tokens
from statusboard.services.audit import Actor

PUBLIC = [
    "/",
    "/history",
    "/feed.atom",
    "/feed.rss",
    "/api/v2/summary.json",
    "/maintenance.ics",
    "/healthz",
    "/readyz",
    "/login",
    "/subscribe",
    "/static/style.css",
    "/nowhere",
    "/feeds",
    "/uptime",
    "/badge.svg",
    "/api/v2/uptime.json",
    "/subscribe/webhooks",
]
ADMIN = [
    "/admin/",
    "/admin/incidents/new",
    "/admin/components",
    "/admin/profile",
    "/admin/tokens",
    "/admin/operators",
    "/admin/audit",
    "/admin/alerts/",
    "/admin/subscribers/",
    "/admin/templates/",
    "/admin/peak-hours/",
    "/admin/report/",
    "/admin/publishing/",
    "/admin/maintenance/",
    "/admin/nags/",
]
API = [
    "/api/v1/components",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/incidents/none",
    "/api/v1/operators",
    "/api/v1/operators/nobody@example.com",
]


def _assert_headers(response, https: bool = True) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert ("Strict-Transport-Security" in response.headers) is https


@pytest.fixture
def bearer(session, admin):
    _, secret = tokens.create_token(session, operator=admin, name="t", actor=Actor(None, "t"))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_every_public_admin_and_api_response_carries_the_headers(admin_client, bearer):
    for path in PUBLIC + ADMIN + API:
        _assert_headers(admin_client.get(path, headers=bearer))
    _assert_headers(admin_client.post("/api/v1/components", data="{", headers=bearer))


def test_only_the_embed_may_be_framed_by_other_sites(client):
    for path in ("/embed", "/embed.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors *" in csp and "script-src 'self'" in csp
        assert "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    _assert_headers(client.get("/"))  # the page itself stays unframeable


def test_admin_pages_carry_no_inline_script(admin_client):
    for path in ADMIN + ["/"]:
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<script >" not in page, path


class TestPlainHttp:
    @pytest.fixture
    def app_overrides(self):
        return {"BASE_URL": "http://status.example.com"}

    def test_no_hsts_when_the_page_is_served_over_http(self, client):
        _assert_headers(client.get("/"), https=False)


def test_a_large_body_is_refused_with_413_and_a_clear_message(client, bearer):
    big = b"x" * (300 * 1024)
    login = client.post("/login", data=big, content_type="application/x-www-form-urlencoded")
    assert login.status_code == 413
    assert "larger than the 256 KB" in login.get_data(as_text=True)
    api = client.post(
        "/api/v1/components",
        data=json.dumps({"name": "c", "description": "d" * 300_000}),
        headers=bearer,
        content_type="application/json",
    )
    assert api.status_code == 413
    assert api.get_json()["error"]["code"] == "request_too_large"


class TestConfiguredLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"MAX_REQUEST_BYTES": 1024}

    def test_the_limit_is_configurable(self, client, bearer):
        response = client.post(
            "/api/v1/components",
            data=json.dumps({"name": "c" * 2000}),
            headers=bearer,
            content_type="application/json",
        )
        assert response.status_code == 413
