import threading

from statusboard.domain.statuses import Impact
from statusboard.export import ARGUMENTS, export, file_for
from statusboard.services import incidents
from statusboard.services.audit import Actor


def test_every_public_route_with_arguments_can_be_exported(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "is_snapshot", False) and rule.arguments - set(rule.defaults or {}):
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
