"""This host's store of rendered surfaces: the newest copy of each on disk, shared by every
process of the host (the web processes, the worker's exporter) and kept for outages and for
processes started during one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from flask import Flask

from statusboard.config import settings_of
from statusboard.web.surfaces import Rendered

log = logging.getLogger(__name__)


class Store:
    """The last good copy of each surface on disk, for outages and processes started in one.
    A file is a JSON header line and the body; it is replaced by renaming, so a reader sees
    the old file or the new one, never half of one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, path: str, at_least: int = 0) -> Rendered | None:
        """The kept copy, if it is of version `at_least` or newer (an older one's body is
        not read)."""
        try:
            with open(self._file(path), "rb") as handle:
                header = json.loads(handle.readline())
                if header["version"] < at_least:
                    return None
                body = handle.read()
        except (OSError, ValueError, KeyError):
            return None
        modified = header["last_modified"]
        return Rendered(
            body=body,
            content_type=header["content_type"],
            etag=header["etag"],
            last_modified=datetime.fromisoformat(modified) if modified else None,
            version=header["version"],
        )

    def put(self, path: str, rendered: Rendered) -> None:
        try:
            with open(self._file(path), "rb") as handle:
                kept = json.loads(handle.readline())["version"]
        except (OSError, ValueError, KeyError):
            kept = 0
        if kept > rendered.version:
            return  # another process stored a newer one meanwhile
        modified = rendered.last_modified
        header = {
            "version": rendered.version,
            "content_type": rendered.content_type,
            "etag": rendered.etag,
            "last_modified": modified.isoformat() if modified else None,
        }
        try:
            write_atomically(self._file(path), json.dumps(header).encode() + b"\n" + rendered.body)
        except OSError:  # a full or read-only disk must not break serving from memory
            log.warning("could not store the last good copy of %s", path, exc_info=True)

    def __contains__(self, path: str) -> bool:
        return self._file(path).exists()

    def _file(self, path: str) -> Path:
        return self.directory / quote(path, safe="")


def write_atomically(path: Path, data: bytes) -> None:
    """Write then rename: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store_for(app: Flask) -> Store:
    """This host's store for the app's database: one per database, so copies of two
    databases never mix."""
    settings = settings_of(app)
    database_key = hashlib.sha256(settings.database_url.encode()).hexdigest()
    return Store(Path(settings.web.snapshot_dir) / database_key[:12])
