"""The demo's intake path: a monitoring source with rules, three incidents that started as
alerts (acknowledged after a few minutes), one draft dismissed as noise, and one draft waiting
for a human right now. Written through the same services as real alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import PublishingSettings
from statusboard.domain.statuses import Impact
from statusboard.models import AlertFormat, Component
from statusboard.services import alert_sources, alerts, incidents
from statusboard.services.audit import Actor

RULES = [
    ("service", "api", "API", None),
    ("service", "webhooks", "Webhooks", None),
    ("service", "email", "Email delivery", None),
    ("service", "dashboard", "Dashboard", None),
    ("severity", "critical", None, Impact.CRITICAL),
    ("severity", "page", None, Impact.MAJOR),
]

# (days ago, alert name, service, severity, minutes to acknowledge or None = noise,
#  minutes to resolve)
HISTORY = [
    (12, "HighErrorRate", "api", "page", 3, 40),
    (6, "QueueBacklog", "webhooks", "warning", 11, 55),
    (5, "ProbeFlapping", "dashboard", "warning", None, 0),
    (2, "SMTPRelayDown", "email", "critical", 2, 25),
]


def _payload(name: str, service: str, severity: str, fingerprint: str, status: str) -> dict:
    return {
        "version": "4",
        "status": status,
        "receiver": "statusboard",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "service": service, "severity": severity},
                "annotations": {"summary": f"{name} on {service}"},
                "fingerprint": fingerprint,
            }
        ],
    }


def seed(
    session: Session,
    actor: Actor,
    now: datetime,
    by_name: dict[str, Component],
    publishing: PublishingSettings,
) -> None:
    clock.freeze(now - timedelta(days=30))
    for key, value, component, impact in RULES:
        alert_sources.create_rule(
            session,
            key=key,
            value=value,
            component=by_name[component] if component else None,
            impact=impact,
            actor=actor,
        )
    source, _ = alert_sources.create_source(
        session, name="prometheus", format=AlertFormat.ALERTMANAGER, actor=actor
    )
    for number, (days, name, service, severity, ack, fix) in enumerate(HISTORY):
        start = now - timedelta(days=days, hours=5)
        fingerprint = f"demo{number:012d}"
        clock.freeze(start)
        payload = _payload(name, service, severity, fingerprint, "firing")
        draft = alerts.receive(session, source=source, payload=payload).created[0]
        if ack is None:
            clock.freeze(start + timedelta(minutes=6))
            alerts.dismiss(session, draft=draft, actor=actor, reason="the probe itself flapped")
            continue
        clock.freeze(start + timedelta(minutes=ack))
        incident = alerts.publish(session, draft=draft, actor=actor, publishing_settings=publishing)
        clock.freeze(start + timedelta(minutes=fix - 5))
        resolved = _payload(name, service, severity, fingerprint, "resolved")
        alerts.receive(session, source=source, payload=resolved)
        clock.freeze(start + timedelta(minutes=fix))
        incidents.resolve(
            session,
            incident=incident,
            body="Fixed, and monitoring agrees. Thank you for your patience.",
            actor=actor,
            publishing_settings=publishing,
        )
    # Waiting for a human right now: the dashboard and the nag banner show it.
    clock.freeze(now - timedelta(minutes=2))
    alerts.receive(
        session,
        source=source,
        payload=_payload("HighLatency", "api", "warning", "demo-waiting-0001", "firing"),
    )
