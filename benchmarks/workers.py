"""Several workers, one ledger: no duplicates, and nothing lost or doubled when a worker is
killed with SIGKILL in the middle of a fan-out and started again.

    .venv/bin/python benchmarks/workers.py --database-url postgresql://.../db

Phase 1: three workers send one update to 997 webhook subscribers plus X, Mastodon and
Bluesky (1,000 deliveries). Phase 2: the same with slow receivers; one worker is killed with
SIGKILL mid fan-out and restarted; claims it held expire (10 s lease) and are retried with
each network's idempotency (delivery-id header, Mastodon Idempotency-Key, Bluesky record key).
Counts what every fake server received. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Fakes, Worker, add_subscribers, app_for, fresh_database, wait_until  # noqa: E402
from fanout import _is_post, open_incident  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from statusboard.db import database  # noqa: E402
from statusboard.models import Delivery  # noqa: E402


def counts(fakes: Fakes, hooks_from: int) -> dict[str, int]:
    hooks = [
        r.headers.get("x-statusboard-delivery") for r in fakes.webhooks.deliveries[hooks_from:]
    ]
    return {
        "webhook_requests": len(hooks),
        "webhook_unique": len(set(hooks)),
        "mastodon_posts_created": len(fakes.mastodon.statuses),
        "mastodon_requests": sum(_is_post(r) for r in fakes.mastodon.requests),
        "bluesky_records": len(fakes.bluesky.records),
        "bluesky_create_requests": sum(_is_post(r) for r in fakes.bluesky.requests),
        "x_tweets": len(fakes.x.tweets) if fakes.x else 0,
    }


def ledger(app) -> dict[str, int]:
    with database(app).session() as session:
        return {
            str(state): n
            for state, n in session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            )
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--subscribers", type=int, default=997)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="workers-"))
    url = fresh_database(args.database_url or f"sqlite:///{workdir / 'workers.db'}")
    fakes = Fakes()
    env = fakes.environment(
        url, STATUSBOARD_DELIVERY_LEASE_SECONDS="10", STATUSBOARD_DELIVERY_TIMEOUT_SECONDS="2"
    )
    app = app_for(env)
    add_subscribers(app, webhooks=args.subscribers, emails=0, receiver_url=fakes.webhooks.url)
    expected_hooks = args.subscribers
    workers = [Worker(env, workdir / f"worker{n}.log") for n in range(3)]
    result: dict[str, object] = {"database": url.split(":", 1)[0].split("+")[0]}
    try:
        wait_until(
            lambda: all(
                b"worker started" in (workdir / f"worker{n}.log").read_bytes() for n in range(3)
            ),
            timeout=60,
        )
        # Phase 1: three workers, 1,000 deliveries.
        started = time.time()
        open_incident(app, "Three workers")
        wait_until(
            lambda: (
                len(fakes.webhooks.deliveries) >= expected_hooks
                and len(fakes.mastodon.statuses) >= 1
                and len(fakes.bluesky.records) >= 1
                and len(fakes.x.tweets) >= 1
            ),
            timeout=120,
            every=0.05,
        )
        time.sleep(1.5)
        phase1 = counts(fakes, 0)
        phase1["seconds"] = round(time.time() - started - 1.5, 2)
        phase1["ledger"] = ledger(app)
        result["three_workers"] = phase1

        # Phase 2: slow receivers; kill one worker with SIGKILL mid fan-out; restart it.
        hooks_from = len(fakes.webhooks.deliveries)
        posts_before = (len(fakes.mastodon.statuses), len(fakes.bluesky.records))
        fakes.webhooks.delay = fakes.mastodon.delay = fakes.bluesky.delay = 0.05
        open_incident(app, "Killed worker")
        wait_until(
            lambda: len(fakes.webhooks.deliveries) - hooks_from >= expected_hooks // 3,
            timeout=60,
            every=0.01,
        )
        victim = workers[0]
        victim.kill()
        killed_at = len(fakes.webhooks.deliveries) - hooks_from
        workers[0] = Worker(env, workdir / "worker0-restarted.log")
        done = wait_until(
            lambda: (
                len(
                    {
                        r.headers.get("x-statusboard-delivery")
                        for r in fakes.webhooks.deliveries[hooks_from:]
                    }
                )
                >= expected_hooks
                and len(fakes.mastodon.statuses) >= posts_before[0] + 1
                and len(fakes.bluesky.records) >= posts_before[1] + 1
            ),
            timeout=120,
            every=0.05,
        )
        time.sleep(11)  # past the lease: any late retry would arrive now
        phase2 = counts(fakes, hooks_from)
        phase2["mastodon_posts_created"] -= posts_before[0]
        phase2["bluesky_records"] -= posts_before[1]
        phase2["webhooks_received_when_killed"] = killed_at
        phase2["completed"] = done
        phase2["ledger"] = ledger(app)
        result["sigkill_restart"] = phase2
    finally:
        for worker in workers:
            worker.stop()
        fakes.close()
    p1, p2 = result["three_workers"], result["sigkill_restart"]
    result["duplicated"] = (
        p1["webhook_requests"]
        - p1["webhook_unique"]  # type: ignore
        + max(0, p1["mastodon_posts_created"] - 1)
        + max(0, p1["bluesky_records"] - 1)
        + max(0, p1["x_tweets"] - 1)
        + max(0, p2["mastodon_posts_created"] - 1)
        + max(0, p2["bluesky_records"] - 1)
    )
    result["lost"] = (
        expected_hooks
        - p1["webhook_unique"]  # type: ignore
        + expected_hooks
        - p2["webhook_unique"]
        + (p2["mastodon_posts_created"] < 1)
        + (p2["bluesky_records"] < 1)
    )
    result["webhook_resends_after_kill_deduped_by_delivery_id"] = (
        p2["webhook_requests"] - p2["webhook_unique"]
    )  # type: ignore
    print()
    per_id = Counter(
        r.headers.get("x-statusboard-delivery") for r in fakes.webhooks.deliveries[:expected_hooks]
    )
    print(
        f"three workers on {result['database']}: {p1['webhook_unique']} webhooks + X, "
        f"Mastodon, Bluesky in {p1['seconds']} s; requests per delivery id: "
        f"{dict(Counter(per_id.values()))}"
    )
    print(
        f"SIGKILL after {p2['webhooks_received_when_killed']} webhooks, restart: "
        f"{p2['webhook_unique']} of {expected_hooks} delivery ids arrived; "
        f"{result['webhook_resends_after_kill_deduped_by_delivery_id']} re-sent with the "
        f"same delivery id; Mastodon posts {p2['mastodon_posts_created']} "
        f"({p2['mastodon_requests']} requests over both phases), "
        f"Bluesky records {p2['bluesky_records']}"
    )
    print(f"lost {result['lost']}, duplicated {result['duplicated']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
