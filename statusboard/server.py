"""`statusboard run`: gunicorn serving the app (never the Flask development server)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def gunicorn_options(app: Flask) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    return {
        "bind": f"{app.config['STATUSBOARD_HOST']}:{app.config['STATUSBOARD_PORT']}",
        "workers": min(2 * cores + 1, 9),
        "threads": 4,
        "worker_class": "gthread",
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
        "errorlog": "-",
    }


def serve(app: Flask) -> None:
    options = gunicorn_options(app)
    base = app.config["STATUSBOARD_BASE_URL"]
    print(f"statusboard: public page {base}/  ·  admin {base}/admin/  ·  listening on "
          f"http://{options['bind']}", flush=True)
    _Gunicorn(app, options).run()
