"""The team under /api/v1/operators: list operators, read one, change their role, activation
and on-call flag. Admin tokens only; the same services and rules as Admin → Operators
(services/operators.py). Authentication and the error shape are api_v1's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from statusboard.clock import iso
from statusboard.db import db_session
from statusboard.domain.errors import Forbidden
from statusboard.models import Operator, Role
from statusboard.services import operators
from statusboard.services.audit import Actor
from statusboard.web import api_v1
from statusboard.web.api_input import Body
from statusboard.web.extensions import csrf

blueprint = Blueprint("api_team", __name__)
csrf.exempt(blueprint)
blueprint.before_request(api_v1.authenticate)
blueprint.after_request(api_v1.challenge)


@blueprint.before_request
def _admins_only() -> None:
    if not g.api_token.operator.is_admin:
        raise Forbidden("only admins can manage operators", field=None)


def operator_json(operator: Operator) -> dict[str, Any]:
    return {
        "email": operator.email,
        "name": operator.name,
        "role": operator.role.value,
        "active": operator.active,
        "on_call": operator.on_call,
        "created_at": iso(operator.created_at),
        "last_login_at": iso(operator.last_login_at) if operator.last_login_at else None,
    }


@blueprint.get("/operators")
def list_operators() -> ResponseReturnValue:
    return jsonify(operators=[operator_json(o) for o in operators.all_operators(db_session())])


@blueprint.get("/operators/<email>")
def read_operator(email: str) -> ResponseReturnValue:
    return jsonify(operator_json(operators.find_operator(db_session(), email)))


@blueprint.patch("/operators/<email>")
def change_operator(email: str) -> ResponseReturnValue:
    """Each field given is applied, in the order role, active, on_call, in one transaction:
    a refusal of any changes nothing."""
    body = Body({"role", "active", "on_call"})
    session = db_session()
    target = operators.find_operator(session, email)
    actor = Actor(g.api_token.operator, via=f"api:{g.api_token.name}")
    role = body.choice("role", Role)
    if role is not None:
        operators.set_role(session, operator=target, role=role, actor=actor)
    if body.has("active"):
        active = body.boolean("active", target.active)
        operators.set_active(session, operator=target, active=active, actor=actor)
    if body.has("on_call"):
        on_call = body.boolean("on_call", target.on_call)
        operators.set_on_call(session, operator=target, on_call=on_call, actor=actor)
    session.commit()
    return jsonify(operator_json(target))
