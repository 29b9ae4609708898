"""The version check: many threads at once, each seeing the committed version, and again
after the engine was disposed of."""

from __future__ import annotations

import threading

from statusboard.db import database
from statusboard.services import page
from statusboard.web.versions import VersionReader


def test_threads_reading_at_once_see_the_version_and_again_after_a_dispose(app, session):
    page.bump_version(session)
    session.commit()
    expected = page.current_version(session)[0]
    reader = VersionReader(database(app).engine)
    seen: list[int] = []

    def read_many() -> None:
        seen.extend(reader.read().version for _ in range(50))

    threads = [threading.Thread(target=read_many) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [expected] * 16 * 50
    database(app).engine.dispose()
    page.bump_version(session)
    session.commit()
    assert reader.read().version == expected + 1
