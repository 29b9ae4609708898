"""The nag ladder: which reminder a promise deserves at a moment, who gets it, what it says.

Pure rules. For a promise due at D (made at M) under the ladder of its incident's impact:

    heads_up       at D - heads_up, only when the promise was longer than that (D - M > heads_up)
    due            at D                          owner + on-call operators
    escalation_1   at D + escalate_all           + every active operator
    escalation_2   at D + escalate_admins        + admins + the escalation address
    escalation_n   each `repeat` later, the gap doubling up to `repeat_max` (same people)

Only the highest level reached is sent: a worker that was down does not fire a burst of stale
reminders. The ladder stops when the promise is answered (an update, a revised ETA, the
resolution); an acknowledgement pauses it for a bounded time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from statusboard.domain.promises import format_minutes

HEADS_UP = "heads_up"
DUE = "due"
_ESCALATION = "escalation_"
IMPACTS = ("critical", "major", "minor", "none")


def escalation(number: int) -> str:
    return f"{_ESCALATION}{number}"


def escalation_number(level: str) -> int:
    """0 for heads_up and due, n for escalation_n."""
    return int(level[len(_ESCALATION) :]) if level.startswith(_ESCALATION) else 0


class Audience:
    """Who a level goes to; each level adds to the one before."""

    OWNER = "owner"  # heads-up only (on-call operators when there is no owner)
    ON_CALL = "on_call"  # due: owner + on-call operators
    ALL = "all"  # escalation_1: + every active operator
    ADMINS = "admins"  # escalation_2 and later: + admins + escalation address


def audience(level: str) -> str:
    if level == HEADS_UP:
        return Audience.OWNER
    if level == DUE:
        return Audience.ON_CALL
    return Audience.ALL if escalation_number(level) == 1 else Audience.ADMINS


@dataclass(frozen=True)
class Ladder:
    heads_up: timedelta
    escalate_all: timedelta
    escalate_admins: timedelta
    repeat: timedelta
    repeat_max: timedelta

    def __post_init__(self) -> None:
        if self.escalate_admins <= self.escalate_all:
            raise ValueError("the admins' escalation must come after the all-operators one")
        if self.repeat_max < self.repeat:
            raise ValueError("the longest repeat gap must not be shorter than the first")

    def level_at(self, *, due_at: datetime, made_at: datetime, now: datetime) -> str | None:
        """The highest level reached at `now`, or None before any is due."""
        if now < due_at:
            if due_at - made_at > self.heads_up and now >= due_at - self.heads_up:
                return HEADS_UP
            return None
        late = now - due_at
        if late < self.escalate_all:
            return DUE
        if late < self.escalate_admins:
            return escalation(1)
        number, at, gap = 2, self.escalate_admins, self.repeat
        while late >= at + gap:
            at += gap
            number += 1
            gap = min(gap * 2, self.repeat_max)
        return escalation(number)


# A postmortem is promised days ahead, so its ladder counts in days whatever the impact: a
# heads-up the day before, the due nag, everyone a day late, the admins three days late, then
# daily, the gap doubling up to a week.
POSTMORTEM_LADDER = Ladder(
    heads_up=timedelta(days=1),
    escalate_all=timedelta(days=1),
    escalate_admins=timedelta(days=3),
    repeat=timedelta(days=1),
    repeat_max=timedelta(days=7),
)


@dataclass(frozen=True)
class NagPolicy:
    ladders: Mapping[str, Ladder]
    acknowledge_for: timedelta

    def ladder(self, impact: str, kind: str | None = None) -> Ladder:
        if kind == "postmortem":
            return POSTMORTEM_LADDER
        return self.ladders[str(impact)]

    @property
    def longest_heads_up(self) -> timedelta:
        return max(
            POSTMORTEM_LADDER.heads_up, *(ladder.heads_up for ladder in self.ladders.values())
        )

    @classmethod
    def from_settings(cls, nags: NagMinutes) -> NagPolicy:
        """From the nag settings (minutes per impact); ValueError names the bad pair."""

        def minutes(values: Mapping[str, int], impact: str) -> timedelta:
            return timedelta(minutes=values[impact])

        ladders: dict[str, Ladder] = {}
        for impact in IMPACTS:
            try:
                ladders[impact] = Ladder(
                    heads_up=minutes(nags.heads_up, impact),
                    escalate_all=minutes(nags.escalate_all, impact),
                    escalate_admins=minutes(nags.escalate_admins, impact),
                    repeat=minutes(nags.repeat, impact),
                    repeat_max=timedelta(minutes=nags.repeat_max),
                )
            except ValueError as exc:
                raise ValueError(f"STATUSBOARD_NAG_* for {impact} impact: {exc}") from exc
        return cls(ladders=ladders, acknowledge_for=timedelta(minutes=nags.acknowledge))


class NagMinutes(Protocol):
    """The nag settings as minutes (config.NagSettings)."""

    @property
    def heads_up(self) -> Mapping[str, int]: ...
    @property
    def escalate_all(self) -> Mapping[str, int]: ...
    @property
    def escalate_admins(self) -> Mapping[str, int]: ...
    @property
    def repeat(self) -> Mapping[str, int]: ...
    @property
    def repeat_max(self) -> int: ...
    @property
    def acknowledge(self) -> int: ...


@dataclass(frozen=True)
class NagFacts:
    """Everything a nag may say, gathered by the service."""

    level: str
    promise_kind: str  # next_update | eta | maintenance_end | maintenance_start | postmortem
    incident_name: str
    incident_kind: str  # incident | maintenance
    impact: str
    status: str
    due_at: datetime
    made_at: datetime
    now: datetime
    public_text: str  # the latest public update, as customers read it
    public_posted_at: datetime | None
    public_line: str | None  # the honesty line customers see, when there is one
    update_url: str
    incident_url: str
    recipient_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class NagMessage:
    """One reminder, ready for any nag channel."""

    subject: str
    text: str
    recipients: tuple[str, ...]  # email addresses
    update_url: str


def _clock(value: datetime) -> str:
    return value.strftime("%H:%M UTC")


def _what_was_promised(facts: NagFacts) -> str:
    said = f"(promised at {_clock(facts.made_at)})"
    if facts.promise_kind == "eta":
        return f"Customers were told to expect a resolution by {_clock(facts.due_at)} {said}."
    if facts.promise_kind == "maintenance_end":
        return f"Customers were told the maintenance ends by {_clock(facts.due_at)} {said}."
    if facts.promise_kind == "maintenance_start":
        return (
            f"Customers were told the maintenance starts at {_clock(facts.due_at)} "
            f"{said}; statusboard starts it on the page then."
        )
    if facts.promise_kind == "postmortem":
        return (
            f"Customers were promised a postmortem by {facts.due_at:%d %b %H:%M UTC} "
            f"(promised {facts.made_at:%d %b %H:%M UTC}); write it from the timeline draft."
        )
    return f"Customers were promised the next update by {_clock(facts.due_at)} {said}."


def headline(promise_kind: str, due_at: datetime, now: datetime) -> str:
    """What is due or late, in a few words: the subject of a nag and a banner line."""
    late = now - due_at
    soon = format_minutes(due_at - now + timedelta(seconds=59))  # round up: "in 5 min"
    if promise_kind == "eta":
        if late < timedelta(0):
            return f"ETA in {soon}: revise it or resolve"
        return f"ETA passed {format_minutes(late)} ago: give a revised ETA or resolve"
    if promise_kind == "maintenance_start":
        if late < timedelta(0):
            return f"Maintenance starts in {soon}"
        return "Maintenance starting now"
    if promise_kind == "maintenance_end":
        if late < timedelta(0):
            return f"Maintenance due to end in {soon}"
        return (
            f"Maintenance running {format_minutes(late)} past its end: "
            "post an update or complete it"
        )
    if promise_kind == "postmortem":
        if late < timedelta(0):
            return f"Postmortem due in {soon}"
        return f"Postmortem overdue by {format_minutes(late)}: publish it"
    if late < timedelta(0):
        return f"Next update due in {soon}"
    if late < timedelta(minutes=1):
        return "Update due now"
    return f"Update overdue by {format_minutes(late)}"


def compose(facts: NagFacts, recipients: tuple[str, ...]) -> NagMessage:
    headline_text = headline(facts.promise_kind, facts.due_at, facts.now)
    number = escalation_number(facts.level)
    tag = f" (escalation {number})" if number else ""
    subject = f"{headline_text}{tag}: {facts.incident_name}"
    seen = facts.public_text.strip() or "(no public text)"
    if len(seen) > 600:
        seen = seen[:597].rstrip() + "..."
    posted = f", posted {_clock(facts.public_posted_at)}" if facts.public_posted_at else ""
    lines = [
        f"{headline_text}{tag}.",
        "",
        f"{facts.incident_kind.capitalize()}: {facts.incident_name} "
        f"({facts.impact} impact, {facts.status})",
        _what_was_promised(facts),
        "",
        f"What customers see now (latest update{posted}):",
        *(f"  {line}" for line in seen.splitlines()),
    ]
    if facts.public_line:
        lines.append(f"  The page also says: {facts.public_line}")
    lines += ["", f"Post an update: {facts.update_url}", f"Public page: {facts.incident_url}"]
    if facts.recipient_names:
        lines.append(f"Sent to: {', '.join(facts.recipient_names)}")
    return NagMessage(
        subject=subject, text="\n".join(lines), recipients=recipients, update_url=facts.update_url
    )


@dataclass(frozen=True)
class DraftNagFacts:
    """An alert-started draft nobody has published or dismissed yet."""

    level: str
    draft_name: str
    draft_body: str
    impact: str
    first_alert_at: datetime
    alert_count: int
    alert_titles: tuple[str, ...]  # what monitoring says (operators only)
    now: datetime
    draft_url: str  # the page with "Publish acknowledgement" and "Dismiss as noise"
    recipient_names: tuple[str, ...] = ()


def draft_headline(first_alert_at: datetime, now: datetime) -> str:
    waiting = now - first_alert_at
    if waiting < timedelta(minutes=1):
        return "Monitoring alert: customers have heard nothing yet"
    return f"Monitoring alert {format_minutes(waiting)} ago: customers have heard nothing yet"


def compose_draft(facts: DraftNagFacts, recipients: tuple[str, ...]) -> NagMessage:
    headline_text = draft_headline(facts.first_alert_at, facts.now)
    number = escalation_number(facts.level)
    tag = f" (escalation {number})" if number else ""
    titles = list(facts.alert_titles[:5])
    if len(facts.alert_titles) > 5:
        titles.append(f"... and {len(facts.alert_titles) - 5} more")
    lines = [
        f"{headline_text}{tag}.",
        "",
        f"First alert at {_clock(facts.first_alert_at)}; {facts.alert_count} alert(s) so far:",
        *(f"  - {title}" for title in titles),
        "",
        f"Suggested acknowledgement ({facts.impact} impact):",
        f"  {facts.draft_name}",
        *(f"  {line}" for line in facts.draft_body.splitlines()),
        "",
        f"Publish acknowledgement or dismiss as noise: {facts.draft_url}",
    ]
    if facts.recipient_names:
        lines.append(f"Sent to: {', '.join(facts.recipient_names)}")
    return NagMessage(
        subject=f"{headline_text}{tag}: {facts.draft_name}",
        text="\n".join(lines),
        recipients=recipients,
        update_url=facts.draft_url,
    )
