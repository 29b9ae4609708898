"""Shared helpers for the benchmarks: temp deployments, process stats, wrk, nginx."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apt_install(command: str, package: str) -> str:
    found = shutil.which(command) or (
        f"/usr/sbin/{command}" if Path(f"/usr/sbin/{command}").exists() else None
    )
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        sudo + ["apt-get", "install", "-y", "-qq", package],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
    )
    return shutil.which(command) or f"/usr/sbin/{command}"


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Deployment:
    """A temporary statusboard: its own database, instance dir and port. A PostgreSQL
    database it is given is emptied first (the benchmarks name one they may wipe)."""

    def __init__(self, database_url: str | None = None, **settings: str) -> None:
        if database_url and database_url.startswith("postgres"):
            empty_postgres(database_url)
        self.dir = Path(tempfile.mkdtemp(prefix="statusboard-bench-"))
        self.dir.chmod(0o755)  # nginx's workers (an unprivileged user) read the export
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "STATUSBOARD_DATABASE_URL": database_url or f"sqlite:///{self.dir / 'db.sqlite'}",
            "STATUSBOARD_INSTANCE_DIR": str(self.dir),
            "STATUSBOARD_SECRET_KEY": "benchmark",
            "STATUSBOARD_PORT": str(self.port),
            "STATUSBOARD_BASE_URL": self.base,
            "STATUSBOARD_ACCESS_LOG": "false",
            "STATUSBOARD_ADMIN_EMAIL": "bench@example.com",
            "STATUSBOARD_ADMIN_PASSWORD": "benchmark-password",
            **settings,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [str(BIN / "statusboard"), *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"statusboard {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [str(BIN / "statusboard"), *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def empty_postgres(url: str) -> None:
    """Drop everything in a PostgreSQL database the benchmark was given to wipe."""
    from sqlalchemy import text

    from statusboard.config import normalize_database_url
    from statusboard.db import make_engine

    engine = make_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def process_tree_rss_mb(pid: int, field: str = "VmRSS") -> dict[int, float]:
    """RSS (or, with field="VmHWM", peak RSS) of a process and its descendants, in MB."""
    result: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(field + r":\s+(\d+) kB", status)
        if match:
            result[current] = int(match.group(1)) / 1024
        pending += [int(child) for child in children]
    return result


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set of one process."""
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, *, connections: int = 64, seconds: int = 8, threads: int = 2) -> dict:
    binary = apt_install("wrk", "wrk")
    output = subprocess.run(
        [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50_ms": latencies.get("50"),
        "p99_ms": latencies.get("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


@contextlib.contextmanager
def nginx(root: Path, port: int):
    """nginx (Debian's) serving an exported site with the configuration the README shows."""
    binary = apt_install("nginx", "nginx-light")
    work = Path(tempfile.mkdtemp(prefix="statusboard-nginx-"))
    config = (ROOT / "benchmarks" / "nginx.conf").read_text()
    config = (
        config.replace("__PORT__", str(port))
        .replace("__ROOT__", str(root))
        .replace("__WORK__", str(work))
    )
    (work / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [binary, "-c", str(work / "nginx.conf"), "-p", str(work), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def table(rows: list[list[object]], headers: list[str]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit(result: dict) -> None:
    print(json.dumps(result, sort_keys=True))
