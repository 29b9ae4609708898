"""An outage surge: public surfaces at 64 connections through `statusboard run`, without and
with operators posting an update every 0.5 s through the API, against the ceilings: a
few-line WSGI app under the same gunicorn settings (the server's ceiling, benchmarks/
raw_wsgi.py), the same app answering each endpoint's exact response (the ceiling for those
bytes), Flask's /healthz (the framework's) and nginx serving the exported files (the
machine's). Then a write storm: 10 API writers posting as fast as they can for 20 s while
the public endpoints are read.

Usage: .venv/bin/python benchmarks/surge.py [--seconds 8] [--storm-seconds 20]
Set STATUSBOARD_DATABASE_URL=postgresql://... (a database it may wipe) to run against
PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (  # noqa: E402
    BIN,
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
STORM_WRITERS = 10
STORM_READ = ["/", "/api/v2/summary.json"]


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
    pause: float = 0.5,
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
        except (urllib.error.URLError, OSError) as error:
            failures.append(str(error))
        else:
            latencies.append((time.perf_counter() - started) * 1000)
        stop.wait(pause)


class Writers:
    """`count` operators posting updates (every `pause` s) until the block ends."""

    def __init__(self, base: str, token: str, incident_id: str, count=1, pause=0.5) -> None:
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(
                target=post_updates_during,
                args=(base, token, incident_id, self.stop, self.latencies, self.failures, pause),
            )
            for _ in range(count)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def p95(self) -> float | None:
        if len(self.latencies) < 2:
            return None
        return round(statistics.quantiles(self.latencies, n=20)[18], 1)


def read_all(base: str, paths: list[str], seconds: int) -> dict[str, dict]:
    """wrk on several paths at once, the connections split between them."""
    results: dict[str, dict] = {}
    threads = [
        threading.Thread(
            target=lambda p=path: results.__setitem__(
                p, wrk(base + p, seconds=seconds, connections=64 // len(paths))
            )
        )
        for path in paths
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def p99_over_p50(result: dict) -> float | None:
    if not result.get("p50_ms"):
        return None
    return round(result["p99_ms"] / result["p50_ms"], 2)


def start_raw_wsgi(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "python"), str(Path(__file__).parent / "raw_wsgi.py")],
        env={**env, "STATUSBOARD_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/")
    return server, base


def capture(base: str, paths: list[str], into: Path) -> None:
    """Each path's response as statusboard sends it (headers and body), for raw_wsgi.py."""
    captured = {}
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            body = response.read()
            headers = [
                [name, value]
                for name, value in response.getheaders()
                if name.lower() not in ("date", "server", "connection")
            ]
        captured[path] = {"headers": headers, "body": base64.b64encode(body).decode()}
    into.write_text(json.dumps(captured))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--storm-seconds", type=int, default=20)
    args = parser.parse_args()

    deployment = Deployment(os.environ.get("STATUSBOARD_DATABASE_URL"))
    raw = same = None
    try:
        deployment.cli("init")
        deployment.cli("demo")
        token = deployment.cli("token", "create", "bench@example.com", "--name", "surge").strip()
        server = deployment.start("run")
        wait_for(deployment.base + TRIVIAL, timeout=180)  # renders every surface first
        raw, raw_base = start_raw_wsgi(deployment.env)
        responses = deployment.dir / "responses.json"
        capture(deployment.base, PUBLIC, responses)
        same, same_base = start_raw_wsgi({**deployment.env, "RAW_WSGI_RESPONSES": str(responses)})
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

        for path in PUBLIC + [TRIVIAL]:  # every process has rendered every surface
            wrk(deployment.base + path, seconds=1, connections=16)
        wrk(raw_base + "/", seconds=1, connections=16)

        ceiling = wrk(raw_base + "/", seconds=args.seconds)
        healthz = wrk(deployment.base + TRIVIAL, seconds=args.seconds)
        quiet: dict[str, dict] = {}
        same_bytes: dict[str, dict] = {}
        for path in PUBLIC:  # each beside the ceiling for its own bytes
            wrk(same_base + path, seconds=1, connections=16)
            same_bytes[path] = wrk(same_base + path, seconds=args.seconds)
            quiet[path] = wrk(deployment.base + path, seconds=args.seconds)
        with Writers(deployment.base, token, incident_id) as calm:
            time.sleep(args.seconds)
        busy: dict[str, dict] = {}
        with Writers(deployment.base, token, incident_id) as surge:
            for path in PUBLIC:
                busy[path] = wrk(deployment.base + path, seconds=args.seconds)
        rss = process_tree_rss_mb(server.pid)
        with Writers(deployment.base, token, incident_id, count=STORM_WRITERS, pause=0.0) as storm:
            stormed = read_all(deployment.base, STORM_READ, args.storm_seconds)
        peaks = process_tree_rss_mb(server.pid, "VmHWM")

        nginx_results: dict[str, dict] = {}
        deployment.cli("export", str(export_dir))
        with nginx(export_dir, free_port()) as base:
            for path in PUBLIC:
                nginx_results[path] = wrk(base + path, seconds=args.seconds)

        summary = report(
            ceiling, healthz, quiet, same_bytes, busy, nginx_results, calm, surge, stormed, storm
        )
        print(
            f"web processes RSS: max {max(rss.values()):.0f} MB now, peak "
            f"{max(peaks.values()):.0f} MB, across {len(rss)} processes; database: "
            f"{deployment.env['STATUSBOARD_DATABASE_URL'].split(':')[0]}"
        )
        summary.update(
            web_max_rss_mb=round(max(rss.values()), 1),
            web_peak_rss_mb=round(max(peaks.values()), 1),
            database=deployment.env["STATUSBOARD_DATABASE_URL"].split(":")[0],
            load_average=os.getloadavg()[0],
        )
        emit(summary)
    finally:
        deployment.stop()
        for server in (raw, same):
            if server is not None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)


def report(
    ceiling, healthz, quiet, same_bytes, busy, nginx_results, calm, surge, stormed, storm
) -> dict:
    top = ceiling["rps"]
    rows = [
        ["raw WSGI (ceiling)", f"{top:.0f}", ceiling["p50_ms"], ceiling["p99_ms"], "1.00", ""],
        [
            "Flask " + TRIVIAL,
            f"{healthz['rps']:.0f}",
            healthz["p50_ms"],
            healthz["p99_ms"],
            f"{healthz['rps'] / top:.2f}",
            "",
        ],
    ]
    endpoints: dict[str, dict] = {}
    for path in PUBLIC:
        same = same_bytes[path]
        rows.append(
            [
                f"raw WSGI, {path}'s bytes",
                f"{same['rps']:.0f}",
                same["p50_ms"],
                same["p99_ms"],
                f"{same['rps'] / top:.2f}",
                "",
            ]
        )
        for label, result in (("", quiet[path]), (" + writes", busy[path])):
            rows.append(
                [
                    path + label,
                    f"{result['rps']:.0f}",
                    result["p50_ms"],
                    result["p99_ms"],
                    f"{result['rps'] / top:.2f}",
                    result["non_2xx"],
                ]
            )
        endpoints[path] = {
            "rps": quiet[path]["rps"],
            "p50_ms": quiet[path]["p50_ms"],
            "p99_ms": quiet[path]["p99_ms"],
            "ratio_to_raw_wsgi": round(quiet[path]["rps"] / top, 3),
            "same_bytes_rps": same["rps"],
            "same_bytes_p99_over_p50": p99_over_p50(same),
            "ratio_to_same_bytes": round(quiet[path]["rps"] / same["rps"], 3),
            "with_writes": {
                "rps": busy[path]["rps"],
                "p50_ms": busy[path]["p50_ms"],
                "p99_ms": busy[path]["p99_ms"],
                "p99_over_p50": p99_over_p50(busy[path]),
                "ratio_to_raw_wsgi": round(busy[path]["rps"] / top, 3),
                "ratio_to_same_bytes": round(busy[path]["rps"] / same["rps"], 3),
                "non_2xx": busy[path]["non_2xx"],
            },
            "nginx_rps": nginx_results[path]["rps"],
        }
    print(
        table(
            rows,
            ["endpoint (64 connections)", "req/s", "p50 ms", "p99 ms", "vs raw WSGI", "non-2xx"],
        )
    )
    print(
        "\nnginx serving the export: "
        + ", ".join(f"{p} {nginx_results[p]['rps']:.0f} req/s" for p in PUBLIC)
    )
    print(
        f"\noperator writes: without a surge p95 {calm.p95()} ms ({len(calm.latencies)} posted, "
        f"{len(calm.failures)} failed); during the surge p95 {surge.p95()} ms "
        f"({len(surge.latencies)} posted, {len(surge.failures)} failed)"
    )
    print(
        f"write storm ({STORM_WRITERS} writers): {len(storm.latencies)} posted, "
        f"{len(storm.failures)} failed, write p95 {storm.p95()} ms; reads "
        + ", ".join(
            f"{p} {r['rps']:.0f} req/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms"
            for p, r in stormed.items()
        )
    )
    for reason in sorted(set(surge.failures + storm.failures)):
        print(f"  failed write: {reason}")
    return {
        "raw_wsgi_rps": top,
        "raw_wsgi_p99_over_p50": p99_over_p50(ceiling),
        "healthz": {"rps": healthz["rps"], "ratio_to_raw_wsgi": round(healthz["rps"] / top, 3)},
        "endpoints": endpoints,
        "write_p95_ms": {"without_surge": calm.p95(), "with_surge": surge.p95()},
        "write_failures": len(calm.failures) + len(surge.failures),
        "storm": {
            "writers": STORM_WRITERS,
            "writes": len(storm.latencies),
            "write_failures": len(storm.failures),
            "write_p95_ms": storm.p95(),
            "reads": {
                p: {"rps": r["rps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"]}
                for p, r in stormed.items()
            },
        },
    }


if __name__ == "__main__":
    main()
