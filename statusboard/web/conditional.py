"""Responses for the machine surfaces: an ETag from the body itself (the output is
deterministic for the same data), Last-Modified when the data says when it changed, and
304 Not Modified for a conditional GET that already has this body."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Response, request


def conditional_response(body: str, content_type: str, *,
                         last_modified: datetime | None = None) -> Response:
    data = body.encode("utf-8")
    response = Response(data, content_type=content_type)
    response.set_etag(hashlib.sha256(data).hexdigest()[:40])
    if last_modified is not None:
        response.last_modified = last_modified
    # Caches may keep a copy but must revalidate it: during an outage every update counts.
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)
