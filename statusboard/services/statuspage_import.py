"""Moving in from Statuspage: a page's public /api/v2 JSON (summary, incidents, scheduled
maintenances) replayed through our own services — components and groups, then each incident
and maintenance window update by update, at the time it was posted, with its component
changes — with notifications off, so an import never sends anything.

Each record brought in is remembered (ImportedRecord, by the Statuspage page and record id),
so running the import again changes nothing, and a later run only adds what is new (an
update posted since). Text is normalised as at every edge (domain/text.py): what `clean`
would refuse is dropped rather than refused, since nobody can fix a page we are leaving.

Statuspage makes no promises, so imported updates carry an unknown ETA and the default
next-update promise of their impact, counted from when they were posted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import PublishingSettings
from statusboard.domain import text
from statusboard.domain.errors import DomainError
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from statusboard.models import Component, ImportedRecord, Incident
from statusboard.services import components, incidents, maintenance
from statusboard.services.audit import Actor


@dataclass
class Report:
    """What an import created (or, dry, would create), and what it could not bring."""

    components: int = 0
    incidents: int = 0
    maintenances: int = 0
    updates: int = 0
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"components: {self.components}",
            f"incidents: {self.incidents}",
            f"maintenance windows: {self.maintenances}",
            f"updates: {self.updates}",
            *(f"warning: {w}" for w in self.warnings),
        ]


@dataclass(frozen=True)
class Source:
    """The page's JSON documents, as Statuspage serves them."""

    summary: Mapping[str, Any]
    incidents: Mapping[str, Any] | None = None
    maintenances: Mapping[str, Any] | None = None
    components: Mapping[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"statuspage:{self.summary['page']['id']}"

    def component_rows(self) -> list[dict[str, Any]]:
        return list((self.components or self.summary).get("components") or [])

    def incident_rows(self) -> list[dict[str, Any]]:
        return _union(self.summary.get("incidents"), (self.incidents or {}).get("incidents"))

    def maintenance_rows(self) -> list[dict[str, Any]]:
        return _union(
            self.summary.get("scheduled_maintenances"),
            (self.maintenances or {}).get("scheduled_maintenances"),
        )


def _union(*lists: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """By id, the fullest copy (most updates), oldest first."""
    found: dict[str, dict[str, Any]] = {}
    for rows in lists:
        for row in rows or []:
            known = found.get(row["id"])
            if known is None or len(row.get("incident_updates") or []) > len(
                known.get("incident_updates") or []
            ):
                found[row["id"]] = row
    return sorted(found.values(), key=lambda r: (r.get("created_at") or "", r["id"]))


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"a time without its offset: {value}")
    return parsed


def _line(value: Any, limit: int) -> str:
    return text.clean(text.printable_line(str(value or ""))[:limit], field="name", one_line=True)


def _body(value: Any, fallback: str) -> str:
    body = text.printable(str(value or "")).strip()[: text.MESSAGE_BODY] or fallback
    return text.clean(body, field="body")


class Importer:
    def __init__(
        self, session: Session, source: Source, *, actor: Actor, publishing: PublishingSettings
    ) -> None:
        self.session = session
        self.source = source
        self.actor = actor
        self.publishing = publishing
        self.report = Report()
        self.known: dict[tuple[str, str], str] = {
            (r.kind, r.external_id): r.local_id
            for r in session.scalars(
                select(ImportedRecord).where(ImportedRecord.source == source.key)
            )
        }
        self.by_code: dict[str, Component] = {}

    def run(self) -> Report:
        self._components()
        for row in self.source.incident_rows():
            self._guarded(row, self._incident)
        for row in self.source.maintenance_rows():
            self._guarded(row, self._maintenance)
        self._current_statuses()
        return self.report

    def _guarded(self, row: dict[str, Any], work: Any) -> None:
        """One incident or window at a time: one the rules refuse is left out, with a warning,
        and the others still come."""
        known, counts = dict(self.known), dict(vars(self.report))
        try:
            with self.session.begin_nested():
                work(row)
        except (DomainError, ValueError, KeyError) as exc:
            self.known = known
            for name, value in counts.items():
                if isinstance(value, int):
                    setattr(self.report, name, value)
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            self.report.warnings.append(f"{row.get('name')!r} ({row.get('id')}) skipped: {message}")

    def _remember(self, kind: str, external_id: str, local_id: str) -> None:
        self.known[(kind, external_id)] = local_id
        self.session.add(
            ImportedRecord(
                source=self.source.key, kind=kind, external_id=external_id, local_id=local_id
            )
        )

    # --- components --------------------------------------------------------------------------

    def _components(self) -> None:
        """In the page's order: each top-level row, a group followed by its components."""
        rows = sorted(self.source.component_rows(), key=lambda r: r.get("position") or 0)
        existing = {c.public_id: c for c in self.session.scalars(select(Component))}
        for row in rows:
            if row.get("group_id"):
                continue
            self._component(row, existing)
            for child in rows:
                if row.get("group") and child.get("group_id") == row["id"]:
                    self._component(child, existing)

    def _component(self, row: dict[str, Any], existing: dict[str, Component]) -> None:
        local = self.known.get(("component", row["id"]))
        if local is not None and local in existing:
            self.by_code[row["id"]] = existing[local]
            return
        created = components.create_component(
            self.session,
            name=_line(row.get("name"), text.COMPONENT_NAME),
            description=_line(row.get("description"), text.COMPONENT_DESCRIPTION) or None,
            is_group=bool(row.get("group")),
            group=self.by_code.get(row.get("group_id") or ""),
            actor=self.actor,
        )
        self.by_code[row["id"]] = created
        self._remember("component", row["id"], created.public_id)
        self.report.components += 1

    def _current_statuses(self) -> None:
        """After the replay, each component as the page shows it now."""
        for row in self.source.component_rows():
            component = self.by_code.get(row["id"])
            if component is None or component.is_group:
                continue
            status = ComponentStatus(row.get("status") or "operational")
            components.set_component_status(
                self.session, component=component, status=status, actor=self.actor
            )

    def _changes(self, update: dict[str, Any]) -> dict[Component, ComponentStatus]:
        changes = {}
        for change in update.get("affected_components") or []:
            component = self.by_code.get(change.get("code") or "")
            if component is not None and not component.is_group:
                changes[component] = ComponentStatus(change["new_status"])
        return changes

    # --- incidents and maintenance windows ---------------------------------------------------

    def _new_updates(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        updates = sorted(
            row.get("incident_updates") or [],
            key=lambda u: (u.get("created_at") or "", u["id"]),
        )
        return [u for u in updates if ("update", u["id"]) not in self.known]

    def _incident(self, row: dict[str, Any]) -> None:
        pending = self._new_updates(row)
        local = self.known.get(("incident", row["id"]))
        if not pending:
            return
        impact = Impact(row.get("impact") or "none")
        subject = incidents.find_incident(self.session, local) if local else None
        for update in pending:
            at = parse_time(update.get("created_at")) or clock.now()
            status = IncidentStatus(update["status"])
            with clock.held_at(at):
                if subject is None:
                    subject = incidents.open_incident(
                        self.session,
                        name=_line(row.get("name"), text.INCIDENT_NAME),
                        impact=impact,
                        body=_body(update.get("body"), status.label + "."),
                        status=status if status.is_open else IncidentStatus.INVESTIGATING,
                        component_changes=self._changes(update),
                        actor=self.actor,
                        publishing_settings=self.publishing,
                        notify=False,
                    )
                    self._remember("incident", row["id"], subject.public_id)
                    self.report.incidents += 1
                    if not status.is_open:  # a page that opened and closed in one word
                        self._append_incident(subject, update, status)
                else:
                    self._append_incident(subject, update, status)
            self._remember("update", update["id"], subject.updates[-1].public_id)
            self.report.updates += 1

    def _append_incident(
        self, subject: Incident, update: dict[str, Any], status: IncidentStatus
    ) -> None:
        changes = self._changes(update)
        body = _body(update.get("body"), status.label + ".")
        if status.is_open:
            incidents.post_update(
                self.session,
                incident=subject,
                status=status,
                body=body,
                eta=None,
                component_changes=changes,
                actor=self.actor,
                publishing_settings=self.publishing,
                notify=False,
            )
        else:
            incidents.resolve(
                self.session,
                incident=subject,
                body=body,
                status=status,
                component_changes=changes,
                actor=self.actor,
                publishing_settings=self.publishing,
                notify=False,
            )

    def _maintenance(self, row: dict[str, Any]) -> None:
        pending = self._new_updates(row)
        local = self.known.get(("maintenance", row["id"]))
        if not pending:
            return
        subject = maintenance.find_window(self.session, local) if local else None
        for update in pending:
            status = MaintenanceStatus(update["status"])
            body = _body(update.get("body"), status.label + ".")
            at = parse_time(update.get("created_at")) or clock.now()
            if subject is None:
                start = parse_time(row.get("scheduled_for"))
                end = parse_time(row.get("scheduled_until"))
                if start is None or end is None:
                    raise ValueError("a maintenance without scheduled_for and scheduled_until")
                with clock.held_at(min(at, start - timedelta(minutes=1))):
                    subject = maintenance.schedule_maintenance(
                        self.session,
                        name=_line(row.get("name"), text.INCIDENT_NAME),
                        body=body,
                        scheduled_for=start,
                        scheduled_until=end,
                        components=[
                            self.by_code[c["id"]]
                            for c in row.get("components") or []
                            if c["id"] in self.by_code and not self.by_code[c["id"]].is_group
                        ],
                        actor=self.actor,
                        publishing_settings=self.publishing,
                        notify=False,
                    )
                self._remember("maintenance", row["id"], subject.public_id)
                self.report.maintenances += 1
                if status is MaintenanceStatus.SCHEDULED:
                    self._remember("update", update["id"], subject.updates[-1].public_id)
                    self.report.updates += 1
                    continue
            with clock.held_at(max(at, subject.updated_at)):
                maintenance.update_maintenance(
                    self.session,
                    window=subject,
                    status=status,
                    body=body,
                    actor=self.actor,
                    publishing_settings=self.publishing,
                    notify=False,
                )
            self._remember("update", update["id"], subject.updates[-1].public_id)
            self.report.updates += 1


def import_page(
    session: Session, source: Source, *, actor: Actor, publishing: PublishingSettings
) -> Report:
    """Bring a Statuspage page in (see the module's docstring). The caller commits, or rolls
    back for a dry run."""
    return Importer(session, source, actor=actor, publishing=publishing).run()


def subscribers_csv(data: str) -> str:
    """Statuspage's subscriber CSV (its export, or its import template: a first column of
    "email", then the address) in the shape of our own export, email subscribers only: SMS,
    Slack and webhook rows of Statuspage cannot be carried over."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["kind", "address", "state", "components"])
    if not rows:
        return out.getvalue()
    header = [cell.strip().lower() for cell in rows[0]]
    named = any(h in ("email", "email address", "recipient") for h in header) and not any(
        "@" in cell for cell in rows[0]
    )
    if named:
        email = next(
            i for i, h in enumerate(header) if h in ("email", "email address", "recipient")
        )
        mode = next((i for i, h in enumerate(header) if h in ("mode", "type", "method")), None)
        chosen = next((i for i, h in enumerate(header) if h.startswith("component")), None)
        for row in rows[1:]:
            if len(row) <= email or not row[email].strip():
                continue
            if mode is not None and row[mode].strip().lower() not in ("", "email"):
                continue
            names = row[chosen] if chosen is not None and chosen < len(row) else ""
            writer.writerow(["email", row[email].strip(), "active", _names(names)])
    else:
        for row in rows:
            if len(row) >= 2 and row[0].strip().lower() == "email":
                writer.writerow(["email", row[1].strip(), "active", ""])
    return out.getvalue()


def _names(value: str) -> str:
    """Component names as Statuspage lists them ("API|Web app" or "API; Web app")."""
    separator = "|" if "|" in value else ";"
    return "; ".join(n.strip() for n in value.split(separator) if n.strip())
