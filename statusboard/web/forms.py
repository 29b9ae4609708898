"""Form shapes for the admin UI (Flask-WTF). Forms check shape; rules live in services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from statusboard import clock
from statusboard.domain import text
from statusboard.domain.errors import InvalidInput
from statusboard.domain.promises import local_datetime, next_occurrence
from statusboard.domain.statuses import ComponentStatus, Impact, IncidentStatus
from statusboard.models import Component

UNCHANGED = ""
# Times are typed like this, 24-hour, in the page's time zone: no browser locale decides
# whether 03/04 is March or April.
DATE_TIME_FORMAT = "%Y-%m-%d %H:%M"
# A promise of silence longer than this is more often a typo (600 for 60) than a plan.
LONG_WAIT = timedelta(hours=4)
# "By 02:05" typed at 02:12 meant today, not tomorrow: a by-time further away than this is
# refused as already passed.
BY_TIME_HORIZON = timedelta(hours=12)


class Text:
    """The field's text normalised by the domain's one rule (see domain/text.py); its
    error becomes the field's error."""

    def __init__(self, max_length: int | None = None, *, one_line: bool = True) -> None:
        self.max_length = max_length
        self.one_line = one_line
        self.field_flags = {"maxlength": max_length} if max_length else {}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        try:
            field.data = text.clean(
                field.data,
                field=field.name,
                max_length=self.max_length,
                one_line=self.one_line,
                label=str(field.label.text).split(" (")[0].lower(),
            )
        except InvalidInput as error:
            raise ValidationError(error.message) from None


def operator_zone(name: str | None, fallback: str) -> str:
    """The zone a client names in `time_zone` (API-like form posts), or the page's: the admin
    forms send none, so operators type times in the page's zone."""
    name = (name or "").strip()
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


IMPACT_CHOICES = [(i.value, i.label) for i in Impact]
OPEN_STATUS_CHOICES = [
    (s.value, s.label)
    for s in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
]
UPDATE_STATUS_CHOICES = OPEN_STATUS_CHOICES + [(IncidentStatus.RESOLVED.value, "Resolved")]
COMPONENT_STATUS_CHOICES = [(s.value, s.label) for s in ComponentStatus]


class MessageForm(FlaskForm):
    """What every public message has: status, body, ETA, next-update promise, components."""

    status = SelectField("Status", choices=UPDATE_STATUS_CHOICES)
    body = TextAreaField(
        "Message to customers (Markdown)",
        validators=[
            DataRequired("Write what customers should know."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )
    eta_mode = RadioField(
        "Expected resolution",
        choices=[("unknown", "Unknown for now"), ("time", "At a time")],
        default="unknown",
    )
    eta = StringField("ETA (YYYY-MM-DD HH:MM)", validators=[Optional(), Text(20)])
    next_mode = RadioField(
        "Next update", choices=[("in", "In N minutes"), ("by", "By a time")], default="in"
    )
    next_in = IntegerField("Minutes", validators=[Optional(), NumberRange(min=1, max=10080)])
    next_by = StringField("By (HH:MM)", validators=[Optional(), Text(10)])
    confirm_long = BooleanField("Yes, customers should wait that long for the next update")
    time_zone = HiddenField(default="")
    notify = BooleanField("Notify subscribers and social accounts", default=True)

    def zone(self, fallback: str) -> str:
        return operator_zone(self.time_zone.data, fallback)

    long_wait_asked = False  # the template then offers `confirm_long`

    def eta_value(self, fallback_zone: str) -> datetime | None:
        """None means "unknown"; the time is read in the page's zone (or one the client
        names). A time typed while "unknown" is chosen is an error, never dropped."""
        typed = (self.eta.data or "").strip()
        if self.eta_mode.data != "time":
            if typed:
                raise InvalidInput(
                    f"you typed the ETA {typed} but chose “Unknown for now”: choose “At a "
                    "time” to promise it, or clear the time",
                    field="eta",
                )
            return None
        if not typed:
            raise InvalidInput("enter the expected resolution time, or choose unknown", field="eta")
        return local_datetime(parse_date_time(typed, field="eta"), self.zone(fallback_zone))

    def next_update_value(self, fallback_zone: str) -> datetime | None:
        """None means "the default for this impact". A by-time that has passed today is an
        error (not tomorrow); a wait over LONG_WAIT needs `confirm_long`."""
        now = clock.now()
        if self.next_mode.data == "by":
            text = (self.next_by.data or "").strip()
            try:
                hour, minute = (int(part) for part in text.split(":"))
                if not (0 <= hour < 24 and 0 <= minute < 60):
                    raise ValueError
            except ValueError:
                raise InvalidInput(
                    "give the next update time as HH:MM, e.g. 14:30", field="next_by"
                ) from None
            zone = self.zone(fallback_zone)
            at = next_occurrence(hour, minute, zone, now)
            if at - now > BY_TIME_HORIZON:
                local_now = now.astimezone(ZoneInfo(zone))
                raise InvalidInput(
                    f"{hour:02d}:{minute:02d} has already passed — it is {local_now:%H:%M} now "
                    f"({zone}). Give a later time, or a number of minutes",
                    field="next_by",
                )
            field = "next_by"
        elif self.next_in.data:
            at, field = now + timedelta(minutes=self.next_in.data), "next_in"
        else:
            return None
        if at - now > LONG_WAIT and not self.confirm_long.data:
            self.long_wait_asked = True
            raise InvalidInput(
                f"that promises the next update in {_duration(at - now)}; customers hear "
                f"nothing until then. Tick the box below to confirm, or promise a sooner time",
                field=field,
            )
        return at


def parse_date_time(typed: str, *, field: str) -> datetime:
    """ "2026-11-24 14:30" (a "T" instead of the space is fine): a naive wall-clock time."""
    try:
        return datetime.strptime(typed.replace("T", " "), DATE_TIME_FORMAT)
    except ValueError:
        raise InvalidInput(
            f"write the time as YYYY-MM-DD HH:MM, 24-hour, e.g. 2026-11-24 14:30 (not “{typed}”)",
            field=field,
        ) from None


def _duration(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def component_field_name(component: Component) -> str:
    return f"component_{component.public_id}"


def component_changes(
    form_data: dict[str, str], leaves: list[Component]
) -> dict[Component, ComponentStatus]:
    """Read the per-component selects; "" leaves a component out of the change."""
    changes: dict[Component, ComponentStatus] = {}
    known = {component_field_name(c): c for c in leaves}
    for key in form_data:
        if key.startswith("component_") and key not in known:
            raise InvalidInput(
                "that component does not exist (any more); reload the form", field="components"
            )
    for name, component in known.items():
        value = form_data.get(name, UNCHANGED)
        if value == UNCHANGED:
            continue
        try:
            changes[component] = ComponentStatus(value)
        except ValueError:
            raise InvalidInput(f"unknown status for {component.name}", field="components") from None
    return changes


class DeclareForm(MessageForm):
    name = StringField(
        "Incident name (what customers see)",
        validators=[DataRequired("Give the incident a name."), Text(text.INCIDENT_NAME)],
    )
    impact = SelectField("Impact", choices=IMPACT_CHOICES, default=Impact.MAJOR.value)
    status = SelectField("Status", choices=OPEN_STATUS_CHOICES)
    started_at = StringField(
        "It began at, if earlier than now (YYYY-MM-DD HH:MM)", validators=[Optional(), Text(20)]
    )

    def started_at_value(self, fallback_zone: str) -> datetime | None:
        """A backfill: the past time it began, in the page's zone (or one posted); None = now."""
        if not self.started_at.data:
            return None
        typed = parse_date_time(self.started_at.data.strip(), field="started_at")
        return local_datetime(typed, self.zone(fallback_zone))


class ResolveForm(FlaskForm):
    body = TextAreaField(
        "Resolution message (Markdown)",
        validators=[
            DataRequired("Say what happened and that it is fixed."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )
    notify = BooleanField("Notify subscribers and social accounts", default=True)
    resolved_at = StringField(
        "It ended at, if earlier than now (YYYY-MM-DD HH:MM)", validators=[Optional(), Text(20)]
    )
    time_zone = HiddenField(default="")

    def resolved_at_value(self, fallback_zone: str) -> datetime | None:
        """A backfill: the past time it ended, in the page's zone (or one posted); None = now."""
        if not self.resolved_at.data:
            return None
        typed = parse_date_time(self.resolved_at.data.strip(), field="resolved_at")
        return local_datetime(typed, operator_zone(self.time_zone.data, fallback_zone))

    promise_postmortem = BooleanField("Promise a postmortem")
    postmortem_by = DateField("Postmortem by", validators=[Optional()])

    def postmortem_date(self) -> date | None:
        return self.postmortem_by.data if self.promise_postmortem.data else None


class PostmortemForm(FlaskForm):
    body = TextAreaField(
        "Postmortem (Markdown)",
        validators=[
            DataRequired("Write the postmortem."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
        render_kw={"rows": 24},
    )
    notify = BooleanField("Send it to everyone who heard of the incident", default=True)


class CorrectionForm(FlaskForm):
    body = TextAreaField(
        "Corrected message (Markdown)",
        validators=[
            DataRequired("Write the corrected message."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )


class ComponentForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter a name."), Text(text.COMPONENT_NAME)]
    )
    description = StringField(
        "Description (optional)", validators=[Optional(), Text(text.COMPONENT_DESCRIPTION)]
    )
    group = SelectField("Group", choices=[], validate_choice=False)
    is_group = BooleanField("This is a group of components")


class ComponentStatusForm(FlaskForm):
    status = SelectField("Status", choices=COMPONENT_STATUS_CHOICES)


class OperatorForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Text(text.OPERATOR_NAME)])
    password = PasswordField(
        "Initial password (10+ characters)", validators=[InputRequired(), Length(min=10, max=256)]
    )
    admin = BooleanField("Admin (manages operators and components)")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Text(text.OPERATOR_NAME)])
    signing = RadioField(
        "Sign my public updates with my name",
        choices=[
            ("page", "As the page does"),
            ("yes", "Always sign them"),
            ("no", "Never: they appear without my name"),
        ],
        default="page",
    )

    SIGNING = {"page": None, "yes": True, "no": False}

    def sign_updates_choice(self) -> bool | None:
        return self.SIGNING.get(self.signing.data or "page")

    def show_signing(self, choice: bool | None) -> None:
        self.signing.data = {None: "page", True: "yes", False: "no"}[choice]

    password = PasswordField(
        "New password (leave empty to keep)", validators=[Optional(), Length(min=10, max=256)]
    )
    current_password = PasswordField(
        "Current password (needed to change it)", validators=[Optional(), Length(max=256)]
    )
