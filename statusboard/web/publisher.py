"""Publication by this host's worker. A write that changed the page asks the worker (over a
local socket) to render and publish the surfaces a surge reads, and waits for its answer,
instead of rendering them in its own web process. There the rendering competes for one
interpreter with every thread answering readers; the worker is otherwise idle in a surge.
Measured with benchmarks/surge.py (SQLite, 64 connections, a write every 0.5 s): 40 ms of
CPU took 130-500 ms in the writer's web process, and the operator's write p95 was 1.1 s.

Without a worker on the host, or when it does not answer within ANSWER_WITHIN, the writer
renders them itself: the answer only saves work, it is never needed for correctness.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

ANSWER_WITHIN = 2.0  # seconds a writer waits for the worker before rendering itself


def address_for(store_directory: Path) -> str:
    """One per host store: the worker and the web processes of one host and database meet
    there (a Linux abstract socket: nothing on disk; elsewhere no worker answers)."""
    digest = hashlib.sha256(str(store_directory.resolve()).encode()).hexdigest()[:24]
    return f"\0statusboard-publish-{digest}"


def ask(address: str, version: int) -> bool:
    """Whether this host's worker has published `version` or a newer one at our asking."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(ANSWER_WITHIN)
            connection.connect(address)
            connection.sendall(b"%d\n" % version)
            answer = connection.makefile("rb").readline()
        return int(answer) >= version
    except (OSError, ValueError):
        return False


class _Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        line = self.rfile.readline(32)  # a version and a newline; anything else goes unanswered
        if not line.endswith(b"\n") or not line[:-1].isdigit():
            return
        self.wfile.write(b"%d\n" % self.server.publish(int(line)))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The worker's side: `publish(version)` renders and publishes at least `version` and
    returns the version published (0 when it could not)."""

    daemon_threads = True

    def __init__(self, address: str, publish: Callable[[int], int]) -> None:
        self.publish = publish
        super().__init__(address, _Handler)


def serve(address: str, publish: Callable[[int], int], stop: threading.Event) -> None:
    """Answer writers until `stop` (another worker of the host answering already: nothing)."""
    try:
        server = Server(address, publish)
    except OSError:
        log.info("another worker publishes for this host")
        return
    with server:
        threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True).start()
        stop.wait()
        server.shutdown()
