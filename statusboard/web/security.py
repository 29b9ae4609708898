"""What every response says about itself, and what no request may carry, in one place.

Headers: a Content-Security-Policy that runs only our own script files (no inline script,
no eval), lets no other site frame any page (`frame-ancestors 'none'`, and X-Frame-Options
for older browsers) except the endpoints in FRAMEABLE, never lets a browser guess a content
type, sends only the origin to other sites, and asks for HTTPS for two years when the page
is served over https. The snapshot fast path replays these headers with the bytes.

Requests: a body larger than MAX_REQUEST_BYTES is refused with 413 before it is read, and a
NUL or control character in the path, the query or a form field is a 400 before any view or
database sees it (PostgreSQL refuses NUL in text and would otherwise fail the request).
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest

from statusboard.config import settings_of
from statusboard.domain.text import has_forbidden

# Endpoints other sites may frame (the embeddable status widget, when there is one).
FRAMEABLE: frozenset[str] = frozenset()

SCRIPTS_AND_STYLES = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)
HSTS = "max-age=63072000"


def _refuse_control_characters() -> None:
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request.get_data(cache=True)  # kept for views that read the raw body (the JSON API)
        fields += [*request.form.keys(), *request.form.values()]
    if any(has_forbidden(value) for value in fields):
        raise BadRequest(
            "The address or a form field contains a NUL or an invisible control character. "
            "Remove it and try again."
        )


def register_security(app: Flask) -> None:
    settings = settings_of(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.web.max_request_bytes
    https = settings.page.base_url.startswith("https://")
    app.before_request(_refuse_control_characters)

    @app.after_request
    def _headers(response: Response) -> Response:
        frameable = request.endpoint in FRAMEABLE
        ancestors = "*" if frameable else "'none'"
        response.headers["Content-Security-Policy"] = (
            f"{SCRIPTS_AND_STYLES}; frame-ancestors {ancestors}"
        )
        if not frameable:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if https:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
