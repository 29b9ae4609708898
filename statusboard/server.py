"""`statusboard run`: gunicorn serving the app (never the Flask development server)."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
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


def _start_worker() -> subprocess.Popen[bytes]:
    """One host, one command: the worker runs beside gunicorn and stops with it."""
    worker = subprocess.Popen([sys.executable, "-m", "statusboard.cli", "worker"])
    atexit.register(worker.terminate)
    return worker


def serve(app: Flask, with_worker: bool = True) -> None:
    options = gunicorn_options(app)
    if with_worker:
        _start_worker()
    base = app.config["STATUSBOARD_BASE_URL"]
    print(f"statusboard: public page {base}/  ·  admin {base}/admin/  ·  listening on "
          f"http://{options['bind']}", flush=True)
    _Gunicorn(app, options).run()
