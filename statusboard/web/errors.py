"""Domain errors and HTTP errors mapped to responses once, here."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from statusboard.domain.errors import DomainError
from statusboard.web.snapshots import DatabaseUnavailable

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_response(
    status: int, code: str, message: str, field: str | None = None
) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error={"code": code, "message": message, "field": field}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> ResponseReturnValue:
        return _error_response(error.http_status, error.code, error.message, error.field)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        return _error_response(
            400,
            "csrf",
            "This form has expired or was not sent from "
            "statusboard. Go back, reload the page and try again.",
        )

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(OperationalError)
    def _database_down(error: Exception) -> ResponseReturnValue:
        # Operators see the page below; whoever runs the service needs the reason.
        log.warning(
            "database unavailable for %s %s: %s",
            request.method,
            request.path,
            error,
            exc_info=isinstance(error, OperationalError),
        )
        response = make_response(
            _error_response(
                503,
                "database_unavailable",
                "The database cannot be reached right now, so nothing was read or saved. "
                "Try again in a minute; the public status page keeps showing its last state.",
            )
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        code = (error.name or "error").lower().replace(" ", "_")
        response = make_response(
            _error_response(error.code or 500, code, error.description or error.name)
        )
        allowed = getattr(error, "valid_methods", None)  # MethodNotAllowed carries them
        if error.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
