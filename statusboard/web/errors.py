"""Domain errors and HTTP errors mapped to responses once, here."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from statusboard.config import settings_of
from statusboard.domain.errors import DomainError
from statusboard.web.snapshots import DatabaseUnavailable

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_response(
    status: int, code: str, message: str, field: str | None = None, *, database: bool = True
) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error={"code": code, "message": message, "field": field}), status
    if not database:
        # Without the context processors: Flask-Login's loads the operator from the database,
        # which is what is missing. The page needs nothing but its settings.
        page = current_app.jinja_env.get_template("error.html").render(
            status=status, message=message, page_name=settings_of().page.name
        )
        return page, status
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
                database=False,
            )
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = app.config["MAX_CONTENT_LENGTH"]
        return _error_response(
            413,
            "request_too_large",
            f"The request is larger than the {limit // 1024} KB this server accepts. "
            "Send less (a shorter message), or ask whoever runs statusboard to raise "
            "STATUSBOARD_MAX_REQUEST_BYTES.",
        )

    @app.errorhandler(DataError)
    def _unstorable(error: DataError) -> ResponseReturnValue:
        # The edges refuse what the database cannot hold (domain/text.py, bounded numbers);
        # should one slip through, it is still the request's fault, not the server's.
        log.warning("database refused a value for %s %s: %s", request.method, request.path, error)
        return _error_response(
            400, "unstorable_value", "A value in the request cannot be stored; nothing was saved."
        )

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
