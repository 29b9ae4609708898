"""Admin → Subscribers: find, look at, remove, confirm again, export and import, and add a
customer's webhook or chat room — as an admin (and an operator) sees it in responses."""

import csv
import io

import pytest
from sqlalchemy import select

from statusboard.db import database
from statusboard.models import AuditEvent, Delivery, Subscriber, SubscriberKind
from statusboard.models.delivery import Purpose
from statusboard.services import components, subscribers
from statusboard.services.audit import Actor
from tests.conftest import START, login, make_operator
from tests.fakes.chat_hooks import DISCORD_HOOK, SLACK_HOOK
from tests.fakes.publishing import deliver


@pytest.fixture
def app_overrides(publishing_overrides, chat_hooks):
    return {**publishing_overrides, "CHAT_HOOKS_BASE_URL": chat_hooks.url}


@pytest.fixture
def api(session, admin):
    component = components.create_component(session, name="API", actor=Actor(admin, "test"))
    session.commit()
    return component


def _email(session, address, *, confirmed=True, chosen=()):
    subscriber = subscribers.request_email(session, email=address, components=chosen)
    if confirmed:
        subscriber.confirmed_at = START
    session.commit()
    return subscriber


def _rows(csv_text):
    return list(csv.DictReader(io.StringIO(csv_text)))


def test_the_list_finds_by_address_kind_state_and_component(admin_client, session, api, clock):
    _email(session, "ana@example.com", chosen=[api])
    _email(session, "bob@example.com", confirmed=False)
    _email(session, "cy@other.org")
    page = admin_client.get("/admin/subscribers/").get_data(as_text=True)
    assert "3 subscribers match" in page
    page = admin_client.get("/admin/subscribers/?q=example.com&state=active").get_data(as_text=True)
    assert "ana@example.com" in page and "bob@example.com" not in page and "cy@" not in page
    page = admin_client.get("/admin/subscribers/?state=pending").get_data(as_text=True)
    assert "1 subscriber match" in page and "bob@example.com" in page
    # Who hears of API: ana chose it, bob and cy hear of everything.
    page = admin_client.get(f"/admin/subscribers/?component={api.public_id}&kind=webhook")
    assert "0 subscribers match" in page.get_data(as_text=True)
    page = admin_client.get(f"/admin/subscribers/?component={api.public_id}&kind=email")
    assert "3 subscribers match" in page.get_data(as_text=True)


def test_operators_cannot_see_the_list_but_can_add_a_customers_chat_room(
    app, client, session, chat_hooks, api
):
    login(client, make_operator(session))
    assert client.get("/admin/subscribers/").status_code == 403
    assert client.get("/admin/subscribers/export.csv").status_code == 403
    response = client.post(
        "/admin/subscribers/add",
        data={"url": SLACK_HOOK, "contact_email": "it@customer.example", "time_zone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    assert chat_hooks.requests == []  # queued, not sent from the request
    deliver(app, session)
    room = session.scalars(select(Subscriber)).one()
    assert room.kind is SubscriberKind.SLACK and room.active and room.time_zone == "Asia/Tokyo"
    assert len(chat_hooks.received("slack")) == 1
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.added")).one()
    assert event.detail["on_behalf_of"] == "it@customer.example"


def test_an_operator_adds_a_webhook_which_is_active_at_once(operator_client, session):
    response = operator_client.post(
        "/admin/subscribers/add",
        data={"url": "http://127.0.0.1:9/hook", "contact_email": "dev@customer.example"},
    )
    assert response.status_code == 302
    hook = session.scalars(select(Subscriber)).one()
    assert hook.kind is SubscriberKind.WEBHOOK and hook.active


def test_detail_shows_the_delivery_history_and_remove_deletes_and_audits(
    app, admin_client, session, mailbox
):
    pending = _email(session, "bob@example.com", confirmed=False)
    response = admin_client.post(f"/admin/subscribers/{pending.public_id}/resend")
    assert response.status_code == 302
    deliver(app, session)
    page = admin_client.get(f"/admin/subscribers/{pending.public_id}").get_data(as_text=True)
    assert "Confirm your subscription" in page and "sent" in page
    assert [m["To"] for m in mailbox.messages] == ["bob@example.com"]

    response = admin_client.post(f"/admin/subscribers/{pending.public_id}/remove")
    assert response.status_code == 302
    session.commit()
    assert session.scalars(select(Subscriber)).all() == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subscriber.removed")
    ).one()
    assert event.detail["address"] == "bob@example.com"
    # The history rows stay (the ledger), without their subscriber.
    assert session.scalars(select(Delivery)).one().subscriber_id is None


def test_an_active_subscriber_gets_no_second_confirmation(admin_client, session):
    active = _email(session, "ana@example.com")
    admin_client.post(f"/admin/subscribers/{active.public_id}/resend")
    page = admin_client.get(f"/admin/subscribers/{active.public_id}").get_data(as_text=True)
    assert "only a subscriber still waiting to confirm" in page
    assert session.scalars(select(Delivery)).all() == []


def _import(client, data, **form):
    return client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(data.encode()), "subscribers.csv"), **form},
        content_type="multipart/form-data",
    )


def test_csv_round_trip_into_an_empty_database_gives_the_same_subscribers(
    app, admin_client, admin, session, api, chat_hooks, mailbox, clock
):
    _email(session, "ana@example.com", chosen=[api])
    _email(session, "=cmd@example.com")
    left = _email(session, "gone@example.com")
    subscribers.unsubscribe(session, subscriber=left)
    hook = subscribers.request_webhook(
        session,
        url="http://127.0.0.1:9/hook",
        contact_email="dev@example.com",
        confirmed=True,
        allow=[__import__("ipaddress").ip_network("127.0.0.1/32")],
    )
    hook.time_zone = "Europe/Berlin"
    room, _ = subscribers.request_chat(
        session,
        url=DISCORD_HOOK,
        base_url=chat_hooks.url,
        allow=[__import__("ipaddress").ip_network("127.0.0.1/32")],
    )
    room.confirmed_at = START
    session.commit()

    exported = admin_client.get("/admin/subscribers/export.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    before = _rows(exported.get_data(as_text=True))
    # A cell a spreadsheet would run as a formula is quoted.
    assert "'=cmd@example.com" in [r["address"] for r in before]

    # An empty database: only the admin and the component stay.
    engine = database(app).engine
    with engine.begin() as connection:
        for table in ("delivery", "subscriber_component", "subscriber"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    session.commit()

    refused = _import(admin_client, exported.get_data(as_text=True), attest="yes", attestation=" ")
    assert refused.status_code == 302
    assert session.scalars(select(Subscriber)).all() == []

    response = _import(
        admin_client,
        exported.get_data(as_text=True),
        attest="yes",
        attestation="They subscribed on our old page",
    )
    assert response.status_code == 302
    deliver(app, session)  # the chat room's test message
    after = _rows(admin_client.get("/admin/subscribers/export.csv").get_data(as_text=True))
    keep = ("kind", "address", "state", "contact_email", "components", "time_zone")
    assert [tuple(r[k] for k in keep) for r in after] == [tuple(r[k] for k in keep) for r in before]
    # No email went out: the admin attested; the one who left stays unsubscribed.
    assert mailbox.messages == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "subscribers.imported_with_attestation")
    ).one()
    assert event.detail["attestation"] == "They subscribed on our old page"
    assert event.actor_id == admin.id

    # Importing again changes nothing.
    _import(admin_client, exported.get_data(as_text=True), attest="no")
    assert len(session.scalars(select(Subscriber)).all()) == len(before)


def test_without_the_attestation_imported_addresses_get_the_double_opt_in_email(
    app, admin_client, session, mailbox
):
    data = "kind,address,state\r\nemail,ana@example.com,active\r\nemail,not-an-address,active\r\n"
    _import(admin_client, data, attest="no")
    ana = session.scalars(select(Subscriber)).one()
    assert not ana.active
    [letter] = session.scalars(select(Delivery)).all()
    assert letter.purpose is Purpose.CONFIRMATION and letter.target == "ana@example.com"
    page = admin_client.get("/admin/subscribers/").get_data(as_text=True)
    assert "line 3: enter an email address" in page
    deliver(app, session)
    assert [m["Subject"] for m in mailbox.messages] == [
        "[Example Status] Confirm your subscription"
    ]
