"""Alert intake: POST /api/v1/alerts/<source>, authenticated by the source's own token.

A source token opens this one route and nothing else; an operator's API token does not open
it. A payload we cannot read gets a 4xx and is kept in the intake log for the admins; nothing
accepted is lost. 401s are not recorded: anyone on the internet could fill the log.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue

from statusboard.db import db_session
from statusboard.domain.errors import InvalidInput
from statusboard.services import alert_sources, alerts
from statusboard.web.api_input import MalformedBody
from statusboard.web.extensions import csrf

blueprint = Blueprint("api_alerts", __name__)
csrf.exempt(blueprint)


@blueprint.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="statusboard alerts"'
    return response


@blueprint.post("/<source_name>")
def receive(source_name: str) -> ResponseReturnValue:
    session = db_session()
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    source = None
    if scheme.lower() == "bearer" and secret.strip():
        source = alert_sources.authenticate_source(session, source_name, secret.strip())
    if source is None:
        abort(401, "Send this source's alert token: Authorization: Bearer <token>.")
    raw = request.get_data(as_text=True)
    try:
        try:
            payload = json.loads(raw)
        except RecursionError:
            raise MalformedBody("the body is nested too deeply", field="body") from None
        except ValueError as exc:
            raise MalformedBody(f"the body is not JSON: {exc}", field="body") from exc
        intake = alerts.receive(session, source=source, payload=payload)
    except (InvalidInput, MalformedBody) as error:
        session.rollback()
        alerts.record_refusal(session, source=source, raw=raw, error=error.message)
        session.commit()
        raise
    session.commit()
    response = jsonify(
        accepted=len(intake.alerts),
        drafts=[
            {
                "id": d.public_id,
                "state": d.state.value,
                "name": d.name,
                "created": d in intake.created,
            }
            for d in intake.drafts
        ],
    )
    response.status_code = 202
    return response
