"""When the database is gone: operators get a clear 503 page that needs no database, the
liveness probe still answers, and the readiness probe names what is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from statusboard import clock as clock_module
from statusboard.db import database, make_engine
from statusboard.services import health


@pytest.fixture
def database_gone(app):
    """Point the app at a PostgreSQL port nobody listens on, as during an outage."""
    db = database(app)
    engine, sessions = db.engine, db.sessions
    db.engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1", poolclass=None
    )
    db.sessions = sessionmaker(db.engine, expire_on_commit=False)
    yield
    db.engine.dispose()
    db.engine, db.sessions = engine, sessions


def test_a_logged_in_operator_gets_a_clear_503_page_during_an_outage(
    operator_client, database_gone
):
    for path in ("/admin/", "/admin/incidents/new", "/admin/components"):
        response = operator_client.get(path)
        assert response.status_code == 503, (path, response.status_code)
        page = response.get_data(as_text=True)
        assert "database cannot be reached" in page
        assert response.headers["Retry-After"] == "30"
        assert response.headers["Content-Security-Policy"]


def test_an_api_client_gets_a_json_503_during_an_outage(client, database_gone):
    response = client.get("/api/v1/components", headers={"Authorization": "Bearer sb_x"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"


def test_liveness_answers_and_readiness_names_the_database_during_an_outage(client, database_gone):
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] is False
    assert "unreachable" in checks["database"]["detail"]
    assert checks["worker"]["ok"] is False


def test_readiness_is_ready_with_a_recent_worker_beat_and_no_smtp(client, session, app):
    assert client.get("/readyz").status_code == 503  # no worker has ever run
    health.beat(session, worker="host:1", now=clock_module.now())
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    checks = response.get_json()["checks"]
    assert checks == {
        "database": {"ok": True, "detail": database(app).dialect},
        "worker": checks["worker"] | {"ok": True},
        "smtp": {"ok": True, "detail": "not configured (email is off)"},
    }


def test_readiness_says_when_the_worker_fell_silent(client, session):
    health.beat(session, worker="host:1", now=clock_module.now() - timedelta(minutes=5))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "silent since" in response.get_json()["checks"]["worker"]["detail"]


class TestSmtp:
    @pytest.fixture
    def app_overrides(self):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1}

    def test_readiness_names_an_unreachable_smtp_server(self, client, session):
        health.beat(session, worker="host:1", now=clock_module.now())
        session.commit()
        response = client.get("/readyz")
        assert response.status_code == 503
        smtp = response.get_json()["checks"]["smtp"]
        assert smtp["ok"] is False and "127.0.0.1:1 unreachable" in smtp["detail"]
