"""HTTP edge: blueprints and the Flask extensions they share."""

from __future__ import annotations

from flask import Flask

from statusboard.web.extensions import csrf, limiter, login_manager


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from statusboard.web import (
        admin,
        admin_alerts,
        admin_maintenance,
        admin_nags,
        admin_peak_hours,
        admin_postmortems,
        admin_publishing,
        admin_report,
        admin_subscribers,
        admin_team,
        admin_templates,
        admin_tokens,
        api_alerts,
        api_team,
        api_v1,
        api_v2,
        auth,
        feeds,
        public,
        subscribe,
        uptime,
    )

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(admin.blueprint, url_prefix="/admin")
    app.register_blueprint(admin_nags.blueprint, url_prefix="/admin/nags")
    app.register_blueprint(admin_team.blueprint, url_prefix="/admin")
    app.register_blueprint(public.blueprint)
    app.register_blueprint(api_v2.blueprint, url_prefix="/api/v2")
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(uptime.blueprint)
    app.register_blueprint(api_v1.blueprint, url_prefix="/api/v1")
    app.register_blueprint(api_team.blueprint, url_prefix="/api/v1")
    app.register_blueprint(api_alerts.blueprint, url_prefix="/api/v1/alerts")
    app.register_blueprint(admin_alerts.blueprint, url_prefix="/admin")
    app.register_blueprint(admin_tokens.blueprint, url_prefix="/admin/tokens")
    app.register_blueprint(admin_maintenance.blueprint, url_prefix="/admin/maintenance")
    app.register_blueprint(subscribe.blueprint)
    app.register_blueprint(admin_publishing.blueprint, url_prefix="/admin/publishing")
    app.register_blueprint(admin_report.blueprint, url_prefix="/admin/report")
    app.register_blueprint(admin_postmortems.blueprint, url_prefix="/admin/incidents")
    app.register_blueprint(admin_templates.blueprint, url_prefix="/admin/templates")
    app.register_blueprint(admin_peak_hours.blueprint, url_prefix="/admin/peak-hours")
    app.register_blueprint(admin_subscribers.blueprint, url_prefix="/admin/subscribers")
