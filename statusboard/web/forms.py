"""Form shapes for the admin UI (Flask-WTF). Forms check shape; rules live in services."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
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
    """The zone the browser reported (static/zone.js), or the page's when it sent none."""
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
    eta = DateTimeLocalField("ETA", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    next_mode = RadioField(
        "Next update", choices=[("in", "In N minutes"), ("by", "By a time")], default="in"
    )
    next_in = IntegerField("Minutes", validators=[Optional(), NumberRange(min=1, max=10080)])
    next_by = StringField("By (HH:MM)", validators=[Optional(), Text(10)])
    time_zone = HiddenField(default="")
    notify = BooleanField("Notify subscribers and social accounts", default=True)

    def zone(self, fallback: str) -> str:
        return operator_zone(self.time_zone.data, fallback)

    def eta_value(self, fallback_zone: str) -> datetime | None:
        """None means "unknown"; the time is read in the operator's zone."""
        if self.eta_mode.data != "time":
            return None
        if self.eta.data is None:
            raise InvalidInput("enter the expected resolution time, or choose unknown", field="eta")
        return local_datetime(self.eta.data, self.zone(fallback_zone))

    def next_update_value(self, fallback_zone: str) -> datetime | None:
        """None means "the default for this impact"."""
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
            return next_occurrence(hour, minute, self.zone(fallback_zone), clock.now())
        if self.next_in.data:
            from datetime import timedelta

            return clock.now() + timedelta(minutes=self.next_in.data)
        return None


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


class ResolveForm(FlaskForm):
    body = TextAreaField(
        "Resolution message (Markdown)",
        validators=[
            DataRequired("Say what happened and that it is fixed."),
            Text(text.MESSAGE_BODY, one_line=False),
        ],
    )
    notify = BooleanField("Notify subscribers and social accounts", default=True)
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
