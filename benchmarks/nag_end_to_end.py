"""End to end, as a new user would try it: `statusboard run` (gunicorn + one worker) with a real
SMTP server (aiosmtpd) and a chat webhook receiver on 127.0.0.1.

An incident promises its next update 20 seconds ahead. Checks that the nag email and the chat
message arrive within 10 s of the due time, that the public page and incident page (and the
incident's namespaced API facts) show it overdue, and that posting an update clears it and stops
the ladder (no escalation once the old promise's first escalation time has passed).

    .venv/bin/python benchmarks/nag_end_to_end.py          # about 100 s

Exits non-zero on the first failed expectation. Set STATUSBOARD_E2E_DATABASE_URL to run it on
PostgreSQL (the database is emptied first).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _support import empty_postgres  # noqa: E402

from tests.fakes.smtp import FakeSMTP, free_port  # noqa: E402
from tests.fakes.social import WebhookReceiver  # noqa: E402

DUE_IN = timedelta(seconds=20)
LIMIT_SECONDS = 10.0


def expect(condition: bool, what: str) -> None:
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        raise SystemExit(1)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_for(condition, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="statusboard-e2e-"))
    port = free_port()
    smtp = FakeSMTP()
    chat = WebhookReceiver()
    env = dict(os.environ)
    env.update(
        {
            "STATUSBOARD_INSTANCE_DIR": str(workdir),
            "STATUSBOARD_DATABASE_URL": os.environ.get("STATUSBOARD_E2E_DATABASE_URL")
            or f"sqlite:///{workdir / 'e2e.db'}",
            "STATUSBOARD_SECRET_KEY": "e2e-secret",
            "STATUSBOARD_PORT": str(port),
            "STATUSBOARD_BASE_URL": f"http://127.0.0.1:{port}",
            "STATUSBOARD_ADMIN_EMAIL": "owner@example.com",
            "STATUSBOARD_ADMIN_PASSWORD": "correct horse battery",
            "STATUSBOARD_SMTP_HOST": "127.0.0.1",
            "STATUSBOARD_SMTP_PORT": str(smtp.port),
            "STATUSBOARD_SMTP_STARTTLS": "false",
            "STATUSBOARD_SMTP_FROM": "status@example.com",
            "STATUSBOARD_CHAT_WEBHOOK_URL": chat.url + "/hooks/nags",
            "STATUSBOARD_NAG_ESCALATE_ALL_MINUTES": "1",
            "STATUSBOARD_NAG_ESCALATE_ADMINS_MINUTES": "2",
        }
    )
    os.environ.update(env)
    base = env["STATUSBOARD_BASE_URL"]
    if "postgresql" in env["STATUSBOARD_DATABASE_URL"]:
        empty_postgres(env["STATUSBOARD_DATABASE_URL"])

    statusboard = str(Path(sys.executable).parent / "statusboard")
    subprocess.run([statusboard, "init"], env=env, check=True, capture_output=True)
    with open(workdir / "run.log", "wb") as log:
        server = subprocess.Popen(
            [statusboard, "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            expect(bool(wait_for(lambda: _up(base), 30)), f"statusboard run serves {base}/")
            run(base, smtp, chat)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            smtp.close()
            chat.close()
    print(f"(logs in {workdir / 'run.log'})")


def _up(base: str) -> bool:
    try:
        fetch(base + "/")
        return True
    except OSError:
        return False


def run(base: str, smtp: FakeSMTP, chat: WebhookReceiver) -> None:
    from sqlalchemy import select

    from statusboard import clock
    from statusboard.app import create_app
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.domain.statuses import Impact, IncidentStatus
    from statusboard.models import Operator, Promise
    from statusboard.services import incidents, statuspage
    from statusboard.services.audit import Actor

    app = create_app()
    db = database(app)
    # Start at a random phase of the worker's check, as a real incident would.
    time.sleep(random.uniform(0, 2))
    with db.session() as session:
        owner = session.scalar(select(Operator))
        due_at = clock.now() + DUE_IN
        incident = incidents.open_incident(
            session,
            name="Checkout failing",
            impact=Impact.MAJOR,
            body="We are looking.",
            actor=Actor(owner, "e2e"),
            next_update_at=due_at,
            publishing_settings=settings_of(app).publishing,
        )
        public_id = incident.public_id
    print(f"incident {public_id}: next update promised for {clock.iso(due_at)}", flush=True)

    got_mail = wait_for(lambda: smtp.messages[:1], DUE_IN.total_seconds() + 30, 0.05)
    expect(bool(got_mail), "a nag email arrived")
    mail_late = got_mail[0].at - due_at.timestamp()
    got_chat = wait_for(lambda: chat.bodies[:1], 15, 0.05)
    chat_late = time.time() - due_at.timestamp()
    expect(bool(got_chat), "a chat message arrived")
    print(f"      email {mail_late:.2f} s after the due time, chat by {chat_late:.2f} s")
    expect(0 <= mail_late <= LIMIT_SECONDS, f"email within {LIMIT_SECONDS:.0f} s of due")
    expect(chat_late <= LIMIT_SECONDS, f"chat within {LIMIT_SECONDS:.0f} s of due")
    mail = got_mail[0]
    expect(
        mail["Subject"] == "[Status] Update due now: Checkout failing",
        f"email subject: {mail['Subject']!r}",
    )
    expect(
        f"{base}/admin/incidents/{public_id}/update" in mail.get_content(),
        "email links to the prefilled update form",
    )
    expect("We are looking." in mail.get_content(), "email quotes what customers see")
    expect("Update due now" in got_chat[0]["text"], "chat message says the update is due")

    page = fetch(base + "/")
    detail = fetch(f"{base}/incidents/{public_id}")
    # Pages are rendered once per data version, so they state when the update was due;
    # the reader's browser counts the minutes ("Update overdue by 3 min").
    line = "— the team has been reminded."
    expect("Update overdue since" in page and line in page, "public page shows the update overdue")
    expect(
        "Update overdue since" in detail and line in detail,
        "incident page shows the update overdue",
    )
    summary = json.loads(fetch(base + "/api/v2/summary.json"))
    [listed] = [i for i in summary["incidents"] if i["id"] == public_id]
    expect(
        listed["statusboard"]["next_update_overdue"] is True,
        "/api/v2/summary.json says the update is overdue",
    )
    feed = fetch(base + "/feed.atom")
    expect("overdue" in feed.lower(), "/feed.atom says the update is overdue")
    with db.session() as session:
        found = incidents.find_incident(session, public_id)
        facts = statuspage.promise_facts(found, clock.now())
        broken = session.scalar(select(Promise.status).where(Promise.incident_id == found.id))
    expect(facts["next_update_overdue"] is True, f"namespaced API facts say overdue: {facts}")
    expect(broken == "broken", "the promise is recorded as broken")

    with db.session() as session:
        found = incidents.find_incident(session, public_id)
        owner = session.scalar(select(Operator))
        incidents.post_update(
            session,
            incident=found,
            status=IncidentStatus.IDENTIFIED,
            body="Found the cause; rolling back.",
            actor=Actor(owner, "e2e"),
            next_update_at=clock.now() + timedelta(minutes=15),
            publishing_settings=settings_of(app).publishing,
        )
    page = fetch(base + "/")
    expect("overdue" not in page, "posting an update clears the overdue line at once")
    summary = json.loads(fetch(base + "/api/v2/summary.json"))
    [listed] = [i for i in summary["incidents"] if i["id"] == public_id]
    expect(
        listed["statusboard"]["next_update_overdue"] is False,
        "and /api/v2/summary.json no longer says overdue",
    )
    mails, chats = len(smtp.messages), len(chat.bodies)
    escalation_at = due_at + timedelta(minutes=1)
    wait = (escalation_at - clock.now()).total_seconds() + 12
    print(
        f"      waiting {wait:.0f} s past the old promise's first escalation time ...", flush=True
    )
    time.sleep(max(wait, 0))
    expect(
        len(smtp.messages) == mails and len(chat.bodies) == chats,
        f"the ladder stopped: {len(smtp.messages)} email(s), {len(chat.bodies)} chat "
        "message(s) in all",
    )


if __name__ == "__main__":
    main()
