"""The server's ceiling for benchmarks/surge.py: a few-line WSGI app answering fixed bytes,
run by gunicorn with exactly the options `statusboard run` uses (same environment), at the
same lower priority as its web processes beside the worker.

With RAW_WSGI_RESPONSES naming a JSON file of {path: {"headers": [[name, value], ...],
"body": base64}}, it answers each path with those exact headers and body instead: the
ceiling for sending the very response statusboard sends (its size included).

Usage: python benchmarks/raw_wsgi.py  (STATUSBOARD_* environment as for `statusboard run`)
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statusboard.app import create_app  # noqa: E402
from statusboard.server import _Gunicorn, gunicorn_options  # noqa: E402

BODY = b'{"status":"ok"}'
FIXED = ([("Content-Type", "application/json"), ("Content-Length", "15")], BODY)


def _responses() -> dict[str, tuple[list[tuple[str, str]], bytes]]:
    named = os.environ.get("RAW_WSGI_RESPONSES")
    if not named:
        return {}
    captured = json.loads(Path(named).read_text())
    return {
        path: ([tuple(h) for h in r["headers"]], base64.b64decode(r["body"]))
        for path, r in captured.items()
    }


RESPONSES = _responses()


def application(environ, start_response):
    headers, body = RESPONSES.get(environ.get("PATH_INFO", "/"), FIXED)
    start_response("200 OK", headers)
    return [body]


if __name__ == "__main__":
    # The settings only (the app is not served), as `statusboard run` with its worker has
    # them: the same processes, threads and priority.
    options = gunicorn_options(create_app(), beside_worker=True)
    _Gunicorn(application, options).run()  # type: ignore[arg-type]
