"""The CDN purge hook: after the export changed files, the CDN is told the changed paths,
through the outbox (a failed purge is retried and shows in the admin)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from statusboard.config import ConfigError, load_settings
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.export import exporter_for
from statusboard.models import Delivery
from statusboard.models.delivery import DeliveryState, Purpose
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests.fakes.publishing import deliver

BASE = "https://status.example.com"


@pytest.fixture
def cdn():
    return "cloudflare"


@pytest.fixture
def purge_settings(receiver, cdn):
    if cdn == "bunny":  # one POST per URL, the URL in the query
        return {
            "PURGE_URL": receiver.url + "/purge?url={url_quoted}",
            "PURGE_HEADERS": {"AccessKey": "b"},
        }
    # Cloudflare: one POST per 30 URLs, {"files": [...]}, a bearer token
    return {
        "PURGE_URL": receiver.url + "/client/v4/zones/zone1/purge_cache",
        "PURGE_HEADERS": {"Authorization": "Bearer cf-token"},
        "PURGE_BODY": '{"files": {urls}}',
        "PURGE_BATCH": 30,
    }


@pytest.fixture
def app_overrides(tmp_path, purge_settings):
    return {"EXPORT_DIR": str(tmp_path / "site"), **purge_settings}


def _write(session, operator, publishing_settings, incident=None):
    actor = Actor(operator, "t")
    if incident is None:
        incident = incidents.open_incident(
            session,
            name="Broken login",
            impact=Impact.MAJOR,
            body="Looking.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
    else:
        incidents.post_update(
            session,
            incident=incident,
            status=IncidentStatus.IDENTIFIED,
            body="Found it.",
            actor=actor,
            publishing_settings=publishing_settings,
        )
    session.commit()
    return incident


def _export(app):
    exporter = exporter_for(app)
    try:
        return exporter.sync()
    finally:
        exporter.close()


def _purges(session):
    session.expire_all()
    return session.scalars(select(Delivery).where(Delivery.purpose == Purpose.PURGE)).all()


def test_the_cdn_is_told_every_changed_path_in_batches(
    app, session, operator, receiver, publishing_settings
):
    incident = _write(session, operator, publishing_settings)
    first = _export(app)
    deliver(app, session)
    receiver.requests.clear()
    _write(session, operator, publishing_settings, incident)
    result = _export(app)
    deliver(app, session)

    purged = [url for body in receiver.bodies for url in body["files"]]
    expected = [BASE + path for path in result.changed_paths]
    assert sorted(purged) == expected and len(purged) == len(set(purged))
    assert f"{BASE}/incidents/{incident.public_id}" in purged
    assert f"{BASE}/incidents/{incident.public_id}.html" in purged  # as a bucket serves it
    assert f"{BASE}/" in purged and f"{BASE}/index.html" in purged
    assert all(len(body["files"]) <= 30 for body in receiver.bodies)
    assert len(receiver.bodies) == -(-len(expected) // 30)
    for seen in receiver.deliveries:
        assert seen.path == "/client/v4/zones/zone1/purge_cache"
        assert seen.headers["authorization"] == "Bearer cf-token"
        assert seen.headers["content-type"] == "application/json"
    assert first is not None and len(_purges(session)) == 2


@pytest.mark.parametrize("cdn", ["bunny"])
def test_a_url_with_a_path_placeholder_purges_one_path_per_request(
    app, session, operator, receiver, publishing_settings
):
    incident = _write(session, operator, publishing_settings)
    result = _export(app)
    deliver(app, session)
    purged = sorted(seen.query["url"][0] for seen in receiver.deliveries)
    assert purged == [BASE + path for path in result.changed_paths]
    assert f"{BASE}/incidents/{incident.public_id}.atom" in purged
    assert all(seen.headers["accesskey"] == "b" for seen in receiver.deliveries)
    assert all(seen.body == b"" for seen in receiver.deliveries)


def test_a_failed_purge_is_retried_and_shows_in_the_admin(
    app, session, operator, receiver, publishing_settings, clock, admin_client
):
    _write(session, operator, publishing_settings)
    receiver.fail_next(503, {"success": False, "errors": [{"message": "try later"}]})
    result = _export(app)
    deliver(app, session)
    [purge] = _purges(session)
    assert purge.state is DeliveryState.RETRYING
    page = admin_client.get("/admin/publishing/").get_data(as_text=True)
    assert "CDN purges" in page and "purge hook answered 503" in page and "retrying" in page

    clock.advance(timedelta(minutes=1))
    deliver(app, session)
    [purge] = _purges(session)
    assert purge.state is DeliveryState.SENT and purge.attempts == 2
    # the failed first request, then every batch again
    assert len(receiver.bodies) == 1 + -(-len(result.changed_paths) // 30)
    assert sorted({url for body in receiver.bodies for url in body["files"]}) == [
        BASE + path for path in result.changed_paths
    ]
    assert "sent after 2 attempts" in admin_client.get("/admin/publishing/").get_data(as_text=True)


def test_bucket_and_purge_settings_are_read_from_the_environment_and_checked():
    settings = load_settings(
        {
            "STATUSBOARD_EXPORT_URL": "s3://site-bucket/status/",
            "STATUSBOARD_EXPORT_S3_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com",
            "STATUSBOARD_PURGE_URL": "https://api.fastly.com/purge/status.example.com{path}",
            "STATUSBOARD_PURGE_HEADERS": "Fastly-Key: k1|Fastly-Soft-Purge: 1",
            "STATUSBOARD_PURGE_METHOD": "post",
        }
    )
    bucket = settings.export.bucket
    assert (bucket.bucket, bucket.prefix) == ("site-bucket", "status/")
    assert bucket.endpoint_url == "https://acct.r2.cloudflarestorage.com"
    assert bucket.access_key_id is None  # boto3's own chain: AWS_ACCESS_KEY_ID, roles
    purge = settings.channels.purge
    assert purge.headers == {"Fastly-Key": "k1", "Fastly-Soft-Purge": "1"}
    assert purge.method == "POST" and purge.base_url == "http://127.0.0.1:8000"
    assert "purge" not in settings.publishing.channels  # never a channel for notices
    with pytest.raises(ConfigError) as refused:
        load_settings(
            {
                "STATUSBOARD_EXPORT_URL": "https://bucket.example.com",
                "STATUSBOARD_PURGE_HEADERS": "no colon here",
            }
        )
    assert "STATUSBOARD_EXPORT_URL" in str(refused.value)
    assert "STATUSBOARD_PURGE_HEADERS" in str(refused.value)


def test_the_admin_button_purges_the_front_page(app, session, receiver, admin_client):
    answer = admin_client.post("/admin/publishing/test/purge")
    assert answer.status_code == 302
    deliver(app, session)
    assert receiver.bodies == [{"files": [f"{BASE}/"]}]
    page = admin_client.get("/admin/publishing/").get_data(as_text=True)
    assert "Purge /" in page and "Recent test messages" in page
