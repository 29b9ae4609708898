"""A plain `pip install .` must give a working app: the wheel carries templates, static
files and migrations."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
# What a build never needs, and must never write into: the checkout stays as it was.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "instance",
    "build",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    "node_modules",
)


def test_wheel_ships_templates_static_files_and_migrations(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    before = sorted(p.name for p in ROOT.iterdir())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in ROOT.iterdir()) == before  # nothing built in the checkout
    [wheel] = tmp_path.glob("statusboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"statusboard/_templates/{p.relative_to(ROOT / 'templates')}"
        for p in (ROOT / "templates").rglob("*.html")
    }
    expected |= {
        f"statusboard/_static/{p.relative_to(ROOT / 'static')}"
        for p in (ROOT / "static").rglob("*")
        if p.suffix in {".css", ".js", ".svg"}
    }
    expected |= {
        f"statusboard/migrations/versions/{p.name}"
        for p in (ROOT / "statusboard/migrations/versions").glob("0*.py")
    }
    expected.add("statusboard/migrations/script.py.mako")
    assert expected - names == set()


def test_static_files_are_served_under_static(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    response.close()
