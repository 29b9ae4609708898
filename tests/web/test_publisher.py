"""A write is published by this host's worker when it answers, else by the writer."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from statusboard.db import database
from statusboard.web import publisher
from statusboard.web.snapshots import snapshots
from statusboard.web.surfaces import render_surface
from tests.web.test_snapshots import open_incident, same_host


@pytest.fixture
def worker(app):
    """This host's worker (same database, same store), answering writers."""
    worker_app = same_host(app)
    front = snapshots(worker_app)
    stop = threading.Event()
    serving = threading.Thread(target=publisher.serve, args=(front.publisher, front.publish, stop))
    serving.start()
    for _ in range(500):  # until it listens
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(front.publisher)
                break
            except OSError:
                time.sleep(0.01)
    yield front
    stop.set()
    serving.join(timeout=5)
    database(worker_app).engine.dispose()


def test_a_write_is_published_by_the_hosts_worker(app, client, session, operator, worker):
    client.get("/")
    open_incident(session, operator, name="Second problem")
    assert snapshots(app).published == 0  # the writer rendered nothing
    assert worker.published > 0
    other = same_host(app)
    for reader in (client, other.test_client()):
        assert b"Second problem" in reader.get("/").get_data()
    database(other).engine.dispose()


def test_a_worker_that_does_not_answer_in_time_leaves_the_writer_to_publish(
    app, client, session, operator, monkeypatch
):
    monkeypatch.setattr(publisher, "ANSWER_WITHIN", 0.05)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(snapshots(app).publisher)
        silent.listen(8)  # accepts, never answers
        open_incident(session, operator, name="Second problem")
    assert snapshots(app).published > 0
    assert b"Second problem" in client.get("/").get_data()


def test_a_second_worker_of_the_host_leaves_it_to_the_first(app, worker):
    stop = threading.Event()
    second = threading.Thread(
        target=publisher.serve, args=(worker.publisher, worker.publish, stop), daemon=True
    )
    second.start()
    second.join(timeout=5)
    assert not second.is_alive()  # could not take the address: returned at once


@pytest.mark.parametrize("garbage", [b"", b"not a number\n", b"\xff\xfe\x00\n", b"1" * 5000])
def test_garbage_from_a_local_process_publishes_nothing_and_the_worker_answers_on(
    app, session, operator, worker, garbage
):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        connection.connect(worker.publisher)
        connection.sendall(garbage)
        connection.shutdown(socket.SHUT_WR)
        assert connection.recv(100) == b""  # closed without an answer
    assert worker.published == 0
    open_incident(session, operator)  # published by the worker, as before
    assert worker.published > 0


def test_asking_for_a_version_never_committed_renders_nothing(
    app, session, operator, worker, monkeypatch
):
    open_incident(session, operator)
    renders = []
    monkeypatch.setattr(
        "statusboard.web.snapshots.render_surface",
        lambda *args, real=render_surface: renders.append(1) or real(*args),
    )
    for _ in range(3):
        publisher.ask(worker.publisher, 10**9)
    assert renders == []  # the worker published the current version already
