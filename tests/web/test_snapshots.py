"""The read path: public surfaces rendered once per data version, one version query per
request, 304s, no cookies, read-your-writes across processes and hosts, and a page that
outlives its database."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from statusboard.app import create_app
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import Impact
from statusboard.models import RenderedSurface
from statusboard.server import warm_before_fork
from statusboard.services import incidents, page
from statusboard.services.audit import Actor
from statusboard.web.snapshots import HOT, snapshots
from statusboard.web.surfaces import render_surface
from statusboard.web.versions import PUBLISHING
from tests.conftest import QUIET, login

PUBLIC = ["/", "/history", "/api/v2/summary.json", "/feed.atom", "/history.atom", "/feed.json"]


@contextlib.contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """Every statement run and every connection checked out through the app's engine."""
    statements: list[str] = []
    engine = database(app).engine

    def on_execute(conn, cursor, statement, *args):
        statements.append(statement)

    def on_checkout(dbapi_connection, record, proxy):
        statements.append("<checkout>")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "checkout", on_checkout)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "checkout", on_checkout)


def another_process(database_url, snapshot_dir):
    """An app like a second web process (or, with its own snapshot_dir, a second host):
    same database, its own memory."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
            "DATABASE_URL": database_url,
            "SNAPSHOT_DIR": str(snapshot_dir),
        }
    )


def same_host(app):
    return another_process(settings_of(app).database_url, settings_of(app).web.snapshot_dir)


def open_incident(session, operator, name="Database slow", publishing_settings=QUIET):
    incident = incidents.open_incident(
        session,
        name=name,
        impact=Impact.MAJOR,
        body="Looking into it.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


def commit_from_elsewhere(app) -> None:
    """A new version as a writer on another host makes it: nothing of this app runs."""
    with database(app).engine.begin() as connection:
        connection.exec_driver_sql("UPDATE page_state SET version = version + 1 WHERE id = 1")


@pytest.mark.parametrize("path", PUBLIC + ["/incidents/{id}"])
def test_steady_state_public_request_makes_one_version_query(app, client, session, operator, path):
    incident = open_incident(session, operator)
    path = path.format(id=incident.public_id)
    assert client.get(path).status_code == 200  # renders it
    traced: list[str] = []
    if database(app).dialect == "sqlite":  # the statements themselves, as SQLite runs them
        versions = snapshots(app).versions
        versions.read()  # opens this thread's connection
        versions._own.connection.set_trace_callback(traced.append)
    with count_queries(app) as statements:
        for _ in range(5):
            assert client.get(path).status_code == 200
            assert client.get(path, headers={"If-None-Match": '"x"'}).status_code == 200
    # No statement through SQLAlchemy and no checkout: the version check runs on the
    # process's own connection, and (as SQLite shows) it is all that runs.
    assert statements == []
    if database(app).dialect == "sqlite":
        assert traced == [snapshots(app).versions.SQL] * 10


def test_conditional_get_answers_304(client, session, operator):
    open_incident(session, operator)
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    not_modified = client.get("/", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    since = first.headers["Last-Modified"]
    assert client.get("/", headers={"If-Modified-Since": since}).status_code == 304
    open_incident(session, operator, name="Second problem")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Second problem" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_the_etag_is_the_data_version_so_every_process_and_surface_agrees(
    app, client, session, operator, tmp_path
):
    open_incident(session, operator)
    other_host = another_process(settings_of(app).database_url, tmp_path / "other")
    tags = {client.get(p).headers["ETag"] for p in PUBLIC}
    tags |= {other_host.test_client().get(p).headers["ETag"] for p in PUBLIC}
    assert len(tags) == 1
    database(other_host).engine.dispose()


def test_head_answers_the_headers_of_get_without_the_body(client):
    get, head = client.get("/feed.atom"), client.head("/feed.atom")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers == get.headers


def test_a_query_string_neither_busts_the_cache_nor_changes_the_bytes(app, client):
    first = client.get("/api/v2/summary.json")
    with count_queries(app) as statements:
        busted = client.get("/api/v2/summary.json", query_string={"cache-buster": "1"})
    assert busted.get_data() == first.get_data() and statements == []


def test_public_responses_carry_no_cookie_even_for_a_logged_in_operator(client, operator):
    login(client, operator)
    for path in PUBLIC:
        for response in (client.get(path), client.get(path)):  # a render, then a hit
            assert "Set-Cookie" not in response.headers, path
            assert "Cookie" not in response.headers.get("Vary", ""), path


def test_an_unknown_incident_is_a_404_page(client):
    response = client.get("/incidents/nothing-here")
    assert response.status_code == 404
    assert "no incident at this address" in response.get_data(as_text=True)
    assert client.get("/incidents/nothing-here.atom").status_code == 404
    assert client.get("/history/99").status_code == 404


def test_a_write_is_visible_to_the_next_request_of_another_process(app, client, session, operator):
    other = same_host(app)
    reader = other.test_client()
    assert "Database slow" not in reader.get("/").get_data(as_text=True)
    open_incident(session, operator)  # written through this process's session
    assert "Database slow" in reader.get("/").get_data(as_text=True)
    database(other).engine.dispose()


def test_a_write_on_one_host_is_visible_to_the_next_request_on_another(
    app, client, session, operator, tmp_path
):
    here, there = client, another_process(settings_of(app).database_url, tmp_path / "b")
    for reader in (here, there.test_client()):
        assert "Database slow" not in reader.get("/").get_data(as_text=True)
    open_incident(session, operator)
    for reader in (here, there.test_client()):
        assert "Database slow" in reader.get("/").get_data(as_text=True)
    before = there.test_client().get("/api/v2/incidents.json").headers["ETag"]
    commit_from_elsewhere(app)  # no hook of either app runs
    assert there.test_client().get("/api/v2/incidents.json").headers["ETag"] != before
    database(there).engine.dispose()


def test_a_version_once_rendered_is_served_without_rendering_again(app, client, session, operator):
    open_incident(session, operator)
    client.get("/api/v2/incidents.json")
    with count_queries(app) as statements:
        client.get("/api/v2/incidents.json")
    open_incident(session, operator, name="Second problem")
    with count_queries(app) as after_write:
        page = client.get("/api/v2/incidents.json")
    assert statements == []  # only the version check, on the thread's own connection
    assert len(after_write) > 1 and "Second problem" in page.get_data(as_text=True)


def test_one_rendering_of_a_version_serves_every_process_of_the_host(
    app, client, session, operator, tmp_path
):
    """After a write, the first process to be asked renders; the host's other processes
    take its copy (no rendering queries); another host renders its own."""
    other, elsewhere = same_host(app), another_process(settings_of(app).database_url, tmp_path)
    open_incident(session, operator, name="Second problem")
    assert b"Second problem" in client.get("/api/v2/incidents.json").get_data()  # rendered here
    with count_queries(other) as here_statements:
        assert b"Second problem" in other.test_client().get("/api/v2/incidents.json").get_data()
    with count_queries(elsewhere) as there_statements:
        assert b"Second problem" in elsewhere.test_client().get("/api/v2/incidents.json").get_data()
    assert set(here_statements) <= {"<checkout>"}  # the version check's connection alone
    assert len(there_statements) > 2
    for each in (other, elsewhere):
        database(each).engine.dispose()


def test_a_write_publishes_the_surge_surfaces_so_no_reader_anywhere_renders_them(
    app, client, session, operator, tmp_path
):
    """The page and summary.json are rendered once, by the write, right after it commits:
    the host's processes take them from the store, another host from the database (one
    read, no rendering)."""
    other, elsewhere = same_host(app), another_process(settings_of(app).database_url, tmp_path)
    for path in HOT:  # every process holds the version before the write
        for reader in (client, other.test_client(), elsewhere.test_client()):
            reader.get(path)
    open_incident(session, operator, name="Second problem")
    version = snapshots(app).versions.read().version
    for reader, front in ((client, app), (other.test_client(), other)):
        with count_queries(front) as statements:
            for path in HOT:
                assert reader.get(path).headers["ETag"].startswith(f'"{version}-'), path
            assert b"Second problem" in reader.get("/").get_data()
        assert statements == []  # the version checks alone (on their own connection)
    with count_queries(elsewhere) as there_statements:
        for path in HOT:
            assert elsewhere.test_client().get(path).headers["ETag"].startswith(f'"{version}-')
        assert b"Second problem" in elsewhere.test_client().get("/").get_data()
    selects = [s for s in there_statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len(HOT)
    assert all("rendered_surface" in select for select in selects)
    for each in (other, elsewhere):
        database(each).engine.dispose()


def test_while_a_write_is_being_published_readers_answer_the_last_published_version(
    app, client, session, operator, clock
):
    """A version committed without its publication (its writer died, or wrote from outside
    the app): its writer's surge surfaces answer the last published version for
    PUBLISHING, every other surface the new version at once; then readers render it."""
    open_incident(session, operator, name="First problem")
    before = client.get("/").headers["ETag"]
    commit_from_elsewhere(app)
    assert client.get("/").headers["ETag"] == before
    assert client.get("/api/v2/incidents.json").headers["ETag"] != before
    clock.advance(PUBLISHING)
    assert client.get("/").headers["ETag"] != before


def test_a_write_whose_publication_fails_is_committed_and_read_after_a_pause(
    app, client, session, operator, clock, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the template broke")

    client.get("/")
    monkeypatch.setattr("statusboard.web.snapshots.render_surface", broken)
    open_incident(session, operator, name="Second problem")
    monkeypatch.undo()
    assert incidents_named(session, "Second problem") == 1
    assert b"Second problem" not in client.get("/").get_data()
    clock.advance(PUBLISHING)
    assert b"Second problem" in client.get("/").get_data()  # rendered by the reader instead


def test_a_publication_never_replaces_a_newer_one(app, session, operator, tmp_path):
    """Two writers render in either order; the newer version stays published."""
    open_incident(session, operator, name="First problem")
    with app.app_context():
        older = render_surface(session, "/")
    open_incident(session, operator, name="Second problem")
    stale = RenderedSurface(
        path="/",
        version=older.version,
        content_type=older.content_type,
        etag=older.etag,
        last_modified=older.last_modified,
        body=older.body,
    )
    database(app).write(lambda writing: page.publish(writing, [stale]))
    elsewhere = another_process(settings_of(app).database_url, tmp_path)  # reads the table
    assert b"Second problem" in elsewhere.test_client().get("/").get_data()
    database(elsewhere).engine.dispose()


def test_a_write_whose_commit_fails_leaves_no_rendering_behind(app, client, session, operator):
    """What a write rendered is published only once it committed."""
    client.get("/")

    def refuse(session):
        raise RuntimeError("the commit failed")

    event.listen(database(app).sessions, "before_commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            open_incident(session, operator, name="Never happened")
    finally:
        event.remove(database(app).sessions, "before_commit", refuse)
    session.rollback()
    for reader in (client, same_host(app).test_client()):
        assert b"Never happened" not in reader.get("/").get_data()
    open_incident(session, operator, name="Second problem")
    assert b"Second problem" in same_host(app).test_client().get("/").get_data()


def incidents_named(session, name):
    from statusboard.models import Incident

    return session.scalar(select(func.count()).select_from(Incident).where(Incident.name == name))


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database; stop() cuts connectivity like a network
    failure, start() restores it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.up = True
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self.up = False
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
        self.connections.clear()

    def start(self) -> None:
        self.up = True

    def close(self) -> None:
        self.stop()
        self.listener.close()


@pytest.fixture
def outage(database_url, tmp_path):
    """An app whose database can be cut off and restored: (app, cut, restore)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        app = another_process(proxied.render_as_string(hide_password=False), tmp_path / "snapshots")
        yield app, proxy.stop, proxy.start
        proxy.close()
    else:
        path = url.database
        app = another_process(database_url, tmp_path / "snapshots")
        hidden = f"{path}.away"

        def cut():
            import os

            database(app).engine.dispose()
            os.rename(path, hidden)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(path + suffix, hidden + suffix)
            # The engine would create an empty file; make the path unusable instead.
            os.mkdir(path)

        def restore():
            import os

            database(app).engine.dispose()
            os.rmdir(path)
            os.rename(hidden, path)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(hidden + suffix, path + suffix)

        yield app, cut, restore
    database(app).engine.dispose()


def test_page_is_served_while_the_database_is_unreachable_and_recovers(outage, session, operator):
    app, cut, restore = outage
    open_incident(session, operator)
    session.close()
    client = app.test_client()
    before = client.get("/")
    assert before.status_code == 200
    cut()
    try:
        during = client.get("/")
        assert during.status_code == 200
        assert during.get_data() == before.get_data()  # with its "last updated" time
        assert "stale" in during.headers["Warning"]
        # A process started during the outage serves the copy kept on disk.
        fresh = same_host(app)
        assert fresh.test_client().get("/").get_data() == before.get_data()
        # Operators get a clear error, not a crash.
        login_page = client.post("/login", data={"email": "ops@example.com", "password": "x"})
        assert login_page.status_code == 503
        assert "database cannot be reached" in login_page.get_data(as_text=True)
        # A surface no process of this host ever rendered has nothing to fall back on.
        assert client.get("/history.rss").status_code == 503
    finally:
        restore()
    assert "Warning" not in client.get("/").headers


def test_every_public_surface_rendered_at_start_is_there_during_an_outage(
    outage, session, operator
):
    from statusboard.export import public_paths

    app, cut, restore = outage
    incident = open_incident(session, operator)
    session.close()
    try:
        warm_before_fork(app)  # what `statusboard run` does before it serves
    finally:
        import gc

        gc.unfreeze()
    with app.app_context(), database(app).session() as listing:
        paths = public_paths(app, listing, since=None)
    assert f"/incidents/{incident.public_id}.rss" in paths and "/maintenance.ics" in paths
    cut()
    try:
        started_during_outage = same_host(app).test_client()
        for path in paths:
            response = started_during_outage.get(path)
            assert response.status_code == 200, path
    finally:
        restore()


def test_every_process_of_a_host_serves_the_newest_copy_during_an_outage(outage, session, operator):
    app, cut, restore = outage
    other = same_host(app)
    first, second = app.test_client(), other.test_client()
    open_incident(session, operator)
    old = first.get("/feed.atom")  # this process keeps that version in memory
    open_incident(session, operator, name="Second problem")
    session.close()
    new = second.get("/feed.atom")  # the other renders and stores the next one
    assert new.headers["ETag"] != old.headers["ETag"]
    cut()
    database(other).engine.dispose()  # its connections go down with the database too
    try:
        for reader in (first, second, first):
            assert reader.get("/feed.atom").headers["ETag"] == new.headers["ETag"]
    finally:
        restore()


@contextlib.contextmanager
def flask_requests(app) -> Iterator[list[str]]:
    """Paths of the requests that reached Flask."""
    from flask import request, request_started

    seen: list[str] = []

    def started(sender, **extra):
        seen.append(request.path)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def test_public_surfaces_are_answered_before_flask_and_the_rest_by_flask(
    app, client, session, operator
):
    open_incident(session, operator)
    with flask_requests(app) as reached:
        for path in PUBLIC:
            assert client.get(path).status_code == 200
        client.get("/healthz")
        client.get("/incidents/missing")
    assert reached == ["/healthz", "/incidents/missing"]


def test_a_slow_render_holds_up_only_the_readers_of_new_versions(app, client, session, operator):
    """One render lock per process: readers of a version already rendered never wait."""
    client.get("/")
    front = snapshots(app)
    with front.render_lock:  # a render in progress
        assert client.get("/").status_code == 200
        waiting = threading.Thread(target=client.get, args=("/history",), daemon=True)
        waiting.start()
        waiting.join(timeout=0.05)
        assert waiting.is_alive()
    waiting.join(timeout=10)
    assert not waiting.is_alive()
