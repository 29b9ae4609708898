import os
import threading

import pytest
from click.testing import CliRunner

from statusboard.cli import main
from statusboard.config import settings_of
from statusboard.domain.statuses import Impact
from statusboard.export import ARGUMENTS, ExportRefused, export, file_for
from statusboard.services import incidents
from statusboard.services.audit import Actor
from statusboard.web.surfaces import RENDERERS


def test_every_public_route_with_arguments_can_be_exported(app):
    surfaces = [rule for rule in app.url_map.iter_rules() if rule.endpoint in RENDERERS]
    assert len(surfaces) > 20
    for rule in surfaces:
        if rule.arguments - set(rule.defaults or {}):
            assert rule.endpoint in ARGUMENTS, rule.rule


def test_export_writes_every_public_surface_as_the_app_serves_it(
    app, client, session, operator, tmp_path, publishing_settings
):
    incident = incidents.open_incident(
        session,
        name="Broken login",
        impact=Impact.MAJOR,
        body="Looking.",
        actor=Actor(operator, "test"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    result = export(app, tmp_path)
    assert result is not None and result.files >= 3
    assert (tmp_path / "index.html").read_bytes() == client.get("/").get_data()
    page = tmp_path / f"incidents/{incident.public_id}.html"
    assert b"Broken login" in page.read_bytes()
    assert (tmp_path / "history.html").exists()
    assert (tmp_path / "static/style.css").exists()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_incremental_export_skips_an_unchanged_version(app, tmp_path):
    assert export(app, tmp_path) is not None
    assert export(app, tmp_path, full=False) is None


def test_files_are_replaced_atomically_never_seen_half_written(
    app, session, operator, tmp_path, publishing_settings
):
    export(app, tmp_path)
    index = tmp_path / "index.html"
    seen: list[bytes] = []
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.append(index.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for number in range(5):
            incidents.open_incident(
                session,
                name=f"Incident {number}",
                impact=Impact.MINOR,
                body="x" * 5000,
                actor=Actor(operator, "test"),
                publishing_settings=publishing_settings,
            )
            session.commit()
            export(app, tmp_path, full=False)
    finally:
        stop.set()
        reader.join()
    assert all(b.rstrip().endswith(b"</html>") for b in seen)
    assert len(seen) > 10


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
    incidents.open_incident(
        session,
        name="Broken",
        impact=Impact.MINOR,
        body="Looking.",
        actor=Actor(operator, "t"),
        publishing_settings=publishing_settings,
    )
    session.commit()
    outside, target = tmp_path / "outside", tmp_path / "export"
    outside.mkdir()
    target.mkdir()
    os.symlink(outside, target / "incidents")
    with pytest.raises(ExportRefused, match="symbolic link"):
        export(app, target)
    assert list(outside.iterdir()) == []
    (target / "incidents").unlink()
    os.symlink(outside / "stolen.css", target / "static")
    with pytest.raises(ExportRefused):
        export(app, target)
    assert list(outside.iterdir()) == []
