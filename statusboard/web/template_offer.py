"""The declare and update forms may start from an incident template (`?template=<id>`,
kept as a hidden field): the form is filled from it, and what is sent is checked against the
template's own text (copy-paste warning); its blanks are refused by the write path."""

from __future__ import annotations

from typing import Any

from flask import request

from statusboard.db import db_session
from statusboard.domain.errors import DomainError
from statusboard.domain.templates import blanks, copies_template
from statusboard.models import IncidentTemplate
from statusboard.services import templates
from statusboard.web import forms

COPY_PASTE = (
    "This is (nearly) the template's own text. Customers notice copy-paste: say what they "
    "see, what you are doing and what comes next in this incident's words — or confirm below."
)


def chosen_template() -> IncidentTemplate | None:
    """The template a form starts from: ?template= on GET, the hidden field on POST."""
    public_id = request.values.get("template", "").strip()
    if not public_id:
        return None
    try:
        return templates.find_template(db_session(), public_id)
    except DomainError:
        return None


def start_from(form: forms.MessageForm, template: IncidentTemplate) -> dict[str, Any]:
    """Fill a fresh form from the template; returns the component choices to show."""
    form.status.data = template.status
    form.body.data = template.body
    impact = getattr(form, "impact", None)
    if impact is not None:
        impact.data = template.impact.value
    return {f"component_{code}": status for code, status in template.components.items()}


def copy_paste(form: forms.MessageForm, template: IncidentTemplate | None) -> bool:
    """Put the copy-paste warning on the body when it (nearly) repeats the template's text,
    unless the operator confirmed it; True when it did."""
    if template is None or request.method != "POST" or request.form.get("confirm_repeat"):
        return False
    body = form.body.data or ""
    # A blank left is refused by the write path, naming it: that says more than this.
    if blanks(body) or not copies_template(body, template.body):
        return False
    form.body.errors = [*form.body.errors, COPY_PASTE]
    return True
