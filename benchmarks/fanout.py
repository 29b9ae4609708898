"""One update to 10,000 webhook and 10,000 email subscribers on local receivers, sent by one
`statusboard worker` process; plus commit-to-first-social-attempt latency.

    .venv/bin/python benchmarks/fanout.py [--database-url URL] [--webhooks N] [--emails N]

Then, in the same run, a bare baseline (_baseline.py): one process replays the same webhook
requests to the same receiver at the worker's concurrency (STATUSBOARD_DELIVERY_CONCURRENCY)
over a pooled keep-alive session, and the same emails over one SMTP connection. Each channel's
rate is counted at its receiver over its own sending window (first to last arrival), for the
ledger and the baseline alike; `*_ratio_to_baseline` is ledger / baseline (target >= 0.7).

Prints a table, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Fakes, Worker, add_subscribers, app_for, fresh_database, wait_until  # noqa: E402
from _support import cpu_seconds  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from statusboard.config import settings_of  # noqa: E402
from statusboard.db import database  # noqa: E402
from statusboard.domain.statuses import Impact  # noqa: E402
from statusboard.models import Delivery, DeliveryState  # noqa: E402
from statusboard.services import incidents  # noqa: E402
from statusboard.services.audit import Actor  # noqa: E402

BENCH = Actor(None, "benchmark")


def open_incident(app, name: str) -> tuple[str, float]:
    with database(app).session() as session:
        incident = incidents.open_incident(
            session,
            name=name,
            impact=Impact.MAJOR,
            body=f"{name}: we are investigating.",
            actor=BENCH,
            publishing_settings=settings_of(app).publishing,
        )
        public_id = incident.public_id
    return public_id, time.time()  # the commit has just returned


def social_latency(app, fakes: Fakes, samples: int, label: str = "Latency probe") -> list[float]:
    """Open incidents one at a time; for each, seconds from commit to each network's first
    request about it."""
    latencies: list[float] = []
    networks = [fakes.x, fakes.mastodon, fakes.bluesky]
    for n in range(samples):
        before = [len(f.requests) for f in networks]
        _, committed = open_incident(app, f"{label} {n}")
        ok = wait_until(
            lambda before=before: all(_posts(f, b) for f, b in zip(networks, before, strict=True)),
            timeout=10,
        )
        if not ok:
            raise SystemExit(f"social deliveries of probe {n} did not arrive")
        for fake, start in zip(networks, before, strict=True):
            first = next(r for r in fake.requests[start:] if _is_post(r))
            latencies.append(first.at - committed)
        time.sleep(random.uniform(0.05, 0.4))  # no phase lock with the worker's poll
    return latencies


def _is_post(request) -> bool:
    return request.method == "POST" and (
        request.path in ("/2/tweets", "/api/v1/statuses") or request.path.endswith("createRecord")
    )


def _posts(fake, start: int) -> bool:
    return any(_is_post(r) for r in fake.requests[start:])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sending_rate(arrivals: list[float]) -> float:
    """Deliveries per second over the channel's own window, first to last arrival."""
    if len(arrivals) < 2:
        return 0.0
    return len(arrivals) / max(max(arrivals) - min(arrivals), 1e-9)


def bare_baseline(fakes: Fakes, hooks: list, mails: list, concurrency: int, workdir: Path) -> dict:
    """Replay what the receivers got from the worker through _baseline.py (its own process,
    as the worker is); returns each channel's rate as counted at the receivers."""
    keep = ("content-type", "user-agent")
    spec = {
        "concurrency": concurrency,
        "smtp_host": "127.0.0.1",
        "smtp_port": fakes.smtp.port,
        "webhooks": [
            {
                "url": fakes.webhooks.url + r.path,
                "headers": {
                    k: v for k, v in r.headers.items() if k in keep or k.startswith("x-statusboard")
                },
                "body": base64.b64encode(r.body).decode(),
            }
            for r in hooks
        ],
        "emails": [
            {
                "from": str(m["From"]),
                "to": str(m["To"]),
                "data": base64.b64encode(m.as_bytes()).decode(),
            }
            for m in mails
        ],
    }
    (workdir / "baseline.json").write_text(json.dumps(spec))
    hooks_before, mail_before = len(fakes.webhooks.deliveries), len(fakes.smtp.messages)
    child = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_baseline.py")), workdir / "baseline.json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "webhooks": sending_rate([r.at for r in fakes.webhooks.deliveries[hooks_before:]]),
        "emails": sending_rate(fakes.smtp.handler.times[mail_before:]),
        "cpu_s": json.loads(child.stdout.splitlines()[-1])["cpu_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="fanout-"))
    url = fresh_database(args.database_url or f"sqlite:///{workdir / 'fanout.db'}")
    fakes = Fakes()
    env = fakes.environment(url)
    app = app_for(env)
    concurrency = settings_of(app).delivery.concurrency
    worker = Worker(env, workdir / "worker.log")
    try:
        if not wait_until(
            lambda: b"worker started" in (workdir / "worker.log").read_bytes(), timeout=60
        ):
            raise SystemExit("the worker did not start")
        social_latency(app, fakes, 1, "Warm-up")  # warm-up: logins, connections; not counted
        latencies = social_latency(app, fakes, args.probes)
        add_subscribers(
            app, webhooks=args.webhooks, emails=args.emails, receiver_url=fakes.webhooks.url
        )
        hooks_before, mail_before = len(fakes.webhooks.deliveries), len(fakes.smtp.messages)
        cpu_before = cpu_seconds(worker.process.pid)
        started = time.time()
        public_id, committed = open_incident(app, "Fan-out")
        queued_s = committed - started
        done = wait_until(
            lambda: (
                len(fakes.webhooks.deliveries) - hooks_before >= args.webhooks
                and len(fakes.smtp.messages) - mail_before >= args.emails
            ),
            timeout=600,
            every=0.1,
        )
        time.sleep(1.0)  # anything extra (a duplicate) would arrive now
        peak = worker.peak_rss_mb()
        worker_cpu = cpu_seconds(worker.process.pid) - cpu_before
    finally:
        worker.stop()
    hooks = fakes.webhooks.deliveries[hooks_before:]
    mails = fakes.smtp.messages[mail_before:]
    mail_times = fakes.smtp.handler.times[mail_before:]
    hook_ids = [r.headers.get("x-statusboard-delivery") for r in hooks]
    mail_ids = [m["Message-ID"] for m in mails]
    last_hook = max((r.at for r in hooks), default=committed)
    last_mail = max(mail_times, default=committed)
    with database(app).session() as session:
        states = dict(
            session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        )
    unique_hooks, unique_mail = len(set(hook_ids)), len(set(mail_ids))
    ledger = {"webhooks": sending_rate([r.at for r in hooks]), "emails": sending_rate(mail_times)}
    bare = bare_baseline(fakes, hooks, mails, concurrency, workdir)
    fakes.close()
    ratio = {k: round(ledger[k] / bare[k], 2) if bare[k] else 0.0 for k in ledger}
    lost = (args.webhooks - unique_hooks) + (args.emails - unique_mail)
    duplicated = (len(hook_ids) - unique_hooks) + (len(mail_ids) - unique_mail)
    result = {
        "database": url.split(":", 1)[0].split("+")[0],
        "webhooks": args.webhooks,
        "emails": args.emails,
        "queue_s": round(queued_s, 3),
        "webhooks_per_s": round(unique_hooks / max(last_hook - committed, 1e-9), 1),
        "email_per_s": round(unique_mail / max(last_mail - committed, 1e-9), 1),
        "time_to_last_s": round(max(last_hook, last_mail) - committed, 2),
        "concurrency": concurrency,
        "webhook_sending_per_s": round(ledger["webhooks"], 1),
        "webhook_baseline_per_s": round(bare["webhooks"], 1),
        "webhook_ratio_to_baseline": ratio["webhooks"],
        "email_sending_per_s": round(ledger["emails"], 1),
        "email_baseline_per_s": round(bare["emails"], 1),
        "email_ratio_to_baseline": ratio["emails"],
        "first_social_p50_s": round(statistics.median(latencies), 3),
        "first_social_p95_s": round(percentile(latencies, 95), 3),
        "first_social_samples": len(latencies),
        "lost": lost,
        "duplicated": duplicated,
        "not_sent_in_ledger": sum(n for s, n in states.items() if s not in (DeliveryState.SENT,)),
        "worker_peak_rss_mb": round(peak, 1),
        "worker_cpu_s": round(worker_cpu, 2),
        "baseline_cpu_s": round(bare["cpu_s"], 2),
        "completed": done,
        "load_avg_1m_at_start": round(load, 2),
    }
    print()
    print(f"fan-out of one update on {result['database']} (one worker process)")
    rows = [
        ("deliveries queued in the update's transaction", f"{result['queue_s']} s"),
        ("webhooks delivered / per second", f"{unique_hooks} / {result['webhooks_per_s']}"),
        ("emails delivered / per second", f"{unique_mail} / {result['email_per_s']}"),
        ("time from commit to last delivery", f"{result['time_to_last_s']} s"),
        (
            f"webhooks/s while sending: ledger / bare x{concurrency} / ratio",
            f"{result['webhook_sending_per_s']} / {result['webhook_baseline_per_s']} / "
            f"{result['webhook_ratio_to_baseline']}",
        ),
        (
            "emails/s while sending: ledger / bare, one connection / ratio",
            f"{result['email_sending_per_s']} / {result['email_baseline_per_s']} / "
            f"{result['email_ratio_to_baseline']}",
        ),
        (
            "first social attempt p50 / p95",
            f"{result['first_social_p50_s']} s / {result['first_social_p95_s']} s "
            f"({len(latencies)} samples)",
        ),
        ("lost / duplicated at the receivers", f"{lost} / {duplicated}"),
        ("ledger rows not sent", str(result["not_sent_in_ledger"])),
        ("worker peak memory (VmHWM)", f"{result['worker_peak_rss_mb']} MB"),
        (
            "CPU for the fan-out: worker / bare baseline",
            f"{result['worker_cpu_s']} s / {result['baseline_cpu_s']} s",
        ),
        ("1-minute load average at start", str(result["load_avg_1m_at_start"])),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
