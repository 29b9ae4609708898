"""The manage link a fan-out signs for each subscriber opens that subscription."""

from statusboard.services import subscribers


def test_an_unsubscribe_link_from_a_fan_out_opens_the_subscription(app, session, client):
    subscriber = subscribers.request_email(session, email="reader@example.com", components=())
    session.commit()
    token = subscribers.manage_token_of("test-secret-key", subscriber.public_id)
    page = client.get(f"/subscribe/manage/{token}")
    assert page.status_code == 200 and "reader@example.com" in page.get_data(as_text=True)
    assert client.get(f"/subscribe/manage/{token}x").status_code in (400, 404)
