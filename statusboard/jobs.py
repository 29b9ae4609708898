"""The scheduler's job table and the worker entry point (`statusboard worker`).

APScheduler is only a timer here: every durable fact lives in our tables, so a restart loses
nothing and two workers do no harm (each job claims rows or relies on unique constraints).
Each job opens its own session(s), calls a service and commits; jobs hold no rules.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger("statusboard.worker")


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Flask], object]
    every: timedelta


def _advance_maintenance(app: Flask) -> object:
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.services.maintenance import advance_windows

    with database(app).session(write_lock=True) as session:
        return advance_windows(session, publishing_settings=settings_of(app).publishing)


def _heartbeat(app: Flask) -> object:
    from statusboard import clock
    from statusboard.db import database
    from statusboard.services import health

    with database(app).session(write_lock=True) as session:
        health.beat(session, worker=f"{socket.gethostname()}:{os.getpid()}", now=clock.now())
    return None


def check_promises(app: Flask) -> object:
    """Mark broken promises and queue the nags due (services.promises.check_promises)."""
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.services.nags import NagSetup
    from statusboard.services.promises import check_promises as check

    setup = NagSetup.from_settings(settings_of(app))
    report = check(database(app), setup=setup)
    if report.broken or report.nagged:
        log.info("promises: %d broken, %d nag(s) queued", report.broken, len(report.nagged))
    return report


def _start_the_day(app: Flask) -> object:
    from statusboard import clock
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.services.page import start_the_day

    zone = settings_of(app).page.time_zone
    with database(app).session(write_lock=True) as session:
        return start_the_day(session, zone=zone, now=clock.now())


JOBS: list[Job] = [
    # Every 2 s: a nag reaches operators within seconds of a broken promise, with room to spare
    # under load (an idle check is two small queries).
    Job("check-promises", check_promises, every=timedelta(seconds=2)),
    Job("maintenance-windows", _advance_maintenance, every=timedelta(seconds=5)),
    Job("heartbeat", _heartbeat, every=timedelta(seconds=10)),  # read by /readyz
    Job("new-day", _start_the_day, every=timedelta(seconds=30)),  # bars move on at midnight
]


def _guarded(app: Flask, job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            with app.app_context():
                job.run(app)
        except Exception:  # one failed run must not stop the timer; the next run retries
            log.exception("job %s failed", job.id)

    return run


def build_scheduler(app: Flask, jobs: list[Job] | None = None) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    for job in JOBS if jobs is None else jobs:
        scheduler.add_job(
            _guarded(app, job),
            "interval",
            id=job.id,
            name=job.id,
            seconds=job.every.total_seconds(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            replace_existing=True,
        )
    return scheduler


def delivery_loop(app: Flask, stop: threading.Event, *, idle: float = 0.2) -> None:
    """Send deliveries as soon as they are committed: a short poll (an indexed query) rather
    than the scheduler's interval, so the first attempt follows the commit within a second."""
    from statusboard.app import channels
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.services import outbox

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    settings = settings_of(app)
    context = outbox.OutboxContext.from_settings(settings, app.config["SECRET_KEY"])
    worker = f"{socket.gethostname()}:{os.getpid()}"
    concurrency = settings.delivery.concurrency
    with app.app_context(), ThreadPoolExecutor(concurrency) as executor:
        registry, db = channels(app), database(app)
        threading.Thread(
            target=_renew_claims, args=(app, worker, context.lease, stop), daemon=True
        ).start()
        while not stop.is_set():
            try:
                claimed = outbox.deliver_due(
                    db,
                    registry,
                    context,
                    worker=worker,
                    # A round claims, sends, then records; the fewer rounds, the fewer
                    # pauses in sending. Measured with benchmarks/fanout.py (10,000 webhooks
                    # and 10,000 emails), 512 against 256: webhook rate 0.72 against 0.53
                    # and 0.63 of the bare baseline on PostgreSQL, 0.85 against 0.72 and
                    # 0.82 on SQLite. Claims are renewed while they are sent.
                    limit=concurrency * 32,
                    executor=executor,
                )
            except Exception:  # the database went away: wait and try again
                log.exception("delivery round failed")
                claimed = 0
            if not claimed:
                stop.wait(idle)
    for channel in registry.values():  # end open connections (SMTP) politely
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def _renew_claims(app: Flask, worker: str, lease: timedelta, stop: threading.Event) -> None:
    """Every third of a lease, extend the claims this worker is still sending."""
    from statusboard.db import database
    from statusboard.services import outbox

    while not stop.wait(lease.total_seconds() / 3):
        try:
            with database(app).session(write_lock=True) as session:
                outbox.renew_claims(session, worker=worker, lease=lease)
        except Exception:  # the database went away: the next round tries again
            log.exception("renewing delivery claims failed")


def export_loop(app: Flask, stop: threading.Event, *, idle: float = 0.1) -> None:
    """Keep the static export (directory and/or bucket) at the current page version. The
    version is read every `idle` seconds, one primary-key read on a connection the loop
    keeps (measured: 13 µs on SQLite, 170 µs wall and 42 µs of CPU on PostgreSQL over
    loopback, so 10 reads a second cost under 0.1% of a core), and a new version is
    exported at once, incrementally (export.Exporter). LISTEN/NOTIFY would save those reads
    on PostgreSQL only, at the price of a connection that must be watched and re-opened;
    polling works the same on both databases. A backlog left for a newer version is taken up
    again at once; with nothing new, the sweep re-checks a few older surfaces once a second."""
    from statusboard.db import database
    from statusboard.export import exporter_for
    from statusboard.web.versions import VersionReader

    try:
        exporter = exporter_for(app)
    except Exception:  # a refused directory, a malformed bucket setting
        log.exception("the static export is off")
        return
    if exporter is None:
        return
    versions = VersionReader(database(app).engine)
    exported: int | None = None
    last_run = 0.0
    try:
        while not stop.is_set():
            try:
                version = versions.read().version
                due = version != exported or exporter.backlog
                if due or time.monotonic() - last_run >= 1.0:
                    last_run = time.monotonic()
                    result = exporter.sync()
                    exported = exporter.version
                    if result is not None and (result.written or result.deleted):
                        log.info(
                            "export: version %d, %d files written, %d deleted in %.2fs",
                            result.version,
                            len(result.written),
                            len(result.deleted),
                            result.seconds,
                        )
            except Exception:  # a target or the database went away: try again shortly
                log.exception("export failed")
                stop.wait(1.0)
            if not exporter.backlog:  # left for a newer version: export that one at once
                stop.wait(idle)
    finally:
        exporter.close()


def run_worker(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Jobs run every few seconds: log what they did, not that they ran.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    from statusboard.config import settings_of

    if not settings_of(app).channels.enabled & {"email", "chat"}:
        log.warning(
            "no nag channels: set STATUSBOARD_SMTP_HOST and/or STATUSBOARD_CHAT_WEBHOOK_URL; "
            "until then nags show only in the admin banner"
        )
    scheduler = build_scheduler(app)
    # The loaded app (modules, mappers, compiled queries) is permanent: keep it out of the
    # collector's full passes, which otherwise walk it again for every few thousand ORM
    # objects a large fan-out creates.
    gc.collect()
    gc.freeze()
    stopping = threading.Event()
    deliveries = threading.Thread(
        target=delivery_loop, args=(app, stopping), name="deliveries", daemon=True
    )
    deliveries.start()
    threading.Thread(target=export_loop, args=(app, stopping), name="export", daemon=True).start()
    from statusboard.web import publisher
    from statusboard.web.snapshots import snapshots

    front = snapshots(app)  # answers this host's writers (web/publisher.py)
    threading.Thread(
        target=publisher.serve,
        args=(front.publisher, front.publish, stopping),
        name="publisher",
        daemon=True,
    ).start()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started with jobs: %s", ", ".join(j.id for j in JOBS) or "(none)")
    scheduler.start()
