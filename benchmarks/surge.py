"""An outage surge: public surfaces at 64 connections through `statusboard run`, against a
trivial endpoint of the same server (the framework's ceiling) and nginx serving the exported
files (the machine's limit), while operators post updates through the API.

Usage: .venv/bin/python benchmarks/surge.py [--seconds 8]
Set STATUSBOARD_DATABASE_URL=postgresql://... to run against PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (  # noqa: E402
    Deployment,
    emit,
    free_port,
    nginx,
    process_tree_rss_mb,
    table,
    wait_for,
    wrk,
)

PUBLIC = ["/", "/api/v2/summary.json", "/history.atom", "/feed.atom"]
TRIVIAL = "/healthz"


def api(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def post_updates_during(
    base: str,
    token: str,
    incident_id: str,
    stop: threading.Event,
    latencies: list[float],
    failures: list[str],
) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        started = time.perf_counter()
        try:
            api(
                base,
                token,
                "POST",
                f"/api/v1/incidents/{incident_id}/updates",
                {"status": "identified", "body": f"Progress report {number}: still working on it."},
            )
        except urllib.error.URLError as error:
            failures.append(str(error))
        else:
            latencies.append((time.perf_counter() - started) * 1000)
        stop.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()

    deployment = Deployment(os.environ.get("STATUSBOARD_DATABASE_URL"))
    try:
        deployment.cli("init")
        deployment.cli("demo")
        token = deployment.cli("token", "create", "bench@example.com", "--name", "surge").strip()
        server = deployment.start("run")
        wait_for(deployment.base + TRIVIAL)
        incident = api(
            deployment.base,
            token,
            "POST",
            "/api/v1/incidents",
            {
                "name": "Surge test incident",
                "impact": "major",
                "status": "investigating",
                "body": "Investigating.",
            },
        )
        incident_id = incident["id"]
        export_dir = deployment.dir / "export"
        deployment.cli("export", str(export_dir))

        for path in PUBLIC + [TRIVIAL]:  # warm every process's snapshot
            wrk(deployment.base + path, seconds=1, connections=16)

        results: dict[str, dict] = {}
        results["trivial"] = wrk(deployment.base + TRIVIAL, seconds=args.seconds)
        write_latencies: list[float] = []
        write_failures: list[str] = []
        stop = threading.Event()
        writer = threading.Thread(
            target=post_updates_during,
            args=(deployment.base, token, incident_id, stop, write_latencies, write_failures),
        )
        writer.start()
        try:
            for path in PUBLIC:
                results[path] = wrk(deployment.base + path, seconds=args.seconds)
        finally:
            stop.set()
            writer.join()
        rss = process_tree_rss_mb(server.pid)
        peaks = process_tree_rss_mb(server.pid, "VmHWM")
        web_rss = max(rss.values())

        nginx_results: dict[str, dict] = {}
        deployment.cli("export", str(export_dir))
        with nginx(export_dir, free_port()) as base:
            for path in PUBLIC:
                nginx_results[path] = wrk(base + path, seconds=args.seconds)

        trivial = results["trivial"]["rps"]
        rows = [
            [
                "trivial " + TRIVIAL,
                f"{trivial:.0f}",
                results["trivial"]["p50_ms"],
                results["trivial"]["p99_ms"],
                "1.00",
                "",
                "",
            ]
        ]
        summary: dict[str, object] = {"trivial_rps": trivial, "endpoints": {}}
        for path in PUBLIC:
            r, n = results[path], nginx_results[path]
            ratio_trivial = r["rps"] / trivial
            ratio_nginx = r["rps"] / n["rps"]
            rows.append(
                [
                    path,
                    f"{r['rps']:.0f}",
                    r["p50_ms"],
                    r["p99_ms"],
                    f"{ratio_trivial:.2f}",
                    f"{n['rps']:.0f}",
                    f"{ratio_nginx:.2f}",
                ]
            )
            summary["endpoints"][path] = {  # type: ignore[index]
                "rps": r["rps"],
                "p50_ms": r["p50_ms"],
                "p99_ms": r["p99_ms"],
                "non_2xx": r["non_2xx"],
                "ratio_to_trivial": round(ratio_trivial, 3),
                "ratio_to_nginx": round(ratio_nginx, 3),
                "nginx_rps": n["rps"],
            }
        print(
            table(
                rows,
                [
                    "endpoint (64 connections)",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "vs trivial",
                    "nginx req/s",
                    "vs nginx",
                ],
            )
        )
        write_p95 = (
            statistics.quantiles(write_latencies, n=20)[18] if len(write_latencies) >= 2 else None
        )
        if write_latencies:
            print(
                f"\noperator updates during the surge: {len(write_latencies)} posted, "
                f"{len(write_failures)} failed, p50 {statistics.median(write_latencies):.0f} "
                f"ms, p95 {write_p95:.0f} ms"
            )
        for reason in sorted(set(write_failures)):
            print(f"  failed write: {reason} ({write_failures.count(reason)}x)")
        print(
            f"web worker RSS: max {web_rss:.0f} MB across {len(rss)} processes; "
            f"database: {deployment.env['STATUSBOARD_DATABASE_URL'].split(':')[0]}"
        )
        summary.update(
            write_p95_ms=write_p95,
            writes=len(write_latencies),
            write_failures=len(write_failures),
            web_worker_max_rss_mb=round(web_rss, 1),
            worker_peak_rss_mb=round(max(peaks.values()), 1),
        )
        emit(summary)
    finally:
        deployment.stop()


if __name__ == "__main__":
    main()
