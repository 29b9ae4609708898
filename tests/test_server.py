import pytest

from statusboard.server import gunicorn_options


@pytest.mark.parametrize(
    "app_overrides", [{"WEB_WORKERS": 3, "WEB_THREADS": 3, "ACCESS_LOG": False}]
)
def test_gunicorn_settings_follow_the_environment(app):
    options = gunicorn_options(app)
    assert (options["workers"], options["threads"], options["accesslog"]) == (3, 3, None)
    assert options["worker_class"] == "gthread"


def test_default_worker_count_follows_the_cores(app, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert gunicorn_options(app)["workers"] == 4
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert gunicorn_options(app)["workers"] == 8


def test_the_master_warms_the_public_surfaces_and_holds_no_connection_across_the_fork(app, client):
    import gc

    from flask import request_started

    from statusboard.db import database
    from statusboard.server import warm_before_fork
    from statusboard.web.snapshots import HOT, snapshots

    try:
        warm_before_fork(app)
    finally:
        gc.unfreeze()
    front = snapshots(app)
    assert all(path in front.memory and path in front.store for path in HOT)
    assert database(app).engine.pool.checkedin() == 0
    reached = []

    def started(sender, **extra):
        reached.append(1)

    request_started.connect(started, app)
    try:  # a worker's first request is a hit, not a render
        assert client.get("/").status_code == 200
    finally:
        request_started.disconnect(started, app)
    assert reached == []


def test_a_port_already_listened_on_is_refused_not_shared():
    import socket

    from statusboard.server import port_is_free

    with socket.socket() as other:  # another server, as SO_REUSEPORT would let us join it
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)


def _server_environment(database_url, tmp_path, *, web_workers: int) -> tuple[dict, int]:
    """The environment of a real `statusboard run` on the test database, and a free port."""
    import os
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        **os.environ,
        "STATUSBOARD_DATABASE_URL": database_url,
        "STATUSBOARD_SECRET_KEY": "x",
        "STATUSBOARD_INSTANCE_DIR": str(tmp_path),
        "STATUSBOARD_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
        "STATUSBOARD_WEB_WORKERS": str(web_workers),
        "STATUSBOARD_ACCESS_LOG": "false",
    }, port


def _serve(env, port, *, worker: bool = False):
    import subprocess
    import sys
    import time
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "statusboard.cli", "run", *([] if worker else ["--no-worker"])],
        env={**env, "STATUSBOARD_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90  # it renders every public surface before it serves
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode()) from None
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not come up")


def test_a_restart_after_sigterm_binds_at_once_while_old_connections_linger(
    app, database_url, tmp_path
):
    import http.client
    import signal

    env, port = _server_environment(database_url, tmp_path, web_workers=1)
    first = _serve(env, port)
    kept = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(4)]
    try:
        for connection in kept:  # keep-alive connections, idle when the signal comes
            connection.request("GET", "/api/v2/status.json")
            assert connection.getresponse().read()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0  # drained and closed them, within the timeout
        second = _serve(env, port)  # the port is free at once, despite TIME-WAIT
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        for connection in kept:
            connection.close()
        for process in (first,):
            if process.poll() is None:
                process.kill()


def _children(pid: int) -> dict[int, tuple[str, int]]:
    """The child processes of `pid`: (command line, niceness), from /proc."""
    from pathlib import Path

    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields after the command: state, ppid, ..., nice
            found[int(stat.parent.name)] = (command, int(fields[16]))
    return found


def test_web_processes_beside_a_worker_yield_the_cpu_to_it(app, database_url, tmp_path):
    """`statusboard run` on one host: under a surge the worker's publishing (export,
    deliveries, nags) comes before serving more copies of the page."""
    import os
    import signal
    import time

    from statusboard.server import WEB_NICENESS

    env, port = _server_environment(database_url, tmp_path, web_workers=2)
    server = _serve(env, port, worker=True)
    try:
        own = os.getpriority(os.PRIO_PROCESS, 0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # The first web process answers before the second is forked, and a process is
            # listed a moment before its post-fork hook has lowered its priority.
            children = _children(server.pid)
            workers = [nice for command, nice in children.values() if "worker" in command]
            web = [nice for command, nice in children.values() if "worker" not in command]
            if len(web) == 2 and own not in web:
                break
            time.sleep(0.05)
        assert workers == [own]
        assert web == [min(own + WEB_NICENESS, 19)] * 2
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
