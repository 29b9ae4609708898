from pathlib import Path

from statusboard.config import PREFIX, SETTINGS

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_documents_every_setting():
    missing = [PREFIX + s.name for s in SETTINGS if f"`{PREFIX}{s.name}`" not in README]
    assert missing == []


def test_readme_starts_with_the_two_commands():
    assert README.index("make run") < README.index("## Configuration")
    assert "make test" in README
