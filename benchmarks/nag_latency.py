"""How late do nags arrive? 500 incidents whose next-update promises fall due over one minute,
one real worker process (`statusboard worker`), and an aiosmtpd server on 127.0.0.1 that
timestamps every message. Prints p50/p99 of (nag received - promise due time), the worker's
CPU seconds and peak RSS, a table, and as its last line one JSON object.

    .venv/bin/python benchmarks/nag_latency.py              # temp SQLite database
    STATUSBOARD_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_db \\
        .venv/bin/python benchmarks/nag_latency.py          # PostgreSQL (schema is dropped!)

Options (environment): BENCH_INCIDENTS (500), BENCH_SPREAD_SECONDS (60).
Target: p99 under 10 s.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _support import empty_postgres  # noqa: E402

from tests.fakes.smtp import FakeSMTP  # noqa: E402

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "500"))
SPREAD = float(os.environ.get("BENCH_SPREAD_SECONDS", "60"))
LEAD = 45.0  # seconds from the start of set-up to the first due time
TARGET_P99 = 10.0
NAME = re.compile(r"Bench incident (\d+)$")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def configure(workdir: Path, smtp_port: int) -> dict[str, str]:
    url = os.environ.get("STATUSBOARD_BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    env = dict(os.environ)
    env.update(
        {
            "STATUSBOARD_INSTANCE_DIR": str(workdir),
            "STATUSBOARD_DATABASE_URL": url,
            "STATUSBOARD_SECRET_KEY": "bench-secret",
            "STATUSBOARD_BASE_URL": "http://127.0.0.1:8000",
            "STATUSBOARD_SMTP_HOST": "127.0.0.1",
            "STATUSBOARD_SMTP_PORT": str(smtp_port),
            "STATUSBOARD_SMTP_STARTTLS": "false",
            "STATUSBOARD_SMTP_FROM": "status@example.com",
        }
    )
    os.environ.update(env)
    return env


def create_incidents() -> dict[int, float]:
    """Due time (epoch seconds) per incident number, through the real services."""

    from statusboard import clock, migrate
    from statusboard.app import create_app
    from statusboard.config import settings_of
    from statusboard.db import database
    from statusboard.domain.statuses import Impact
    from statusboard.services import incidents, operators
    from statusboard.services.audit import Actor

    app = create_app()
    db = database(app)
    if db.dialect == "postgresql":
        empty_postgres(settings_of(app).database_url)
    migrate.upgrade(db.engine)
    first_due = clock.now() + timedelta(seconds=LEAD)
    due: dict[int, float] = {}
    with db.session() as session:
        owner = operators.add_operator(
            session,
            email="owner@example.com",
            name="Olive Owner",
            password="correct horse battery",
            actor=Actor(None, "b"),
        )
        actor = Actor(owner, "bench")
    for start in range(0, INCIDENTS, 50):
        with db.session() as session:
            owner = session.merge(actor.operator)
            for number in range(start, min(start + 50, INCIDENTS)):
                at = first_due + timedelta(seconds=SPREAD * number / INCIDENTS)
                incidents.open_incident(
                    session,
                    name=f"Bench incident {number:04d}",
                    impact=Impact.MAJOR,
                    body="Looking into it.",
                    actor=Actor(owner, "bench"),
                    next_update_at=at,
                    publishing_settings=settings_of(app).publishing,
                )
                due[number] = at.timestamp()
    db.engine.dispose()
    left = first_due.timestamp() - time.time()
    if left < 5:
        raise SystemExit(f"set-up took too long: the first promise is due in {left:.1f} s")
    return due


def _peak_rss_mb(pid: int) -> float:
    """The process's own high-water mark (VmHWM, reset at exec; Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc: peak RSS needs Linux")


def _check_interval() -> float:
    from statusboard.jobs import JOBS

    return next(job.every.total_seconds() for job in JOBS if job.id == "check-promises")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="statusboard-bench-"))
    with FakeSMTP() as smtp:
        env = configure(workdir, smtp.port)
        print(
            f"creating {INCIDENTS} incidents due over {SPREAD:.0f} s "
            f"({env['STATUSBOARD_DATABASE_URL'].split('://')[0]}) ...",
            flush=True,
        )
        due = create_incidents()
        with open(workdir / "worker.log", "wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "statusboard.cli", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            last_due = max(due.values())
            deadline = last_due + 30
            while time.time() < deadline and len(smtp.messages) < INCIDENTS:
                time.sleep(0.25)
            time.sleep(2)  # anything extra (a duplicate) would arrive now
            peak_rss_mb = _peak_rss_mb(worker.pid)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker is the only child
        messages = list(zip(smtp.messages, smtp.envelopes, strict=True))

    lateness: list[float] = []
    seen: set[int] = set()
    duplicates = 0
    for message, envelope in messages:
        match = NAME.search(str(message["Subject"]))
        if not match:
            continue
        number = int(match.group(1))
        if number in seen:
            duplicates += 1
            continue
        seen.add(number)
        lateness.append(envelope.at - due[number])
    if not lateness:
        raise SystemExit(f"no nags received; see {workdir / 'worker.log'}")
    result = {
        "nags_expected": INCIDENTS,
        "nags_received": len(seen),
        "duplicates": duplicates,
        "p50_s": round(percentile(lateness, 0.50), 3),
        "p99_s": round(percentile(lateness, 0.99), 3),
        "max_s": round(max(lateness), 3),
        "min_s": round(min(lateness), 3),
        "worker_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "worker_peak_rss_mb": peak_rss_mb,
        "database": env["STATUSBOARD_DATABASE_URL"].split(":")[0],
        "check_interval_s": _check_interval(),
    }
    rows = [
        ("nags expected", result["nags_expected"]),
        ("nags received", result["nags_received"]),
        ("duplicates", duplicates),
        ("p50 received - due (s)", result["p50_s"]),
        ("p99 received - due (s)", result["p99_s"]),
        ("max (s)", result["max_s"]),
        ("worker CPU (s)", result["worker_cpu_s"]),
        ("worker peak RSS (MB)", result["worker_peak_rss_mb"]),
        ("target p99 < 10 s", "met" if result["p99_s"] < TARGET_P99 else "MISSED"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
