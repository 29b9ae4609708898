"""The bare baseline for fanout.py: one process sending already-built deliveries with nothing
around them — no database, no claims, no payload building, no signing, no target checks.

    python benchmarks/_baseline.py SPEC.json

SPEC.json holds the webhook requests (URL, headers, body) and the emails (sender, recipient,
bytes) exactly as the receivers got them from the worker, plus the worker's concurrency.
Webhooks are posted first by that many threads sharing one requests.Session (the channel's
client library, one pooled keep-alive connection per thread); then the emails go one after
another over one SMTP connection. Prints one JSON object: when each phase started and ended,
and the CPU seconds the sending took.
"""

from __future__ import annotations

import base64
import json
import resource
import smtplib
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter


def post_webhooks(hooks: list[dict], concurrency: int) -> None:
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=concurrency)
    session.mount("http://", adapter)

    def post(hook: dict) -> None:
        response = session.post(
            hook["url"], data=hook["body"], headers=hook["headers"], allow_redirects=False
        )
        response.raise_for_status()

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in pool.map(post, hooks):
            pass


def send_emails(emails: list[dict], host: str, port: int) -> None:
    connection = smtplib.SMTP(host, port, timeout=10)
    # As the email channel does: without it each message waits for a delayed ACK.
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for email in emails:
        connection.sendmail(email["from"], [email["to"]], email["data"])
    connection.quit()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    hooks = [{**h, "body": base64.b64decode(h["body"])} for h in spec["webhooks"]]
    emails = [{**e, "data": base64.b64decode(e["data"])} for e in spec["emails"]]
    cpu_before = _cpu_seconds()
    timings = {"webhooks_started": time.time()}
    post_webhooks(hooks, spec["concurrency"])
    timings["webhooks_done"] = timings["emails_started"] = time.time()
    send_emails(emails, spec["smtp_host"], spec["smtp_port"])
    timings["emails_done"] = time.time()
    timings["cpu_s"] = _cpu_seconds() - cpu_before
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
