"""Domain errors and HTTP errors mapped to responses once, here."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from statusboard.domain.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_response(status: int, code: str, message: str, field: str | None = None):
    if _wants_json():
        return jsonify(error={"code": code, "message": message, "field": field}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return _error_response(error.http_status, error.code, error.message, error.field)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return _error_response(400, "csrf", "This form has expired or was not sent from "
                               "statusboard. Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        response = _error_response(error.code or 500, code, error.description or error.name)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response[0].headers["Allow"] = ", ".join(error.valid_methods)
        return response
