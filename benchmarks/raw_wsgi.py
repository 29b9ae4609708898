"""The server's ceiling for benchmarks/surge.py: a few-line WSGI app answering fixed bytes,
run by gunicorn with exactly the options `statusboard run` uses (same environment), at the
same lower priority as its web processes beside the worker.

Usage: python benchmarks/raw_wsgi.py  (STATUSBOARD_* environment as for `statusboard run`)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statusboard.app import create_app  # noqa: E402
from statusboard.server import _Gunicorn, gunicorn_options  # noqa: E402

BODY = b'{"status":"ok"}'


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "15")])
    return [BODY]


if __name__ == "__main__":
    # The settings only (the app is not served), as `statusboard run` with its worker has
    # them: the same processes, threads and priority.
    options = gunicorn_options(create_app(), beside_worker=True)
    _Gunicorn(application, options).run()  # type: ignore[arg-type]
