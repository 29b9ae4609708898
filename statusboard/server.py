"""`statusboard run`: gunicorn serving the app (never the Flask development server)."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import socket
import subprocess
import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from statusboard.config import settings_of
from statusboard.db import database
from statusboard.export import public_paths
from statusboard.web.snapshots import HOT, snapshots

log = logging.getLogger(__name__)


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


def gunicorn_options(app: Flask, *, beside_worker: bool = False) -> dict[str, Any]:
    """Processes use the cores; threads absorb slow clients and requests that wait: a write
    waiting for SQLite's write lock holds its thread meanwhile. Measured with paired runs of
    64 connections on `/` (2 cores, 4 workers), 8 threads per worker against 2: 1,152 and
    1,269 req/s against 508 and 555 without writes, 867 and 614 against 321 and 353 with a
    write every 0.5 s; in a storm of 10 API writers 66-126 req/s against 4-14 (2 threads
    left whole workers with every thread waiting on the write lock)."""
    cores = os.cpu_count() or 1
    web = settings_of(app).web
    return {
        "bind": f"{web.host}:{web.port}",
        "workers": web.workers or min(2 * cores, 8),
        "threads": web.threads,
        "worker_class": "gthread",
        "keepalive": web.keepalive,
        "timeout": web.timeout,
        "graceful_timeout": 20,
        "backlog": 2048,
        # A listening socket per worker: the kernel spreads connections across them. With
        # one shared socket, whichever worker woke first took them (63 of 64 keep-alive
        # connections on one worker, measured), and its GIL set everyone's latency.
        "reuse_port": True,
        # Recycle workers now and then (bounded memory over weeks), but rarely: at a surge's
        # 1,500 requests/s per worker, 20,000 recycled each one every 13 s, dropping its
        # keep-alive connections and starting its caches cold, in the middle of the outage.
        "max_requests": 1_000_000,
        "max_requests_jitter": 100_000,
        "accesslog": "-" if web.access_log else None,
        "errorlog": "-",
        "control_socket_disable": True,
        **({"post_fork": _yield_to_the_worker} if beside_worker else {}),
    }


def _start_worker() -> subprocess.Popen[bytes]:
    """One host, one command: the worker runs beside gunicorn and stops with it."""
    worker = subprocess.Popen([sys.executable, "-m", "statusboard.cli", "worker"])
    atexit.register(worker.terminate)
    return worker


# The web processes started beside a worker yield the CPU to it (os.nice). Under a surge
# they serve copies of what the worker keeps current, and the worker's publishing (export,
# deliveries, nags) is what makes those copies true. Measured with benchmarks/sync.py, a
# 64-connection surge on 2 cores, the exported index.html followed a write by (p50/p99)
# 2.0/3.9 s with the web at nice 0, 1.1/1.9 s at nice 5 and 0.6/0.8 s at nice 10; the app's
# own surfaces showed the write within 1.0, 0.9 and 0.9 s. Idle, nothing changes.
WEB_NICENESS = 10


def _yield_to_the_worker(_server: Any, _worker: Any) -> None:
    os.nice(WEB_NICENESS)


def port_is_free(host: str, port: int) -> bool:
    """A bind without SO_REUSEPORT: it fails when anything listens there already, another
    `statusboard run` included (which SO_REUSEPORT would otherwise let share it). With
    SO_REUSEADDR, as gunicorn binds its own sockets: connections of a stopped server
    waiting out TIME-WAIT do not refuse a restart (a minute of "port in use" otherwise)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(app: Flask, with_worker: bool = True) -> None:
    options = gunicorn_options(app, beside_worker=with_worker)
    host, port = settings_of(app).web.host, settings_of(app).web.port
    if not port_is_free(host, port):
        raise SystemExit(
            f"statusboard: {host}:{port} is already in use (another "
            "`statusboard run`?); stop it or set STATUSBOARD_PORT"
        )
    if with_worker:
        _start_worker()
    base = settings_of(app).page.base_url
    print(
        f"statusboard: public page {base}/  ·  admin {base}/admin/  ·  listening on "
        f"http://{options['bind']}",
        flush=True,
    )
    warm_before_fork(app)
    _Gunicorn(app, options).run()


def warm_before_fork(app: Flask) -> None:
    """Do once, in the master, what every worker would otherwise do on its first requests,
    at the worst moment (a restart during an outage): compile the templates and queries and
    render every public surface this host has no copy of yet, and the ones a surge asks for
    first, so none is missing if the database goes away. Workers inherit all of it. Then move
    everything loaded out of the collector's reach: a full collection no longer walks the
    whole app (about 100 ms of every worker's time, in one pause), and forked workers keep
    sharing those pages."""
    front = snapshots(app)
    try:
        with app.app_context(), database(app).session() as session:
            paths = public_paths(app, session, since=None)
    except Exception:  # the database may be down at start; the store has what it has
        log.warning("could not list the public surfaces", exc_info=True)
        paths = []
    front.warm([path for path in paths if path in HOT or path not in front.store])
    database(app).engine.dispose()  # no connection may cross the fork
    gc.collect()
    gc.freeze()
