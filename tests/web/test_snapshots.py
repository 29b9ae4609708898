"""The read path: public surfaces from snapshots, one cheap query per request, 304s, no
cookies, read-your-writes across processes, and a page that outlives its database."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from statusboard.app import create_app
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import Impact
from statusboard.services import incidents
from statusboard.services.audit import Actor
from tests.conftest import QUIET, login

PUBLIC = ["/", "/history", "/api/v2/summary.json", "/feed.atom", "/history.atom", "/feed.json"]


@contextlib.contextmanager
def count_queries(app, engine=None) -> Iterator[list[str]]:
    """Every statement any code runs: ORM and Core ones through SQLAlchemy's events, raw
    DBAPI ones through the connection checkouts they need (and, on SQLite, the statements
    themselves through the driver's trace hook)."""
    statements: list[str] = []
    engine = engine or database(app).engine

    def on_execute(conn, cursor, statement, *args):
        statements.append(statement)

    def on_checkout(dbapi_connection, record, proxy):
        statements.append("<checkout>")
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(statements.append)

    def on_checkin(dbapi_connection, record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(None)

    listeners = [
        ("before_cursor_execute", on_execute),
        ("checkout", on_checkout),
        ("checkin", on_checkin),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield statements
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def another_process(database_url, snapshot_dir, reuse_ms=0):
    """An app like a second web process: same database, its own memory."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
            "DATABASE_URL": database_url,
            "SNAPSHOT_DIR": str(snapshot_dir),
            "VERSION_REUSE_MS": reuse_ms,
        }
    )


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


@pytest.mark.parametrize("path", PUBLIC + ["/incidents/{id}"])
def test_steady_state_public_request_makes_one_version_query(app, client, session, operator, path):
    from statusboard.web.snapshots import _VERSION_SQL, EXTENSION

    incident = open_incident(session, operator)
    path = path.format(id=incident.public_id)
    assert client.get(path).status_code == 200  # renders the snapshot
    versions = app.extensions[EXTENSION].versions
    before = versions.queries
    traced: list[str] = []
    if versions.engine.dialect.name == "sqlite":  # the statements themselves, as run
        versions._connection().dbapi_connection.set_trace_callback(traced.append)
    with count_queries(app) as statements, count_queries(app, versions.engine) as connects:
        for _ in range(5):
            assert client.get(path).status_code == 200
    assert statements == []  # nothing through the app's engine: no checkout, no query
    assert connects == []  # the version reads reuse this thread's connection
    assert versions.queries - before == 5  # one version check per request
    if versions.engine.dialect.name == "sqlite":
        assert traced == [_VERSION_SQL] * 5


def test_conditional_get_answers_304(client, session, operator):
    open_incident(session, operator)
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    since = first.headers["Last-Modified"]
    assert client.get("/", headers={"If-Modified-Since": since}).status_code == 304
    open_incident(session, operator, name="Second problem")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Second problem" in changed.get_data(as_text=True)


def test_public_responses_carry_no_cookie_even_for_a_logged_in_operator(client, operator):
    login(client, operator)
    for path in PUBLIC:
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" not in response.headers.get("Vary", ""), path


def test_a_write_is_visible_to_the_next_request_of_another_process(
    app, client, session, operator, tmp_path
):
    other = another_process(settings_of(app).database_url, tmp_path / "other")
    reader = other.test_client()
    assert "Database slow" not in reader.get("/").get_data(as_text=True)
    open_incident(session, operator)  # written through this process's session
    assert "Database slow" in reader.get("/").get_data(as_text=True)
    database(other).engine.dispose()


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


def test_page_is_served_while_the_database_is_unreachable_and_recovers(
    outage, session, operator, tmp_path
):
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
        # A process started during the outage serves the snapshot from disk.
        fresh = another_process(settings_of(app).database_url, settings_of(app).web.snapshot_dir)
        assert fresh.test_client().get("/").get_data() == before.get_data()
        # Operators get a clear error, not a crash.
        login_page = client.post("/login", data={"email": "ops@example.com", "password": "x"})
        assert login_page.status_code == 503
        assert "database cannot be reached" in login_page.get_data(as_text=True)
        # A surface never rendered before has nothing to fall back on.
        assert client.get("/history").status_code == 503
    finally:
        restore()
    assert "Warning" not in client.get("/").headers


def test_a_version_is_rendered_once_per_host_and_read_by_other_processes(
    app, client, session, operator, tmp_path
):
    open_incident(session, operator)
    assert client.get("/").status_code == 200  # this process renders and stores it
    other = another_process(settings_of(app).database_url, settings_of(app).web.snapshot_dir)
    with count_queries(other) as statements:
        page = other.test_client().get("/")
    assert page.get_data() == client.get("/").get_data()
    assert [s for s in statements if s != "<checkout>" and "page_state" not in s] == []
    database(other).engine.dispose()


@contextlib.contextmanager
def flask_requests(app) -> Iterator[list[str]]:
    """Paths of the requests that reached Flask (a hit answered before Flask is not one)."""
    from flask import request, request_started

    seen: list[str] = []

    def started(sender, **extra):
        seen.append(request.path)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


@pytest.mark.parametrize("path", ["/", "/api/v2/summary.json", "/feed.atom", "/history"])
def test_a_hit_is_answered_before_flask_with_the_same_bytes_and_headers(
    app, client, session, operator, path
):
    open_incident(session, operator)
    first = client.get(path)  # Flask renders and serves it
    with flask_requests(app) as reached:
        again = client.get(path, query_string={"cache-buster": "1"})
        head = client.head(path)
    assert reached == []
    assert again.status_code == first.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers == first.headers  # CORS, ETag, Cache-Control, Content-Length...
    assert head.status_code == first.status_code and head.get_data() == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]


def test_hits_answer_304_and_follow_every_new_version(app, client, session, operator):
    open_incident(session, operator)
    etag = client.get("/").headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304  # via Flask
    with flask_requests(app) as reached:
        repeat = client.get("/", headers={"If-None-Match": etag})
        other = client.get("/", headers={"If-None-Match": '"something-else"'})
    assert reached == []
    assert repeat.status_code == 304 and repeat.get_data() == b""
    assert (
        repeat.headers["ETag"] == etag
        and "Content-Length" not in repeat.headers
        or repeat.headers["Content-Length"] == "0"
    )
    assert other.status_code == 200 and other.headers["ETag"] == etag

    open_incident(session, operator, name="Second problem")
    changed = client.get("/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Second problem" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_a_write_renders_what_readers_asked_for_before_it_is_answered(
    app, client, session, operator
):
    client.get("/")
    client.get("/api/v2/summary.json")
    open_incident(session, operator, name="Prepared problem")  # commit returns when ready
    with flask_requests(app) as reached:
        page = client.get("/")
        summary = client.get("/api/v2/summary.json")
        history = client.get("/history")  # nobody asked for it: rendered on demand
    assert "Prepared problem" in page.get_data(as_text=True)
    assert "Prepared problem" in summary.get_data(as_text=True)
    assert "Prepared problem" in history.get_data(as_text=True)
    assert reached == ["/history"]


def _commit_unseen_version(app) -> int:
    """A new version as a writer on another host would make it: no hooks of this app run."""
    with database(app).engine.begin() as connection:
        connection.exec_driver_sql("UPDATE page_state SET version = version + 1 WHERE id = 1")
        return connection.exec_driver_sql("SELECT version FROM page_state").scalar_one()


class _get_in_thread(threading.Thread):
    def __init__(self, client, path):
        super().__init__(daemon=True)
        self.client, self.path, self.response = client, path, None
        self.start()

    def run(self):
        self.response = self.client.get(self.path)


def test_readers_get_the_previous_version_while_an_unanswered_write_renders_the_new_one(
    app, client, session, operator
):
    from statusboard.web.snapshots import EXTENSION

    open_incident(session, operator)
    other = another_process(settings_of(app).database_url, settings_of(app).web.snapshot_dir)
    reader = other.test_client()
    before = reader.get("/")
    version = _commit_unseen_version(app)
    writer_cache = app.extensions[EXTENSION]
    rendering = writer_cache.lock_for("/")  # this process is "rendering" it...
    assert rendering.__enter__()
    try:
        writer_cache.mark_pending([version])  # ...for a write not yet answered
        during = _get_in_thread(reader, "/")
        during.join(timeout=5)
        assert not during.is_alive()  # answered at once, not queued behind the render
        assert during.response.headers["ETag"] == before.headers["ETag"]
        assert other.extensions[EXTENSION].get("/").version == version - 1

        writer_cache.clear_pending([version])  # answered: now readers wait for the render
        waiting = _get_in_thread(reader, "/")
        waiting.join(timeout=0.5)
        assert waiting.is_alive()
    finally:
        rendering.__exit__(None, None, None)
    waiting.join(timeout=10)
    assert waiting.response.status_code == 200
    assert other.extensions[EXTENSION].get("/").version == version  # rendered after waiting
    database(other).engine.dispose()


def test_a_logged_in_operator_never_gets_a_cookie_from_a_hit(client, operator):
    assert client.get("/").status_code == 200
    login(client, operator)
    response = client.get("/")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_write_is_answered_in_bounded_time_even_when_preparing_is_slow(
    app, client, session, operator, monkeypatch
):
    client.get("/")
    middleware = app.wsgi_app
    release, finished = threading.Event(), threading.Event()
    original = middleware._render

    def slow_render(paths):
        release.wait(10)  # a surge leaves the renderer little CPU
        original(paths)
        finished.set()

    monkeypatch.setattr(middleware, "_render", slow_render)
    open_incident(session, operator, name="Late render")
    assert not finished.is_set()  # the write was answered before its render ended
    release.set()
    # Answered: the version is no longer pending, so a reader waits for the render, then
    # gets the new version (never the previous one).
    assert "Late render" in client.get("/").get_data(as_text=True)


def test_hits_keep_the_previous_version_only_while_every_newer_one_is_unanswered(
    app, client, session, operator
):
    from statusboard.web.snapshots import EXTENSION

    cache = app.extensions[EXTENSION]
    open_incident(session, operator)
    client.get("/")
    first = cache.get("/").version
    answered = _commit_unseen_version(app)  # a write that was answered...
    unanswered = _commit_unseen_version(app)  # ...and one that is not yet
    cache.mark_pending([unanswered])
    with flask_requests(app) as reached:
        client.get("/")
    assert reached == ["/"] and cache.get("/").version == unanswered > answered > first

    newest = _commit_unseen_version(app)
    cache.mark_pending([newest])
    with flask_requests(app) as reached:
        during = client.get("/")  # answered before Flask, from the version before
    assert reached == [] and during.status_code == 200
    assert cache.get("/").version == unanswered
    cache.clear_pending([unanswered, newest])
    with flask_requests(app) as reached:
        client.get("/")
    assert reached == ["/"] and cache.get("/").version == newest


@pytest.mark.parametrize("app_overrides", [{"VERSION_REUSE_MS": 300}])
def test_a_reused_version_never_hides_an_answered_write_from_another_host(
    app, client, session, operator, tmp_path
):
    from statusboard.web.snapshots import EXTENSION

    # Another host: its own snapshot store, the same reuse window.
    other = another_process(settings_of(app).database_url, tmp_path / "other", reuse_ms=300)
    reader = other.test_client()
    versions = other.extensions[EXTENSION].versions
    assert "Database slow" not in reader.get("/").get_data(as_text=True)
    before = versions.queries
    for _ in range(5):  # within the window: no query at all
        reader.get("/")
    assert versions.queries == before
    open_incident(session, operator)  # answered only once the window has passed
    assert "Database slow" in reader.get("/").get_data(as_text=True)
    assert versions.queries == before + 1
    database(other).engine.dispose()
