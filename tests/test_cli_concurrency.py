"""`statusboard token revoke` succeeds while the API is writing as fast as it can (on SQLite
that once failed with "database is locked" after a few seconds, and the token kept working),
and the revoked token stops working at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from statusboard.config import settings_of
from statusboard.services import tokens
from statusboard.services.audit import Actor

WRITERS = 3
REVOKES = 3


def _revoke(app, token_id: str, tmp_path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STATUSBOARD_DATABASE_URL": settings_of(app).database_url,
        "STATUSBOARD_SECRET_KEY": "test-secret-key",
        "STATUSBOARD_INSTANCE_DIR": str(tmp_path),
        "STATUSBOARD_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
    }
    return subprocess.run(
        [sys.executable, "-m", "statusboard.cli", "token", "revoke", token_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_token_revoke_succeeds_during_concurrent_api_writes(app, session, admin, tmp_path):
    writer_secret = tokens.create_token(session, operator=admin, name="w", actor=Actor(None, "t"))[
        1
    ]
    doomed = [
        tokens.create_token(session, operator=admin, name=f"d{i}", actor=Actor(None, "t"))
        for i in range(REVOKES)
    ]
    session.commit()
    stop = threading.Event()
    answers: list[int] = []

    def write() -> None:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {writer_secret}"}
        n = 0
        while not stop.is_set():
            n += 1
            response = client.post(
                "/api/v1/components",
                data=json.dumps({"name": f"c{threading.get_ident()}-{n}"}),
                headers=headers,
                content_type="application/json",
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=write) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    try:
        results = [_revoke(app, token.public_id, tmp_path) for token, _ in doomed]
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert [r.returncode for r in results] == [0] * REVOKES, [r.stderr for r in results]
    assert len(answers) > 10 and set(answers) == {201}, sorted(set(answers))
    client = app.test_client()
    for _, secret in doomed:
        response = client.get("/api/v1/components", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401
