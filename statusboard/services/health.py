"""Liveness and readiness. /healthz answers while the process lives; /readyz names each thing
the service needs and whether it is there: the database, a worker that beat recently (no
worker means nothing is delivered and nobody is nagged), and the SMTP server when email is
configured. Each check is bounded in time, so a probe never hangs on what it reports."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from statusboard.clock import iso
from statusboard.config import SmtpSettings
from statusboard.db import Database
from statusboard.models import WorkerHeartbeat

BEAT_EVERY = timedelta(seconds=10)
# A worker that has not beaten for this long is taken for gone.
WORKER_SILENCE = timedelta(seconds=60)
SMTP_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def beat(session: Session, *, worker: str, now: datetime) -> None:
    row = session.get(WorkerHeartbeat, worker[:128])
    if row is None:
        session.add(WorkerHeartbeat(worker=worker[:128], beat_at=now))
    else:
        row.beat_at = now
    # Workers that stopped long ago are of no interest to anyone.
    session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=1))
    )


def check_database(db: Database) -> Check:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return Check("database", False, f"unreachable: {type(cause).__name__}")
    return Check("database", True, db.dialect)


def check_worker(db: Database, now: datetime) -> Check:
    try:
        with db.session() as session:
            last = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    except SQLAlchemyError:
        return Check("worker", False, "unknown: the database is unreachable")
    if last is None:
        return Check("worker", False, "no worker has ever run (statusboard worker)")
    if last.tzinfo is None:
        from datetime import UTC

        last = last.replace(tzinfo=UTC)
    if now - last > WORKER_SILENCE:
        return Check("worker", False, f"silent since {iso(last)}")
    return Check("worker", True, f"last beat {iso(last)}")


def check_smtp(smtp: SmtpSettings | None) -> Check:
    if smtp is None:
        return Check("smtp", True, "not configured (email is off)")
    try:
        with socket.create_connection((smtp.host, smtp.port), timeout=SMTP_TIMEOUT):
            pass
    except OSError as exc:
        return Check("smtp", False, f"{smtp.host}:{smtp.port} unreachable: {exc.strerror or exc}")
    return Check("smtp", True, f"{smtp.host}:{smtp.port} accepts connections")


def readiness(db: Database, smtp: SmtpSettings | None, now: datetime) -> list[Check]:
    return [check_database(db), check_worker(db, now), check_smtp(smtp)]
