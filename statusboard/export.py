"""Static export of the public surfaces, for nginx or a CDN to serve when the app can't.

Every surface is rendered by `render_surface`, as the app serves it, so the export is
byte-for-byte what the app serves. Files are written then renamed, so a reader never sees half
of one. Paths map to files nginx finds with `try_files $uri $uri.html $uri/index.html`:
"/" -> index.html, "/incidents/abc" -> incidents/abc.html, "/feed.atom" -> feed.atom.
The export writes only inside its directory: it refuses an empty or non-directory target and
never follows a symbolic link inside it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.models import Component, Incident
from statusboard.services.page import current_version
from statusboard.services.timeline import HISTORY_PAGE_SIZE
from statusboard.web.snapshots import write_atomically
from statusboard.web.surfaces import RENDERERS, render_surface

log = logging.getLogger(__name__)
STATE_FILE = ".statusboard-export.json"
# History pages re-rendered on every new version; deeper ones on a full export.
LIVE_HISTORY_PAGES = 20
FULL_EXPORT_EVERY = timedelta(minutes=10)


class ExportRefused(Exception):
    """The target is not a directory the export may write into."""


def export_due(app: Flask) -> ExportResult | None:
    """The worker's job: rewrite the export after each new version (incrementally), and in
    full now and then so deep history pages follow too."""
    target = settings_of(app).web.export_dir
    if not target:
        return None
    directory = Path(target)
    state_path = directory / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    full_at = state.get("full_at")
    full = (
        not isinstance(full_at, str)
        or clock.now() - datetime.fromisoformat(full_at) > FULL_EXPORT_EVERY
    )
    result = export(app, directory, full=full)
    if result is not None:
        log.info(
            "exported %d surfaces of version %d in %.2fs",
            result.files,
            result.version,
            result.seconds,
        )
    return result


@dataclass(frozen=True)
class ExportResult:
    version: int
    files: int
    seconds: float


def _incident_ids(session: Session, since: datetime | None) -> list[str]:
    query = select(Incident.public_id)
    if since is not None:  # open ones may have turned overdue without changing
        query = query.where(or_(Incident.updated_at >= since, Incident.resolved_at.is_(None)))
    return list(session.scalars(query))


def _component_ids(session: Session, since: datetime | None) -> list[str]:
    return list(session.scalars(select(Component.public_id)))


def _history_pages(session: Session, since: datetime | None) -> list[int]:
    total = session.scalar(select(func.count(Incident.id))) or 0
    pages = max(1, -(-total // HISTORY_PAGE_SIZE))
    return list(range(2, (min(pages, LIVE_HISTORY_PAGES) if since else pages) + 1))


# Route argument enumerators, by endpoint: every surface with route arguments needs one
# (a test checks), so a new public surface cannot silently miss the export.
ARGUMENTS: dict[str, tuple[str, Callable[[Session, datetime | None], Iterable[object]]]] = {
    "public.incident": ("public_id", _incident_ids),
    "public.history": ("page", _history_pages),
    **{f"feeds.incident_{fmt}": ("public_id", _incident_ids) for fmt in ("atom", "rss", "json")},
    **{f"feeds.component_{fmt}": ("public_id", _component_ids) for fmt in ("atom", "rss", "json")},
    "uptime.component": ("public_id", _component_ids),
    "uptime.component_status_badge": ("public_id", _component_ids),
    "uptime.component_uptime_badge": ("public_id", _component_ids),
}


def public_paths(app: Flask, session: Session, since: datetime | None) -> list[str]:
    paths: list[str] = []
    adapter = app.url_map.bind(settings_of(app).page.base_url.split("://", 1)[1])
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in RENDERERS:
            continue
        if not rule.arguments - set(rule.defaults or {}):
            paths.append(adapter.build(rule.endpoint, rule.defaults or {}))
            continue
        name, enumerate_values = ARGUMENTS[rule.endpoint]
        paths.extend(
            adapter.build(rule.endpoint, {name: value})
            for value in enumerate_values(session, since)
        )
    return sorted(set(paths))


def file_for(path: str) -> str:
    if path == "/":
        return "index.html"
    last = path.rsplit("/", 1)[-1]
    return path.lstrip("/") + ("" if "." in last else ".html")


def export(app: Flask, directory: str | Path, *, full: bool = True) -> ExportResult | None:
    """Write the public site into `directory`; incremental unless `full`. None when the
    export is already at the current version."""
    started = time.monotonic()
    directory = _target(str(directory))
    state_path = directory / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    with app.app_context(), database(app).session() as session:
        version, _changed_at = current_version(session)
        if not full and state.get("version") == version:
            return None
        since = (
            None
            if full or "exported_at" not in state
            else datetime.fromisoformat(state["exported_at"])
        )
        exported_at = clock.now()
        paths = public_paths(app, session, since)
        for path in paths:
            _write(directory, file_for(path), render_surface(session, path).body)
            session.expunge_all()  # one surface's rows at a time, however long the history
    _copy_static(app, directory)
    state.update(version=version, exported_at=exported_at.isoformat())
    if full:
        state["full_at"] = exported_at.isoformat()
    write_atomically(state_path, json.dumps(state).encode())
    return ExportResult(version, len(paths), time.monotonic() - started)


def _target(name: str) -> Path:
    if not name.strip():  # Path("") would be the current directory
        raise ExportRefused("give the directory to export into")
    directory = Path(name)
    if directory.exists() and not directory.is_dir():
        raise ExportRefused(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write(directory: Path, relative: str, data: bytes) -> None:
    """Write `directory/relative`, refusing any symbolic link on the way (one could lead out
    of the export, and the export writes nothing outside it)."""
    target = directory
    for part in Path(relative).parts:
        target = target / part
        if target.is_symlink():
            raise ExportRefused(f"{target} is a symbolic link; the export does not follow links")
    write_atomically(target, data)


def _copy_static(app: Flask, directory: Path) -> None:
    source = Path(app.static_folder or "")
    for file in source.rglob("*"):
        if file.is_file() and file.suffix in {".css", ".js", ".svg", ".ico", ".png"}:
            relative = f"static/{file.relative_to(source)}"
            destination = directory / relative
            if (
                destination.is_symlink()
                or not destination.exists()
                or destination.read_bytes() != file.read_bytes()
            ):
                _write(directory, relative, file.read_bytes())
