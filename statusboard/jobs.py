"""The scheduler's job table and the worker entry point (`statusboard worker`).

APScheduler is only a timer here: every durable fact lives in our tables, so a restart loses
nothing and two workers do no harm (each job claims rows or relies on unique constraints).
Each job opens its own session(s), calls a service and commits; jobs hold no rules.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
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


def _export_site(app: Flask) -> object:
    from statusboard.export import export_due

    return export_due(app)


def _advance_maintenance(app: Flask) -> object:
    from statusboard.db import database
    from statusboard.services.maintenance import advance_windows

    with database(app).session(write_lock=True) as session:
        return advance_windows(session)


def check_promises(app: Flask) -> object:
    """Mark broken promises and send the nags due (services.promises.check_promises)."""
    from statusboard.db import database
    from statusboard.services.nags import NagSetup
    from statusboard.services.promises import check_promises as check

    setup = app.extensions.get("statusboard.nag_setup")
    if setup is None:
        setup = app.extensions["statusboard.nag_setup"] = NagSetup.from_settings(app.config)
        if not setup.channels:
            log.warning("no nag channels: set STATUSBOARD_SMTP_HOST and/or "
                        "STATUSBOARD_CHAT_WEBHOOK_URL; until then nags show only in the admin "
                        "banner")
    report = check(database(app), setup=setup)
    if report.broken or report.nagged:
        log.info("promises: %d broken, %d nag(s) due, %d with a failed channel",
                 report.broken, len(report.nagged), len(report.failed))
    return report


JOBS: list[Job] = [
    # Every 2 s: a nag reaches operators within seconds of a broken promise, with room to spare
    # under load (an idle check is two small queries).
    Job("check-promises", check_promises, every=timedelta(seconds=2)),
    Job("maintenance-windows", _advance_maintenance, every=timedelta(seconds=5)),
    Job("export-site", _export_site, every=timedelta(seconds=2)),
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
        scheduler.add_job(_guarded(app, job), "interval", id=job.id, name=job.id,
                          seconds=job.every.total_seconds(), coalesce=True, max_instances=1,
                          misfire_grace_time=None, replace_existing=True)
    return scheduler


def run_worker(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Jobs run every few seconds: log what they did, not that they ran.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = build_scheduler(app)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started with jobs: %s", ", ".join(j.id for j in JOBS) or "(none)")
    scheduler.start()
