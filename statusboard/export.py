"""Static export of the public surfaces, for nginx or a CDN to serve when the app can't.

Every surface is rendered by `render_surface`, as the app serves it, so the export is
byte-for-byte what the app serves. Paths map to files nginx finds with
`try_files $uri $uri.html $uri/index.html`: "/" -> index.html, "/incidents/abc" ->
incidents/abc.html, "/feed.atom" -> feed.atom.

The worker keeps the export current (jobs.export_loop): after each new page version it
renders the live surfaces (everything but the pages of incidents untouched for a while and
deep history), compares each file's hash with what every target holds, and writes only the
files that changed, leaves (feeds, JSON, incident pages) before the pages that link to them,
then deletes the surfaces that no longer exist. The work per version depends on what
changed, not on the size of the history; the rest of the site is re-checked a few surfaces
at a time between changes (the sweep), so deep history follows within
STATUSBOARD_EXPORT_FULL_MINUTES. `statusboard export DIR` renders everything at once.
Targets (storage.py) are a directory and/or a bucket; each changed path is handed to the
CDN purge hook through the outbox.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

from flask import Flask
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from statusboard import clock
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.models import Component, Incident
from statusboard.services.page import current_version
from statusboard.services.timeline import HISTORY_PAGE_SIZE
from statusboard.storage import BucketTarget, DirectoryTarget, ExportRefused, File, Target
from statusboard.web.store import store_for
from statusboard.web.surfaces import CACHE_CONTROL, RENDERERS, match, render_surface

__all__ = ["ExportRefused", "ExportResult", "Exporter", "export", "exporter_for", "file_for"]

log = logging.getLogger(__name__)
# History pages rendered on every new version; deeper ones by the sweep and a full export.
LIVE_HISTORY_PAGES = 20
# An incident touched this long before the last export began is rendered again: a write
# that stamped its time before then may have committed after it.
IN_FLIGHT = timedelta(minutes=1)
SWEEP_SLICE = 25  # surfaces the sweep re-checks per round: about a quarter second of rendering
STATIC_SUFFIXES = {".css", ".js", ".svg", ".ico", ".png"}
STATIC_CACHE_CONTROL = "public, max-age=300"  # their names carry no version


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
    """Every public surface (since None), or the live ones: all but the pages of incidents
    untouched since `since` and history beyond LIVE_HISTORY_PAGES."""
    paths: list[str] = []
    adapter = app.url_map.bind(settings_of(app).page.base_url.split("://", 1)[1])
    values: dict[str, list[object]] = {}  # one query per enumerator, however many rules use it
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in RENDERERS:
            continue
        if not rule.arguments - set(rule.defaults or {}):
            paths.append(adapter.build(rule.endpoint, rule.defaults or {}))
            continue
        name, enumerate_values = ARGUMENTS[rule.endpoint]
        key = enumerate_values.__name__
        if key not in values:
            values[key] = list(enumerate_values(session, since))
        if name == "public_id":  # build once, fill in each id: 100,000 ids in milliseconds
            marker = "zzpublicidzz"
            template = adapter.build(rule.endpoint, {name: marker})
            paths.extend(template.replace(marker, str(value)) for value in values[key])
        else:
            paths.extend(adapter.build(rule.endpoint, {name: value}) for value in values[key])
    return sorted(set(paths))


def file_for(path: str) -> str:
    if path == "/":
        return "index.html"
    last = path.rsplit("/", 1)[-1]
    return path.lstrip("/") + ("" if "." in last else ".html")


def paths_of(relative: str) -> list[str]:
    """The addresses a reader may use for an exported file (for the CDN purge): the app's
    path and, for pages, the file's own name, which a CDN in front of a bucket serves."""
    if relative == "index.html":
        return ["/", "/index.html"]
    if relative.endswith(".html"):
        return ["/" + relative.removesuffix(".html"), "/" + relative]
    return ["/" + relative]


def _rank(relative: str) -> int:
    """Leaves first: a page is replaced only once everything it links to is in place."""
    if not relative.endswith(".html"):
        return 0  # feeds, JSON, calendars, static files
    if relative == "index.html":
        return 3
    if relative.startswith("history"):
        return 2
    return 1  # incident pages (they link to their feeds)


@dataclass(frozen=True)
class ExportResult:
    version: int
    files: int  # surfaces rendered and compared
    written: tuple[str, ...]  # files that changed, in the order they were written
    deleted: tuple[str, ...]
    seconds: float

    @property
    def changed_paths(self) -> list[str]:
        return sorted({p for r in self.written + self.deleted for p in paths_of(r)})


def _merged(total: ExportResult, step: ExportResult) -> ExportResult:
    return ExportResult(
        step.version,
        total.files + step.files,
        total.written + tuple(r for r in step.written if r not in total.written),
        total.deleted + step.deleted,
        total.seconds + step.seconds,
    )


class Exporter:
    """Keeps targets equal to the public site, incrementally. One per worker; what each
    target holds is read from it once (at the first run, and at each sweep) and then kept
    in memory as it is written."""

    def __init__(
        self,
        app: Flask,
        targets: list[Target],
        *,
        full_every: timedelta = timedelta(minutes=10),
        on_change: Callable[[ExportResult], None] | None = None,
    ) -> None:
        self.app, self.targets, self.full_every = app, targets, full_every
        self.on_change = on_change
        self.held: dict[str, dict[str, str]] | None = None
        self.version: int | None = None
        self.since: datetime | None = None
        self.sweep: deque[str] = deque()
        self.sweep_started: float | None = None
        self.backlog: dict[str, None] = {}  # live surfaces still to render, oldest first
        self.store = store_for(app)
        self.pool = ThreadPoolExecutor(8, thread_name_prefix="export")

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def sync(self, *, full: bool = False) -> ExportResult | None:
        """Bring every target to the current version. None when it is there already and
        neither the backlog nor the sweep has anything due.

        A new version goes out first as the surfaces readers look at after a write (those
        without route arguments — page, JSON, site feeds — the pages and feeds of the
        incidents written to, and any surface new to the targets). The other live ones
        (component pages and feeds, open incidents that may have turned overdue, history
        pages 2-20) join the backlog, which is worked through a surface at a time and left
        as soon as a newer version exists: a write waits for one surface's rendering, never
        for the rest of the last version's. (Measured with benchmarks/sync.py under a
        64-connection surge, before the backlog: a version's 96 renders took 6.5-10 s, and
        the next write's index.html appeared 8.3 s after the write was answered.)"""
        started, began = time.monotonic(), clock.now()
        with self.app.app_context(), database(self.app).session() as session:
            version, _changed_at = current_version(session)
            new_version = version != self.version
            sweeping = self._sweep_due()
            if not (full or new_version or self.backlog or sweeping):
                return None
            refill = sweeping and not self.sweep
            static = _static_files(self.app) if full or self.version is None or refill else []
            if full or self.held is None or refill:
                self.held = {target.name: target.holdings() for target in self.targets}
            everything = public_paths(self.app, session, None)
            if refill:
                self.sweep.extend(everything)
                self.sweep_started = started
            if full:
                self.backlog.clear()
                first = set(everything)
            elif new_version:
                first, later = self._new_version_steps(session, everything, began)
                for path in first:
                    self.backlog.pop(path, None)
                for path in sorted(later, key=lambda p: (_rank(file_for(p)), p)):
                    self.backlog.setdefault(path)  # those already waiting keep their place
            elif self.backlog:
                first = set()
            else:  # only the sweep: a new version always goes out first
                first = {self.sweep.popleft() for _ in range(min(SWEEP_SLICE, len(self.sweep)))}
            expected = {file_for(p) for p in everything} | {f.relative for f in static}
            result = ExportResult(version, 0, (), (), 0.0)
            if first or static:
                files = self._render(session, sorted(first & set(everything)), version) + static
                result = self._changed(
                    self._publish(version, files, expected, delete=not self.backlog)
                )
            # Only now: a first step that failed (a target away) is tried again next round.
            self.version, self.since = version, began - IN_FLIGHT
            result = _merged(result, self._changed(self._drain(session, version, expected)))
        return replace(result, seconds=time.monotonic() - started)

    def _drain(self, session: Session, version: int, expected: set[str]) -> ExportResult:
        """Work through the backlog a surface at a time, until it is empty or a newer
        version exists (that one goes first; the backlog keeps its order)."""
        result = ExportResult(version, 0, (), (), 0.0)
        while self.backlog:
            path = next(iter(self.backlog))
            files = self._render(session, [path], version)
            last = len(self.backlog) == 1
            result = _merged(result, self._publish(version, files, expected, delete=last))
            del self.backlog[path]  # once written: a failed one stays for the next round
            session.commit()  # ends the read: the next one sees a newer version
            if self.backlog and current_version(session)[0] != version:
                break
        return result

    def _changed(self, result: ExportResult) -> ExportResult:
        """Tell on_change (the CDN purge) what a step changed; one call per step."""
        if (result.written or result.deleted) and self.on_change is not None:
            self.on_change(result)
        return result

    def _new_version_steps(
        self, session: Session, everything: list[str], began: datetime
    ) -> tuple[set[str], set[str]]:
        since = self.since or began - timedelta(hours=1)
        live = set(public_paths(self.app, session, since))
        written_to = set(
            session.scalars(select(Incident.public_id).where(Incident.updated_at >= since))
        )
        first = {p for p in live if self._urgent(p, written_to)}
        first |= {p for p in everything if self._missing(file_for(p))}
        return first, live - first

    def _publish(
        self, version: int, files: list[File], expected: set[str], *, delete: bool
    ) -> ExportResult:
        """Write `files` to every target (and delete what is not `expected`)."""
        started = time.monotonic()
        written: dict[str, None] = {}
        deleted: dict[str, None] = {}
        for target in self.targets:
            w, d = self._apply(target, files, expected, delete=delete)
            written.update(dict.fromkeys(w))
            deleted.update(dict.fromkeys(d))
        return ExportResult(
            version, len(files), tuple(written), tuple(deleted), time.monotonic() - started
        )

    def _urgent(self, path: str, written_to: set[str]) -> bool:
        found = match(self.app.url_map, path)
        if found is None or found[0] not in ARGUMENTS:
            return True
        name, _enumerate = ARGUMENTS[found[0]]
        value = found[1].get(name)
        return value in written_to or (found[0] == "public.history" and value == 1)

    def _sweep_due(self) -> bool:
        if self.sweep:
            return True
        return self.sweep_started is None or (
            time.monotonic() - self.sweep_started >= self.full_every.total_seconds()
        )

    def _missing(self, relative: str) -> bool:
        assert self.held is not None
        return any(relative not in held for held in self.held.values())

    def _render(self, session: Session, paths: list[str], version: int) -> list[File]:
        """The surfaces at `version` or newer: the host's copy when a web process rendered
        it already (under a surge, the page and JSON are, at once), else rendered here and
        kept for them."""
        files = []
        for path in paths:
            rendered = self.store.get(path, at_least=version)
            if rendered is None:
                try:
                    rendered = render_surface(session, path)
                except HTTPException:  # gone between listing and rendering: deleted below
                    continue
                finally:
                    session.expunge_all()  # one surface's rows at a time
                self.store.put(path, rendered)
            files.append(File(file_for(path), rendered.body, rendered.content_type, CACHE_CONTROL))
        return files

    def _apply(
        self, target: Target, files: list[File], expected: set[str], *, delete: bool
    ) -> tuple[list[str], list[str]]:
        assert self.held is not None
        held = self.held[target.name]
        changed = sorted(
            (f for f in files if held.get(f.relative) != f.md5),
            key=lambda f: (_rank(f.relative), f.relative),
        )
        for _rank_value, group in groupby(changed, key=lambda f: _rank(f.relative)):
            batch = list(group)
            list(self.pool.map(target.put, batch))  # a rank is all in before the next starts
            held.update((f.relative, f.md5) for f in batch)
        if not delete:
            return [f.relative for f in changed], []
        stale = sorted(r for r in held if r not in expected and self._is_surface(r))
        list(self.pool.map(target.delete, stale))
        for relative in stale:
            del held[relative]
        return [f.relative for f in changed], stale

    def _is_surface(self, relative: str) -> bool:
        """Only files that are a public surface of ours are deleted: whatever else someone
        keeps beside the export (robots.txt, an error page) stays."""
        if relative.startswith("static/"):
            return False
        try:
            return match(self.app.url_map, paths_of(relative)[0]) is not None
        except HTTPException:
            return False


def _static_files(app: Flask) -> list[File]:
    source = Path(app.static_folder or "")
    files = []
    for file in sorted(source.rglob("*")):
        if file.is_file() and file.suffix in STATIC_SUFFIXES:
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            files.append(
                File(
                    f"static/{file.relative_to(source).as_posix()}",
                    file.read_bytes(),
                    content_type,
                    STATIC_CACHE_CONTROL,
                )
            )
    return files


def exporter_for(app: Flask) -> Exporter | None:
    """The worker's exporter from the settings (None when no export is configured): the
    directory and/or the bucket, and the purge hook when one is set."""
    settings = settings_of(app)
    targets: list[Target] = []
    if settings.export.directory:
        targets.append(DirectoryTarget(settings.export.directory))
    if settings.export.bucket is not None:
        targets.append(BucketTarget(settings.export.bucket))
    if not targets:
        return None
    purge = settings.channels.purge is not None
    return Exporter(
        app,
        targets,
        full_every=settings.export.full_every,
        on_change=(lambda result: queue_purge(app, result)) if purge else None,
    )


def queue_purge(app: Flask, result: ExportResult) -> None:
    """Hand the changed paths to the CDN purge hook, through the outbox like everything
    statusboard sends: a failed purge is retried and shows in the admin."""
    from statusboard.models.delivery import ACCOUNT, Purpose
    from statusboard.services import outbox

    paths = result.changed_paths
    with database(app).session(write_lock=True) as session:
        outbox.queue_letter(
            session,
            purpose=Purpose.PURGE,
            channel="purge",
            to=ACCOUNT,
            subject=f"{len(paths)} paths",
            text=json.dumps(paths),
        )


def export(app: Flask, directory: str | Path) -> ExportResult:
    """Write the whole public site into `directory` now (`statusboard export DIR`)."""
    exporter = Exporter(app, [DirectoryTarget(directory)])
    try:
        result = exporter.sync(full=True)
    finally:
        exporter.close()
    assert result is not None
    log.info("exported %d surfaces of version %d", result.files, result.version)
    return result
