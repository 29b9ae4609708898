"""`statusboard demo`: a realistic example page, written through the same services as the UI.

The history is backdated by moving the service clock, so every promise, ETA revision and
resolution is as real as if an operator had posted it at that time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statusboard import clock, demo_alerts
from statusboard.config import PublishingSettings
from statusboard.domain.errors import Conflict
from statusboard.domain.postmortems import add_working_days
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Component, Incident, Operator
from statusboard.services import components, incidents, maintenance, page, postmortems
from statusboard.services.audit import Actor

# The demo writes history: it goes to the page, never to a network or a subscriber.
QUIET = PublishingSettings(channels=frozenset())

GROUPS = {
    "Core platform": ["API", "Web app", "Dashboard"],
    "Regions": ["EU (Frankfurt)", "US East (Virginia)", "Asia Pacific (Singapore)"],
    "Notifications": ["Email delivery", "Webhooks"],
}

PAST = [
    # (days ago, name, impact, component, component status, ETA in minutes,
    #  [(minutes after start, status, body)])
    (
        3,
        "Delayed webhook deliveries",
        Impact.MINOR,
        "Webhooks",
        ComponentStatus.DEGRADED_PERFORMANCE,
        45,
        [
            (
                0,
                "investigating",
                "Webhook deliveries are arriving up to 10 minutes late. We are looking into it.",
            ),
            (
                18,
                "identified",
                "A queue consumer stopped after a configuration change. We are rolling it back.",
            ),
            (
                41,
                "monitoring",
                "The backlog is drained and deliveries are on time again. We are watching closely.",
            ),
            (
                75,
                "resolved",
                "Deliveries have been on time for 30 minutes. All delayed webhooks "
                "were delivered; none were lost.",
            ),
        ],
    ),
    (
        9,
        "Dashboard login errors",
        Impact.MAJOR,
        "Dashboard",
        ComponentStatus.PARTIAL_OUTAGE,
        30,
        [
            (0, "investigating", "Some customers see an error after logging in to the dashboard."),
            (
                12,
                "identified",
                "An expired certificate on one of our identity servers. We are replacing it.",
            ),
            (
                26,
                "resolved",
                "The certificate is replaced and logins work for everyone. We have "
                "added an alert 30 days before any certificate expires.",
            ),
        ],
    ),
]

# Postmortems promised on resolving (working days later), and published so many days after
# the resolution (None: still promised). Blanks in the generated draft are filled with these.
POSTMORTEMS: dict[str, tuple[int, int | None, dict[str, str]]] = {
    "Dashboard login errors": (
        5,
        2,
        {
            "[[what customers saw, and for how long]]": "For 26 minutes, about a third of "
            "dashboard logins ended on an error page. The API and webhooks were not affected.",
            "[[the cause, in words customers understand]]": "One of our three identity servers "
            "used a certificate that had expired. Our monitoring checked the certificates of "
            "the load balancer, not those of the servers behind it.",
            "[[what changes so this does not happen again, and by when]]": "- Every "
            "certificate is now checked, and we are alerted 30 days before one expires (done).\n"
            "- Certificates renew automatically on all identity servers (by 15 Dec).",
        },
    ),
    "Delayed webhook deliveries": (5, None, {}),
}


def seed(session: Session) -> None:
    """Refuses on a database that already has components or incidents."""
    if (session.scalar(select(func.count(Component.id))) or 0) or (
        session.scalar(select(func.count(Incident.id))) or 0
    ):
        raise Conflict("the database already has data; run the demo on an empty database")
    author = session.scalar(select(Operator).order_by(Operator.id))
    actor = Actor(author, "demo")
    now = clock.now()
    try:
        by_name = _components(session, actor)
        for days, name, impact, component, status, eta, steps in PAST:
            _past_incident(
                session,
                actor,
                now - timedelta(days=days, hours=2),
                name,
                impact,
                by_name[component],
                status,
                eta,
                steps,
            )
        demo_alerts.seed(session, actor, now, by_name, QUIET)
        _ongoing_incident(session, actor, now, by_name)
        _upcoming_maintenance(session, actor, now, by_name)
    finally:
        clock.unfreeze()
    page.bump_version(session)  # "last updated" is now, not the backdated history


def _components(session: Session, actor: Actor) -> dict[str, Component]:
    by_name: dict[str, Component] = {}
    for group_name, names in GROUPS.items():
        group = components.create_component(session, name=group_name, is_group=True, actor=actor)
        for name in names:
            by_name[name] = components.create_component(
                session, name=name, group=group, actor=actor
            )
    return by_name


def _past_incident(
    session: Session,
    actor: Actor,
    start: datetime,
    name: str,
    impact: Impact,
    component: Component,
    status: ComponentStatus,
    eta: int,
    steps: list[tuple[int, str, str]],
) -> None:
    clock.freeze(start)
    incident = incidents.open_incident(
        session,
        name=name,
        impact=impact,
        body=steps[0][2],
        actor=actor,
        publishing_settings=QUIET,
        component_changes={component: status},
        eta=start + timedelta(minutes=eta),
    )
    for minutes, step_status, body in steps[1:]:
        clock.freeze(start + timedelta(minutes=minutes))
        if step_status == "resolved":
            _resolve(session, actor, incident, body)
        else:
            incidents.post_update(
                session,
                incident=incident,
                status=IncidentStatus(step_status),
                body=body,
                actor=actor,
                publishing_settings=QUIET,
            )


def _resolve(session: Session, actor: Actor, incident: Incident, body: str) -> None:
    """Resolve; where POSTMORTEMS says so, promise a postmortem and maybe publish it."""
    promise = POSTMORTEMS.get(incident.name)
    resolved_at = clock.now()
    incidents.resolve(
        session,
        incident=incident,
        body=body,
        actor=actor,
        publishing_settings=QUIET,
        postmortem_by=add_working_days(resolved_at.date(), promise[0]) if promise else None,
    )
    if promise is None or promise[1] is None:
        return
    clock.freeze(resolved_at + timedelta(days=promise[1]))
    text = postmortems.draft_for(session, incident, time_zone="UTC")
    for blank, words in promise[2].items():
        text = text.replace(blank, words)
    postmortems.publish(
        session, incident=incident, body=text, actor=actor, publishing_settings=QUIET
    )


def _ongoing_incident(
    session: Session, actor: Actor, now: datetime, by_name: dict[str, Component]
) -> None:
    """Started 70 min ago; ETA revised twice; the last promise passed 8 minutes ago."""
    start = now - timedelta(minutes=70)
    clock.freeze(start)
    eu = by_name["EU (Frankfurt)"]
    api = by_name["API"]
    incident = incidents.open_incident(
        session,
        name="Elevated API error rates in EU",
        impact=Impact.MAJOR,
        actor=actor,
        publishing_settings=QUIET,
        body="Some API requests in the EU region fail with **HTTP 503**. We are investigating.",
        component_changes={
            eu: ComponentStatus.PARTIAL_OUTAGE,
            api: ComponentStatus.DEGRADED_PERFORMANCE,
        },
        eta=start + timedelta(minutes=45),
        next_update_at=start + timedelta(minutes=20),
    )
    clock.freeze(start + timedelta(minutes=17))
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        actor=actor,
        publishing_settings=QUIET,
        body="A storage node in Frankfurt is failing over slowly. We are moving traffic to "
        "healthy nodes. This takes longer than we first thought.",
        eta=start + timedelta(minutes=90),
        next_update_at=start + timedelta(minutes=40),
    )
    clock.freeze(start + timedelta(minutes=37))
    incidents.post_update(
        session,
        incident=incident,
        status=IncidentStatus.IDENTIFIED,
        actor=actor,
        publishing_settings=QUIET,
        body="About 60% of EU traffic is on healthy nodes; error rates are falling. The last "
        "part needs a data consistency check before we switch it, so we moved our "
        "estimate.\n\n- Reads: mostly working\n- Writes: may fail, please retry",
        eta=start + timedelta(minutes=120),
        next_update_at=start + timedelta(minutes=62),
    )


def _upcoming_maintenance(
    session: Session, actor: Actor, now: datetime, by_name: dict[str, Component]
) -> None:
    clock.freeze(now - timedelta(days=1))
    start = (now + timedelta(days=2)).replace(hour=2, minute=0, second=0, microsecond=0)
    maintenance.schedule_maintenance(
        session,
        name="Database upgrade in US East",
        actor=actor,
        publishing_settings=QUIET,
        body="We are upgrading the primary database cluster in US East. The API stays "
        "available; **writes may be delayed by up to a minute** during the switch-over.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[by_name["US East (Virginia)"], by_name["API"]],
    )
