import pytest

from statusboard.server import gunicorn_options


@pytest.mark.parametrize(
    "app_overrides", [{"WEB_WORKERS": 3, "WEB_THREADS": 8, "ACCESS_LOG": False}]
)
def test_gunicorn_settings_follow_the_environment(app):
    options = gunicorn_options(app)
    assert (options["workers"], options["threads"], options["accesslog"]) == (3, 8, None)
    assert options["worker_class"] == "gthread"


def test_default_worker_count_follows_the_cores(app, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert gunicorn_options(app)["workers"] == 4
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert gunicorn_options(app)["workers"] == 8


def test_the_master_warms_the_public_surfaces_and_holds_no_connection_across_the_fork(app, client):
    import gc

    from statusboard.db import database
    from statusboard.server import WARM, warm_before_fork
    from statusboard.web.snapshots import EXTENSION

    try:
        warm_before_fork(app)
    finally:
        gc.unfreeze()
    cache = app.extensions[EXTENSION]
    assert all(cache.get(path) is not None for path in WARM)
    assert database(app).engine.pool.checkedin() == 0
    versions = cache.versions
    assert getattr(versions._local, "connection", None) is None
    # a worker's first request is a hit, not a render
    from flask import request_started

    reached = []

    def started(sender, **extra):
        reached.append(1)

    request_started.connect(started, app)
    try:
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
