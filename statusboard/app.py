"""The application factory: a table of contents of register_* steps. No I/O happens here."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

from flask import Flask, current_app

from statusboard.channels.base import Channel
from statusboard.channels.registry import build_channels
from statusboard.config import load_config, settings_of
from statusboard.db import database, register_database
from statusboard.services.channel_sessions import database_session_store
from statusboard.web import register_blueprints, register_extensions
from statusboard.web.errors import register_error_handlers
from statusboard.web.security import register_security
from statusboard.web.snapshots import register_snapshots
from statusboard.web.templating import register_templating

CHANNELS = "statusboard.channels"


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(resources.files("statusboard._templates")),
        static_folder=str(resources.files("statusboard._static")),
        static_url_path="/static",
    )
    load_config(app, overrides)  # defaults -> STATUSBOARD_* env -> overrides (tests)
    register_database(app)
    register_channels(app)  # app.extensions["statusboard.channels"]
    register_extensions(app)  # CSRF, login manager, rate limiter
    register_templating(app)
    register_snapshots(app)  # public surfaces rendered once per data version
    register_security(app)  # headers on every response, request size and character guards
    register_blueprints(app)
    register_error_handlers(app)
    return app


def register_channels(app: Flask) -> None:
    """The configured channels, built once; Bluesky keeps its login in the database."""
    settings = settings_of(app)
    app.extensions[CHANNELS] = build_channels(
        settings.channels,
        page_name=settings.page.name,
        bluesky_sessions=database_session_store(database(app), "bluesky"),
    )


def channels(app: Flask | None = None) -> dict[str, Channel]:
    return (app or current_app).extensions[CHANNELS]  # type: ignore[no-any-return]
