"""The export published to a bucket: moto's S3 server on 127.0.0.1 stands in for S3, R2 or
MinIO, and boto3 talks to it as it would to them."""

import hashlib

import boto3
import pytest
from moto.server import ThreadedMotoServer

from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.export import exporter_for
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from statusboard.web.surfaces import CACHE_CONTROL

BUCKET = "status-site"


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server):
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    # Versions count the uploads each key received.
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client
    versions = client.list_object_versions(Bucket=BUCKET)
    for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def app_overrides(s3_server):
    return {
        "EXPORT_URL": f"s3://{BUCKET}/status",
        "EXPORT_S3_ENDPOINT_URL": s3_server,
        "EXPORT_S3_REGION": "us-east-1",
        "EXPORT_S3_ACCESS_KEY_ID": "test-key",
        "EXPORT_S3_SECRET_ACCESS_KEY": "test-secret",
    }


def _uploads(s3) -> dict[str, int]:
    """How many times each object was uploaded (versions, not counting deletions)."""
    counts: dict[str, int] = {}
    for version in s3.list_object_versions(Bucket=BUCKET).get("Versions", []):
        counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def _live_keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_the_bucket_gets_every_surface_with_its_type_cache_rules_and_md5(
    app, client, session, operator, s3, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Broken login",
        impact=Impact.MAJOR,
        body="Looking.",
        actor=Actor(operator, "t"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    exporter = exporter_for(app)
    exporter.sync()
    exporter.close()

    keys = _live_keys(s3)
    assert "status/index.html" in keys and "status/static/style.css" in keys
    assert f"status/incidents/{incident.public_id}.html" in keys
    assert all(key.startswith("status/") for key in keys)
    page = s3.get_object(Bucket=BUCKET, Key="status/index.html")
    body = page["Body"].read()
    assert body == client.get("/").get_data()
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == CACHE_CONTROL
    assert page["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    summary = s3.get_object(Bucket=BUCKET, Key="status/api/v2/summary.json")
    assert summary["ContentType"].startswith("application/json")
    feed = s3.head_object(Bucket=BUCKET, Key=f"status/incidents/{incident.public_id}.atom")
    assert feed["ContentType"].startswith("application/atom+xml")
    css = s3.head_object(Bucket=BUCKET, Key="status/static/style.css")
    assert css["ContentType"] == "text/css" and css["CacheControl"] == "public, max-age=300"


def test_a_write_uploads_exactly_the_changed_objects_and_deletions_propagate(
    app, client, session, operator, admin, s3, publishing_settings
):
    actor = Actor(operator, "t")
    component = components.create_component(session, name="Search", actor=Actor(admin, "t"))
    incident = incidents.open_incident(
        session,
        name="Broken login",
        impact=Impact.MAJOR,
        body="Looking.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.commit()
    exporter = exporter_for(app)
    exporter.sync()
    exporter.close()
    before = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in _live_keys(s3)}
    assert set(_uploads(s3).values()) == {1}

    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        body="Found it.",
        actor=actor,
        publishing_settings=publishing_settings,
    )
    session.delete(component)
    session.commit()
    # A worker started afresh learns what the bucket holds from one listing.
    exporter = exporter_for(app)
    result = exporter.sync()
    exporter.close()

    uploads = _uploads(s3)
    rewritten = {key for key, count in uploads.items() if count == 2}
    changed = {
        key
        for key in _live_keys(s3)
        if s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() != before.get(key)
    }
    assert rewritten == changed == {f"status/{name}" for name in result.written}
    assert "status/index.html" in rewritten
    assert max(uploads.values()) == 2
    gone = {f"status/components/{component.public_id}.{fmt}" for fmt in ("atom", "rss", "json")}
    assert gone <= set(before) and not gone & _live_keys(s3)
    assert s3.get_object(Bucket=BUCKET, Key="status/index.html")["Body"].read() == (
        client.get("/").get_data()
    )
