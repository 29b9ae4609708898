"""Synchronization: how long after an answered write each surface shows it.

`statusboard run` (web processes and one worker) on the demo data, with the export going to
a directory and to a bucket (moto's S3 server on 127.0.0.1), a webhook subscriber, Mastodon
(a local fake) and the CDN purge hook (a local receiver). N updates are posted through the
API, one at a time; for each, every surface is probed from the moment the write was answered
until it shows the update's text (or 30 s pass: "missing"): the app's page, incident page,
/api/v2/summary.json and /feed.atom; the export directory's index.html, incident page and
feed.atom; the bucket's index.html and feed.atom; the first webhook and Mastodon attempt
and the first purge request after the write (times of arrival at the receivers). Idle, then
during a surge of 64 connections (wrk) on the page.

Usage: .venv/bin/python benchmarks/sync.py [--writes 8]
Set STATUSBOARD_DATABASE_URL=postgresql://... (a database it may wipe) to run against
PostgreSQL instead of SQLite.
Prints a table, then one JSON object with p50/p99 per surface and scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _support import BIN, Deployment, apt_install, emit, free_port, table, wait_for  # noqa: E402

from tests.fakes.social import FakeMastodon, WebhookReceiver  # noqa: E402

BUCKET = "status-sync"
GIVE_UP = 30.0


def api(base: str, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + path,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return b""


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def probes(deployment, s3, incident: str, receiver, mastodon) -> dict[str, Callable]:
    """Per surface: given the text and the time the write was answered, when it was seen."""
    base, export = deployment.base, deployment.dir / "export"

    def polled(read: Callable[[], bytes]) -> Callable[[bytes, float], float | None]:
        def seen(text: bytes, _answered: float) -> float | None:
            return time.time() if text in read() else None

        return seen

    def bucket(key: str) -> Callable[[], bytes]:
        def read() -> bytes:
            try:
                return s3.get_object(Bucket=BUCKET, Key=f"site/{key}")["Body"].read()
            except Exception:
                return b""

        return read

    def arrived(fake, path_filter: Callable, match: Callable) -> Callable:
        def seen(text: bytes, answered: float) -> float | None:
            requests = [r for r in list(fake.requests) if path_filter(r)]
            times = [r.at for r in requests if match(r, text, answered)]
            return min(times) if times else None

        return seen

    return {
        "app /": polled(lambda: fetch(base + "/")),
        "app incident": polled(lambda: fetch(f"{base}/incidents/{incident}")),
        "app summary.json": polled(lambda: fetch(base + "/api/v2/summary.json")),
        "app feed.atom": polled(lambda: fetch(base + "/feed.atom")),
        "export index.html": polled(lambda: read_file(export / "index.html")),
        "export incident": polled(lambda: read_file(export / f"incidents/{incident}.html")),
        "export feed.atom": polled(lambda: read_file(export / "feed.atom")),
        "bucket index.html": polled(bucket("index.html")),
        "bucket feed.atom": polled(bucket("feed.atom")),
        "webhook": arrived(
            receiver, lambda r: r.path.startswith("/hook"), lambda r, t, _a: t in r.body
        ),
        "mastodon": arrived(  # Mastodon.py posts a form: the text arrives URL-encoded
            mastodon,
            lambda r: r.method == "POST",
            lambda r, t, _a: t.decode() in unquote_plus(r.body.decode()),
        ),
        "cdn purge": arrived(
            receiver, lambda r: r.path == "/purge", lambda r, _t, answered: r.at >= answered
        ),
    }


def one_write(deployment, token, incident, surfaces, number: int, scenario: str) -> dict:
    text = f"Sync probe {scenario} {number} {secrets.token_hex(4)}"
    api(
        deployment.base,
        token,
        f"/api/v1/incidents/{incident}/updates",
        {"status": "identified", "body": text},
    )
    answered = time.time()
    needle = text.encode()
    found: dict[str, float | None] = dict.fromkeys(surfaces)

    def watch(name: str, seen: Callable) -> None:  # a thread per surface: none waits for another
        while time.time() - answered < GIVE_UP:
            at = seen(needle, answered)
            if at is not None:
                found[name] = max(0.0, at - answered)
                return
            time.sleep(0.03)  # the probes' own load stays small beside the surge

    threads = [threading.Thread(target=watch, args=item) for item in surfaces.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(runs: list[dict]) -> dict:
    result = {}
    for name in runs[0]:
        times = [run[name] for run in runs if run[name] is not None]
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        result[name] = {
            "p50_ms": round(p50 * 1000) if p50 is not None else None,
            "p99_ms": round(p99 * 1000) if p99 is not None else None,
            "missing": len(runs) - len(times),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=8)
    args = parser.parse_args()

    import boto3

    s3_port = free_port()
    moto = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    s3_url = f"http://127.0.0.1:{s3_port}"
    receiver, mastodon = WebhookReceiver(), FakeMastodon()
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}
    deployment = Deployment(
        os.environ.get("STATUSBOARD_DATABASE_URL"),
        STATUSBOARD_EXPORT_URL=f"s3://{BUCKET}/site",
        STATUSBOARD_EXPORT_S3_ENDPOINT_URL=s3_url,
        STATUSBOARD_EXPORT_S3_REGION="us-east-1",
        STATUSBOARD_EXPORT_S3_ACCESS_KEY_ID=keys["aws_access_key_id"],
        STATUSBOARD_EXPORT_S3_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
        STATUSBOARD_PURGE_URL=receiver.url + "/purge",
        STATUSBOARD_MASTODON_BASE_URL=mastodon.url,
        STATUSBOARD_MASTODON_ACCESS_TOKEN="mastodon-token",
        STATUSBOARD_WEBHOOK_ALLOW_PRIVATE="127.0.0.1",
    )
    deployment.env["STATUSBOARD_EXPORT_DIR"] = str(deployment.dir / "export")
    surge: subprocess.Popen[bytes] | None = None
    try:
        wait_for(s3_url + "/")
        s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **keys)
        s3.create_bucket(Bucket=BUCKET)
        deployment.cli("init")
        deployment.cli("demo")
        token = deployment.cli("token", "create", "bench@example.com", "--name", "sync").strip()
        subscribe_webhook(deployment, receiver.url + "/hook/1")
        deployment.start("run")
        wait_for(deployment.base + "/healthz", timeout=180)
        incident = api(
            deployment.base,
            token,
            "/api/v1/incidents",
            {"name": "Sync test", "impact": "major", "status": "investigating", "body": "Looking."},
        )["id"]
        surfaces = probes(deployment, s3, incident, receiver, mastodon)
        one_write(deployment, token, incident, surfaces, 0, "warm-up")

        results = {}
        for scenario in ("idle", "surge"):
            if scenario == "surge":
                wrk = apt_install("wrk", "wrk")
                surge = subprocess.Popen(
                    [wrk, "-t2", "-c64", "-d600s", deployment.base + "/"],
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
                time.sleep(2)
            runs = []
            for number in range(args.writes):
                runs.append(one_write(deployment, token, incident, surfaces, number, scenario))
                time.sleep(0.5)
            results[scenario] = summarize(runs)
            if surge is not None:
                os.killpg(surge.pid, signal.SIGTERM)
                surge.wait()
                surge = None

        rows = [
            [
                name,
                results["idle"][name]["p50_ms"],
                results["idle"][name]["p99_ms"],
                results["surge"][name]["p50_ms"],
                results["surge"][name]["p99_ms"],
                results["idle"][name]["missing"] + results["surge"][name]["missing"],
            ]
            for name in results["idle"]
        ]
        print(
            table(
                rows,
                ["surface", "idle p50 ms", "idle p99 ms", "surge p50", "surge p99", "missing"],
            )
        )
        emit(
            {
                "writes": args.writes,
                "database": deployment.env["STATUSBOARD_DATABASE_URL"].split(":")[0],
                **results,
            }
        )
    finally:
        if surge is not None:
            os.killpg(surge.pid, signal.SIGTERM)
        deployment.stop()
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait(timeout=10)
        receiver.close()
        mastodon.close()


def subscribe_webhook(deployment, url: str) -> None:
    """One confirmed webhook subscriber, written straight into the database."""
    code = f"""
from statusboard import clock
from statusboard.app import create_app
from statusboard.db import database
from statusboard.models import Subscriber, SubscriberKind
from statusboard.models.subscriber import new_secret
app = create_app()
with database(app).session() as session:
    session.add(Subscriber(kind=SubscriberKind.WEBHOOK, address={url!r}, secret=new_secret(),
                           confirmed_at=clock.now(), failures_in_a_row=0))
"""
    subprocess.run([str(BIN / "python"), "-c", code], env=deployment.env, check=True)


if __name__ == "__main__":
    main()
