"""Hostile input, on SQLite and PostgreSQL: every request is answered with a 2xx or a clear
4xx, never a 5xx, and afterwards every public surface still answers 200 and parses.

Each payload goes into every text field of the operator API and of the admin forms; then
come the shapes (deep JSON, far dates, null where a value is required, huge bodies) and the
addresses (NUL and surrogates in paths, huge page numbers, header breaks in `next`). A row
already stored with a control character (written before the rules, by SQL) is checked too,
on every surface and in the static export.
"""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import pytest
from icalendar import Calendar
from sqlalchemy import text

from statusboard.services import maintenance, tokens
from statusboard.services.audit import Actor
from tests.conftest import START, login

TEXTS = [
    "\x00",
    "NUL in the \x00 middle",
    "Investigating \u000b the issue.",
    "\x01 start of heading",
    "escape \x1b[31m red",
    "delete \x7f",
    "next line \x85 (C1)",
    "C1 \x9b csi",
    "lone high \ud800 surrogate",
    "lone low \udfff surrogate",
    "\ud83d",
    "nonchar \ufffe \uffff",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "]]><x>&amp;&lt;&#0;",
    "&#x0; &#11; entity-encoded controls",
    "right-to-left \u202e override",
    "line\u2028separator\u2029paragraph",
    "e\u0301 combining (becomes é)",
    "emoji 😀👩‍👩‍👧‍👦 and 中文",
    "tab\tand\nnewline and\r\ncrlf",
    "{{ 7*7 }} {% if %}",
    "' OR 1=1 --; DROP TABLE incident;",
    "%00%0d%0a",
    "\\u0000 escaped text",
    "",
    "   ",
    "x" * 250,
    "y" * 20_001,
]


@pytest.fixture
def token(session, admin):
    _, secret = tokens.create_token(session, operator=admin, name="fuzz", actor=Actor(None, "t"))
    session.commit()
    return secret


def _api(client, token, method, path, body=None, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return getattr(client, method)(
        f"/api/v1{path}",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )


@pytest.fixture
def world(client, session, token, admin, clock, publishing_settings):
    """A component, an open incident that touched it and a scheduled maintenance."""
    made = _api(client, token, "post", "/components", {"name": "API", "description": "d"})
    component = made.get_json()["id"]
    opened = _api(
        client,
        token,
        "post",
        "/incidents",
        {
            "name": "DB slow",
            "impact": "minor",
            "body": "Looking",
            "components": {component: "degraded_performance"},
        },
    )
    assert opened.status_code == 201, opened.get_json()
    maintenance.schedule_maintenance(
        session,
        name="Upgrade",
        body="Planned",
        actor=Actor(admin, "test"),
        scheduled_for=START + timedelta(days=1),
        scheduled_until=START + timedelta(days=1, hours=1),
        notify=False,
        publishing_settings=publishing_settings,
    )
    session.commit()
    return {"component": component, "incident": opened.get_json()["id"]}


def surfaces(world) -> list[str]:
    incident, component = world["incident"], world["component"]
    return [
        "/",
        f"/incidents/{incident}",
        "/history",
        "/maintenance.ics",
        *(f"/feed.{f}" for f in ("atom", "rss", "json")),
        *(f"/history.{f}" for f in ("atom", "rss")),
        *(f"/incidents/{incident}.{f}" for f in ("atom", "rss", "json")),
        *(f"/components/{component}.{f}" for f in ("atom", "rss", "json")),
        *(
            f"/api/v2/{name}.json"
            for name in (
                "summary",
                "status",
                "components",
                "incidents",
                "incidents/unresolved",
                "scheduled-maintenances",
                "scheduled-maintenances/upcoming",
                "scheduled-maintenances/active",
            )
        ),
    ]


def assert_surfaces_whole(client, world) -> None:
    for path in surfaces(world):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        body = response.get_data()
        if path.endswith((".atom", ".rss")):
            parsed = feedparser.parse(body)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            for entry in parsed.entries:  # names reach readers as text, never as markup
                title = entry.title_detail
                assert title.type == "text/plain" or "<img" not in title.value, (path, title)
        elif path.endswith(".json"):
            json.loads(body)
        elif path.endswith(".ics"):
            Calendar.from_ical(body)


def assert_clear_refusal_or_success(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400 and response.is_json:
        assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("value", TEXTS, ids=range(len(TEXTS)))
def test_hostile_text_in_every_api_field_leaves_every_surface_whole(client, token, world, value):
    incident, component = world["incident"], world["component"]
    answers = [
        _api(client, token, "post", "/incidents", {"name": value, "impact": "minor", "body": "b"}),
        _api(client, token, "post", "/incidents", {"name": "n", "impact": "minor", "body": value}),
        _api(
            client,
            token,
            "post",
            f"/incidents/{incident}/updates",
            {"status": "identified", "body": value},
        ),
        _api(client, token, "post", "/components", {"name": value}),
        _api(client, token, "post", "/components", {"name": "c", "description": value}),
        _api(client, token, "patch", f"/components/{component}", {"name": value}),
        _api(client, token, "patch", f"/components/{component}", {"description": value}),
        _api(client, token, "post", "/incidents", {value: "unknown field", "name": "n"}),
        _api(client, token, "post", "/components", {"name": "c", "group_id": value}),
        _api(
            client,
            token,
            "post",
            "/incidents",
            {"name": "n", "impact": "minor", "body": "b", "components": {value: "major_outage"}},
        ),
    ]
    for response in answers:
        assert_clear_refusal_or_success(response)
    assert_surfaces_whole(client, world)


def _sendable(value: str) -> bool:
    """A browser cannot send an unpaired surrogate: UTF-8 has no bytes for it."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


FORM_TEXTS = [value for value in TEXTS if _sendable(value)]


@pytest.mark.parametrize("value", FORM_TEXTS, ids=range(len(FORM_TEXTS)))
def test_hostile_text_in_admin_forms_is_refused_with_a_field_error_or_stored_clean(
    client, admin, world, value
):
    login(client, admin)
    answers = [
        client.post(
            "/admin/incidents/new",
            data={
                "name": value,
                "impact": "minor",
                "status": "investigating",
                "body": "b",
                "eta_mode": "unknown",
                "next_mode": "in",
            },
        ),
        client.post(
            "/admin/incidents/new",
            data={
                "name": "n",
                "impact": "minor",
                "status": "investigating",
                "body": value,
                "eta_mode": "unknown",
                "next_mode": "in",
            },
        ),
        client.post("/admin/components", data={"name": value}),
        client.post(
            f"/admin/components/{world['component']}/edit",
            data={"name": "API", "description": value},
        ),
        client.post("/admin/profile", data={"name": value}),
        client.post("/admin/tokens", data={"name": value}),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert_surfaces_whole(client, world)


DEEP = "[" * 1000 + "]" * 1000
SHAPES = [
    ("post", "/incidents", None, '{"name": ' + DEEP + "}"),
    ("post", "/incidents", None, '{"a":' * 1000 + "1" + "}" * 1000),
    ("post", "/incidents", None, "[" * 100_000),
    (
        "post",
        "/incidents",
        {"name": "n", "impact": "minor", "body": "b", "eta": "9999-12-31T23:59:59-14:00"},
        None,
    ),
    (
        "post",
        "/incidents",
        {"name": "n", "impact": "minor", "body": "b", "eta": "0001-01-01T00:00:00+14:00"},
        None,
    ),
    (
        "post",
        "/incidents",
        {"name": "n", "impact": "minor", "body": "b", "eta": "2030-01-01T00:00:00Z"},
        None,
    ),
    (
        "post",
        "/incidents",
        {
            "name": "n",
            "impact": "minor",
            "body": "b",
            "next_update_at": "9999-12-31T23:59:59+14:00",
        },
        None,
    ),
    (
        "post",
        "/incidents",
        {"name": "n", "impact": "minor", "body": "b", "eta": "2026-13-45T99:99:99Z"},
        None,
    ),
    ("post", "/incidents", {"name": "n", "impact": "minor", "body": "b", "eta": 1e308}, None),
    ("post", "/incidents", {"name": "n", "impact": "minor", "body": "b", "status": None}, None),
    ("post", "/incidents", {"name": "n", "impact": "minor", "body": "b", "notify": None}, None),
    ("post", "/incidents", {"name": "n", "impact": "minor", "body": "b", "components": None}, None),
    ("post", "/incidents", {"name": "n", "impact": "minor", "body": "b", "components": []}, None),
    ("post", "/incidents", {"name": ["n"], "impact": "minor", "body": "b"}, None),
    ("post", "/incidents", {"name": 10**400, "impact": "minor", "body": "b"}, None),
    ("post", "/incidents", {"name": "n", "impact": "apocalyptic", "body": "b"}, None),
    ("post", "/components", {"name": ""}, None),
    ("post", "/components", {"name": "c", "description": "d" * 501}, None),
    ("post", "/components", {"name": "c", "group": "yes"}, None),
    ("patch", "/components/{component}", {"status": None}, None),
    ("patch", "/components/{component}", {"name": None}, None),
    ("patch", "/components/nonexistent\x00", {"name": "x"}, None),
    ("patch", "/operators/admin@example.com", {"role": None}, None),
    ("patch", "/operators/admin@example.com", {"active": "false"}, None),
    ("patch", "/operators/admin@example.com", {"role": "root", "on_call": 1}, None),
    ("patch", "/operators/nobody\x00@example.com", {"on_call": False}, None),
    (
        "post",
        "/incidents/{incident}/updates",
        {"status": "resolved", "body": "b", "eta": "9999-12-31T23:59:59-14:00"},
        None,
    ),
    (
        "post",
        "/incidents/{incident}/resolve",
        {"body": "b", "components": {"{component}": None}},
        None,
    ),
    ("post", "/incidents", None, '{"name": "\\ud800", "impact": "minor", "body": "b"}'),
    ("post", "/incidents", None, b'{"name": "\xff\xfe", "impact": "minor", "body": "b"}'),
    ("post", "/incidents", None, '{"name": "dup", "name": "dup", "impact": "minor", "body": "b"}'),
    ("post", "/incidents", None, "NaN"),
    ("post", "/incidents", None, '{"name": NaN, "impact": "minor", "body": "b"}'),
]


@pytest.mark.parametrize("method,path,body,raw", SHAPES, ids=range(len(SHAPES)))
def test_hostile_shapes_are_refused_clearly(client, token, world, method, path, body, raw):
    path = path.format(**world)
    if body is not None:
        body = json.loads(json.dumps(body).replace("{component}", world["component"]))
    response = _api(client, token, method, path, body=body, raw=raw)
    assert_clear_refusal_or_success(response)
    assert_surfaces_whole(client, world)


ADDRESSES = [
    "/incidents/%00",
    "/incidents/%00.atom",
    "/components/%00.rss",
    "/incidents/%ED%A0%80",
    "/incidents/%C0%80",
    "/history/9223372036854775807",
    "/history/99999999999999999999999999999",
    "/history/0",
    "/history/-1",
    "/api/v2/%00.json",
    "/api/v1/incidents/%00",
    "/api/v1/operators/%00",
    "/api/v1/operators/%ED%A0%80",
    "/subscribe/manage/%00",
    "/static/%00",
    "/static/../../etc/passwd",
    "/%0D%0ASet-Cookie:x=1",
]


@pytest.mark.parametrize("path", ADDRESSES)
def test_hostile_addresses_are_answered_with_a_4xx(client, token, world, path):
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert_surfaces_whole(client, world)


@pytest.mark.parametrize("path", ["/feed.atom?x=%00", "/?page=%00%ff"])
def test_hostile_query_strings_never_fail_a_surface(client, world, path):
    """Public surfaces take no query parameters: they are ignored or refused, never a 5xx."""
    assert client.get(path).status_code in (200, 400)
    assert_surfaces_whole(client, world)


@pytest.mark.parametrize(
    "target",
    [
        "/%0D%0ASet-Cookie:%20x=1",
        "/admin/%0d%0aLocation:%20https://evil.example",
        "/\\evil",
        "//evil",
    ],
)
def test_login_never_redirects_to_a_broken_or_foreign_next(client, admin, target):
    from tests.conftest import PASSWORD

    response = client.post(
        f"/login?next={target}", data={"email": admin.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_nul_in_a_login_field_is_a_400(client, admin):
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x\x00"})
    assert response.status_code == 400


def test_a_row_stored_with_control_characters_breaks_no_surface_and_no_export(
    app, client, session, world, tmp_path
):
    """Written by SQL, as an old version or another tool might have: the renderers still cope."""
    session.execute(
        text("UPDATE incident SET name = :name"),
        {"name": "Broken \x0b name <img src=x onerror=alert(1)> \x01"},
    )
    session.execute(
        text("UPDATE incident_update SET body = :b, html = :h"),
        {"b": "b\x0c", "h": "<p>h\x0c\x1f</p>"},
    )
    session.execute(
        text("UPDATE component SET name = :n, description = :d"), {"n": "C\x08", "d": "d\x1b"}
    )
    session.commit()
    client.post(  # a new version, so no snapshot from before hides the rows
        "/api/v1/components", data="{}", headers={"Authorization": "Bearer none"}
    )
    from statusboard.services import page

    page.bump_version(session)
    session.commit()
    assert_surfaces_whole(client, world)

    from statusboard.export import export

    result = export(app, tmp_path / "site")
    assert result is not None and result.files > 0
    for name in ("feed.atom", "feed.rss", "history.atom", "history.rss"):
        written = tmp_path / "site" / name
        assert written.exists(), name
        assert not feedparser.parse(written.read_bytes()).bozo, name
