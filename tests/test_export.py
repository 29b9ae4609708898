import json
import os
import re
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from statusboard import jobs
from statusboard.cli import main
from statusboard.config import settings_of
from statusboard.db import database
from statusboard.domain.statuses import Impact, IncidentStatus
from statusboard.export import ARGUMENTS, Exporter, ExportRefused, export, file_for
from statusboard.services import components, incidents
from statusboard.services.audit import Actor
from statusboard.storage import DirectoryTarget
from statusboard.web.surfaces import RENDERERS, match


def _open(session, operator, publishing_settings, name, body="Looking."):
    incident = incidents.open_incident(
        session,
        name=name,
        impact=Impact.MINOR,
        body=body,
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    return incident


@pytest.fixture
def app_overrides(tmp_path):
    return {"EXPORT_DIR": str(tmp_path / "site")}  # what the worker keeps current


def _files(directory: Path) -> dict[str, tuple[int, bytes]]:
    """Every exported file: (inode, bytes). A file replaced by renaming has a new inode."""
    return {
        p.relative_to(directory).as_posix(): (p.stat().st_ino, p.read_bytes())
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_every_public_route_with_arguments_can_be_exported(app):
    surfaces = [rule for rule in app.url_map.iter_rules() if rule.endpoint in RENDERERS]
    assert len(surfaces) > 20
    for rule in surfaces:
        if rule.arguments - set(rule.defaults or {}):
            assert rule.endpoint in ARGUMENTS, rule.rule


def test_export_writes_every_public_surface_as_the_app_serves_it(
    app, client, session, operator, tmp_path, publishing_settings
):
    incident = _open(session, operator, publishing_settings, "Broken login")
    result = export(app, tmp_path)
    assert result.files >= 3
    assert (tmp_path / "index.html").read_bytes() == client.get("/").get_data()
    feed = tmp_path / f"incidents/{incident.public_id}.atom"
    assert feed.read_bytes() == client.get(f"/incidents/{incident.public_id}.atom").get_data()
    page = tmp_path / f"incidents/{incident.public_id}.html"
    assert b"Broken login" in page.read_bytes()
    assert (tmp_path / "history.html").exists()
    assert (tmp_path / "static/style.css").exists()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_write_rewrites_only_the_files_whose_bytes_changed(
    app, session, operator, tmp_path, publishing_settings
):
    others = [_open(session, operator, publishing_settings, f"Slow {n}") for n in range(4)]
    second = _open(session, operator, publishing_settings, "Broken login")
    exporter = Exporter(app, [DirectoryTarget(tmp_path / "live")])
    exporter.sync()
    before = _files(tmp_path / "live")
    again = exporter.sync()  # nothing new: nothing written
    assert again is None or not again.written

    incidents.post_update(
        session,
        incident=second,
        status=IncidentStatus.IDENTIFIED,
        body="Found the cause.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    result = exporter.sync()
    after = _files(tmp_path / "live")

    replaced = {name for name in after if after[name][0] != before[name][0]}
    differ = {name for name in after if after[name][1] != before[name][1]}
    assert replaced == differ == set(result.written)
    assert f"incidents/{second.public_id}.html" in replaced
    assert "index.html" in replaced and "api/v2/summary.json" in replaced
    # The other incidents' feeds stay as they were (their pages show the overall status),
    # and so do the static files.
    untouched = {
        f"incidents/{other.public_id}.{fmt}" for other in others for fmt in ("atom", "rss", "json")
    } | {name for name in after if name.startswith("static/")}
    assert len(untouched) > 12 and not untouched & replaced
    # and the directory is what a full export of the same data writes, byte for byte
    export(app, tmp_path / "full")
    assert {k: v[1] for k, v in _files(tmp_path / "full").items()} == {
        k: v[1] for k, v in after.items()
    }


def test_a_newer_version_goes_out_before_the_rest_of_the_last_ones(
    app, session, operator, admin, tmp_path, publishing_settings
):
    """The surfaces readers look at after a write go out first; the rest of a version (the
    component pages and feeds here) is left as soon as a newer version exists, and finished
    after it, so a write never waits for the last version's whole site."""
    for name in ("Search", "Billing", "Mail"):
        components.create_component(session, name=name, actor=Actor(admin, "t"))
    session.commit()
    _open(session, operator, publishing_settings, "Slow pages")
    written_during: list[str] = []
    armed = threading.Event()

    class WriteDuring(DirectoryTarget):
        """A target that lets an operator post while the backlog is being worked through."""

        def put(self, file):
            super().put(file)
            if armed.is_set() and file.relative.startswith("components/"):
                armed.clear()
                with database(app).session() as other:
                    created = incidents.open_incident(
                        other,
                        name="Checkout failing",
                        impact=Impact.MAJOR,
                        body="Looking.",
                        actor=Actor(None, "test"),
                        publishing_settings=publishing_settings,
                    )
                    written_during.append(created.public_id)

    live = tmp_path / "live"
    exporter = Exporter(app, [WriteDuring(live)])
    exporter.sync(full=True)
    _open(session, operator, publishing_settings, "Slow search")
    armed.set()

    exporter.sync()
    assert written_during and exporter.backlog  # left for the newer version
    assert b"Checkout failing" not in (live / "index.html").read_bytes()

    newer = exporter.sync()
    assert newer is not None and b"Checkout failing" in (live / "index.html").read_bytes()
    assert (live / f"incidents/{written_during[0]}.html").exists()
    order = list(newer.written)
    later = [n for n, name in enumerate(order) if name.startswith("components/")]
    assert later and order.index("index.html") < min(later)

    while exporter.backlog:
        exporter.sync()
    exporter.close()
    export(app, tmp_path / "full")  # and the result is the whole site, byte for byte
    assert {k: v[1] for k, v in _files(tmp_path / "full").items()} == {
        k: v[1] for k, v in _files(live).items()
    }


def test_a_version_whose_upload_failed_is_written_on_the_next_round(
    app, session, operator, tmp_path, publishing_settings
):
    """A target that is away for a moment (a bucket's 503) does not leave the page behind
    until the next write: the next round writes what the failed one could not."""
    fail_once = threading.Event()

    class Flaky(DirectoryTarget):
        def put(self, file):
            if file.relative == "index.html" and fail_once.is_set():
                fail_once.clear()
                raise OSError("503 Slow Down")
            super().put(file)

    exporter = Exporter(app, [Flaky(tmp_path)])
    exporter.sync(full=True)
    exporter.sweep.clear()  # the sweep would repair it in time; this is about the next round
    _open(session, operator, publishing_settings, "Checkout failing")
    fail_once.set()
    with pytest.raises(OSError):
        exporter.sync()
    assert b"Checkout failing" not in (tmp_path / "index.html").read_bytes()
    exporter.sync()  # no newer version: the same one again
    exporter.close()
    assert b"Checkout failing" in (tmp_path / "index.html").read_bytes()


def test_a_surface_that_no_longer_exists_is_deleted_and_other_files_stay(
    app, session, operator, admin, tmp_path, publishing_settings
):
    component = components.create_component(session, name="Search", actor=Actor(admin, "t"))
    session.commit()
    exporter = Exporter(app, [DirectoryTarget(tmp_path)])
    exporter.sync()
    feed = tmp_path / f"components/{component.public_id}.atom"
    assert feed.exists()
    (tmp_path / "robots.txt").write_text("User-agent: *\n")
    (tmp_path / "components/notes.txt").write_text("mine")

    session.delete(component)
    _open(session, operator, publishing_settings, "Anything")  # a new version
    result = exporter.sync()

    assert not feed.exists()
    assert f"components/{component.public_id}.atom" in result.deleted
    assert (tmp_path / "robots.txt").read_text() == "User-agent: *\n"
    assert (tmp_path / "components/notes.txt").read_text() == "mine"


def _exported_links(app, html: bytes) -> list[str]:
    """The links of a page to other public surfaces (the export's files)."""
    links = [link.decode() for link in re.findall(rb'href="(/[^"#?]*)"', html)]
    return [link for link in links if match(app.url_map, link) is not None]


def test_readers_never_see_half_a_file_or_a_link_to_a_missing_one(
    app, session, operator, tmp_path, publishing_settings
):
    exporter = Exporter(app, [DirectoryTarget(tmp_path)])
    exporter.sync()
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal reads
        while not stop.is_set():
            index = (tmp_path / "index.html").read_bytes()
            summary = (tmp_path / "api/v2/summary.json").read_bytes()
            reads += 1
            if not index.rstrip().endswith(b"</html>"):
                problems.append("half an index.html")
            try:
                json.loads(summary)
            except ValueError:
                problems.append("half a summary.json")
            for link in _exported_links(app, index):
                if not (tmp_path / file_for(link)).exists():
                    problems.append(f"index.html links to missing {link}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for number in range(6):
            _open(session, operator, publishing_settings, f"Incident {number}", "x" * 5000)
            exporter.sync()
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert reads > 10


def test_the_worker_exports_a_write_within_a_second(
    app, session, operator, tmp_path, publishing_settings
):
    export_dir = tmp_path / "site"
    stop = threading.Event()
    loop = threading.Thread(target=jobs.export_loop, args=(app, stop))
    loop.start()
    try:
        assert _wait_for(lambda: (export_dir / "index.html").exists())
        incident = _open(session, operator, publishing_settings, "Checkout failing")
        written = time.monotonic()
        assert _wait_for(lambda: b"Checkout failing" in (export_dir / "index.html").read_bytes())
        seen = time.monotonic() - written
        assert (export_dir / f"incidents/{incident.public_id}.atom").exists()
    finally:
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    assert seen < 1.0


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_paths_map_to_files_nginx_finds():
    assert file_for("/") == "index.html"
    assert file_for("/incidents/abc") == "incidents/abc.html"
    assert file_for("/api/v2/summary.json") == "api/v2/summary.json"
    assert file_for("/history/2") == "history/2.html"


def test_export_refuses_an_empty_target_and_a_file(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExportRefused):
        export(app, "")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current directory
    a_file = tmp_path / "status.html"
    a_file.write_text("mine")
    with pytest.raises(ExportRefused):
        export(app, a_file)
    assert a_file.read_text() == "mine"


def test_the_export_command_says_why_it_refuses(app, tmp_path, monkeypatch):
    monkeypatch.setenv("STATUSBOARD_DATABASE_URL", settings_of(app).database_url)
    monkeypatch.setenv("STATUSBOARD_SECRET_KEY", "x")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", ""])
    assert result.exit_code == 1 and "export refused" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_never_follows_a_symbolic_link_out_of_its_directory(
    app, session, operator, tmp_path, publishing_settings
):
    _open(session, operator, publishing_settings, "Broken")
    outside, target = tmp_path / "outside", tmp_path / "export"
    outside.mkdir()
    target.mkdir()
    os.symlink(outside, target / "incidents")
    with pytest.raises(ExportRefused, match="symbolic link"):
        export(app, target)
    assert list(outside.iterdir()) == []
    (target / "incidents").unlink()
    shutil.rmtree(target / "static", ignore_errors=True)  # written before the refusal
    os.symlink(outside / "stolen.css", target / "static")
    with pytest.raises(ExportRefused):
        export(app, target)
    assert list(outside.iterdir()) == []
    os.symlink(outside, tmp_path / "link")
    with pytest.raises(ExportRefused, match="symbolic link"):
        export(app, tmp_path / "link")
    assert list(outside.iterdir()) == []


def test_the_sweep_repairs_a_damaged_file_without_a_new_version(
    app, session, operator, tmp_path, publishing_settings
):
    incident = _open(session, operator, publishing_settings, "Old outage")
    exporter = Exporter(app, [DirectoryTarget(tmp_path)], full_every=timedelta(0))
    exporter.sync()
    page = tmp_path / f"incidents/{incident.public_id}.html"
    good = page.read_bytes()
    page.write_bytes(b"<html>damaged")
    (tmp_path / "feed.atom").unlink()
    for _ in range(10):  # the sweep goes over every surface again, a slice per round
        exporter.sync()
    exporter.close()
    assert page.read_bytes() == good
    assert (tmp_path / "feed.atom").exists()
