"""The social preview on the update, declare and resolve forms is the post itself: the same
function on the same input, compared byte for byte with what each fake network received."""

import pytest

from statusboard.domain.statuses import Impact
from statusboard.domain.text_fitting import x_length
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests.fakes.publishing import deliver

LONG = (
    "Payments in the EU region fail for about one in five requests. "
    "We traced it to a database failover that left one replica behind. "
    "The team is moving traffic to the healthy replicas now, and we will add more "
    "capacity before the evening peak so it does not happen again. "
    "Card payments already made are safe and will not be charged twice. "
    "If a payment failed, please try again in a few minutes; we will post here as soon "
    "as every region is back to normal, and we will add more details about the cause."
)


@pytest.fixture
def app_overrides(publishing_overrides):
    return publishing_overrides


@pytest.fixture
def incident(app, session, admin, publishing_settings):
    opened = incidents.open_incident(
        session,
        name="Payments failing in EU",
        impact=Impact.MAJOR,
        body="Looking into it.",
        actor=Actor(admin, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    deliver(app, session)
    return opened


def _preview(client, **fields):
    response = client.post("/admin/publishing/preview", data=fields)
    assert response.status_code == 200
    return {name: c["text"] for name, c in response.get_json()["channels"].items()}


def _latest_posts(fake_x, fake_mastodon, fake_bluesky):
    return {
        "x": fake_x.tweets[-1]["text"],
        "mastodon": fake_mastodon.statuses[-1]["content"],
        "bluesky": fake_bluesky.posts[-1]["text"],
    }


@pytest.mark.parametrize("body", ["Rolling back the failover.", LONG])
def test_update_preview_is_byte_for_byte_what_each_network_receives(
    app, admin_client, session, incident, fake_x, fake_mastodon, fake_bluesky, body
):
    form = {"incident": incident.public_id, "status": "identified", "body": body}
    preview = _preview(admin_client, **form)
    response = admin_client.post(
        f"/admin/incidents/{incident.public_id}/update",
        data={**form, "eta_mode": "unknown", "next_in": "30", "notify": "y"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    deliver(app, session)
    posted = _latest_posts(fake_x, fake_mastodon, fake_bluesky)
    assert {k: v.encode() for k, v in preview.items()} == {k: v.encode() for k, v in posted.items()}
    assert preview["x"].startswith("Payments failing in EU — Identified")
    assert "xxxxxxxxxxxx" not in "".join(preview.values())


def test_resolve_preview_is_what_each_network_receives(
    app, admin_client, session, incident, fake_x, fake_mastodon, fake_bluesky
):
    preview = _preview(admin_client, incident=incident.public_id, status="resolved", body=LONG)
    page = admin_client.get(f"/admin/incidents/{incident.public_id}/resolve")
    assert b'class="social-preview"' in page.data and incident.public_id.encode() in page.data
    response = admin_client.post(
        f"/admin/incidents/{incident.public_id}/resolve", data={"body": LONG, "notify": "y"}
    )
    assert response.status_code == 302
    deliver(app, session)
    assert preview == _latest_posts(fake_x, fake_mastodon, fake_bluesky)
    assert preview["x"].startswith("Payments failing in EU — Resolved")


def test_a_cut_x_post_ends_with_a_whole_sentence_and_carries_the_link(
    app, admin_client, session, incident, fake_x
):
    link = f"https://status.example.com/incidents/{incident.public_id}"
    admin_client.post(
        f"/admin/incidents/{incident.public_id}/update",
        data={
            "status": "identified",
            "body": LONG,
            "eta_mode": "unknown",
            "next_in": "30",
            "notify": "y",
        },
    )
    deliver(app, session)
    text = fake_x.tweets[-1]["text"]
    assert x_length(text) <= 280
    assert text.endswith(f". …\n\n{link}")
    assert "we will add more" not in text  # never half a sentence
    kept = text.split("\n", 1)[1].removesuffix(f" …\n\n{link}")
    assert LONG.startswith(kept)


def test_a_short_x_post_goes_without_the_link(app, admin_client, session, incident, fake_x):
    admin_client.post(
        f"/admin/incidents/{incident.public_id}/update",
        data={"status": "identified", "body": "Rolling back.", "notify": "y"},
    )
    deliver(app, session)
    assert fake_x.tweets[-1]["text"] == "Payments failing in EU — Identified\nRolling back."


def test_update_form_shows_every_networks_preview_openly_with_the_incident(admin_client, incident):
    page = admin_client.get(f"/admin/incidents/{incident.public_id}/update").get_data(as_text=True)
    assert f'name="incident" value="{incident.public_id}"' in page
    for name in ("x", "mastodon", "bluesky"):
        # The preview sits outside the "own text" disclosure.
        before_details = page.split(f'name="send_{name}"', 1)[1].split("<details", 1)[0]
        assert f'<pre class="social-preview" data-channel="{name}"' in before_details
