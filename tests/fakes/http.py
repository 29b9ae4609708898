"""A tiny threaded HTTP server on 127.0.0.1 with scripted failures, base of every fake."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)  # arrival, for latency measurements

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Scripted] = deque()
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds every answer takes (a slow network)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms stalls between headers and body

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with fake.lock:
                    fake.requests.append(seen)
                    scripted = (
                        fake.script.popleft() if fake.script and fake.scriptable(seen) else None
                    )
                if scripted is not None:
                    if scripted.delay:
                        time.sleep(scripted.delay)
                    status, body, headers = scripted.status, scripted.body, scripted.headers
                else:
                    if fake.delay:
                        time.sleep(fake.delay)
                    with fake.lock:
                        status, body, headers = fake.handle(seen)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                if "Content-Type" not in headers:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(
        self, status: int, body: Any, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        self.script.append(Scripted(status, body, headers or {}, delay))

    def scriptable(self, seen: Seen) -> bool:
        """Which requests a scripted answer may replace (default: all)."""
        return True

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        return 200, {}, {}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
