"""The login limit holds across real server processes: two `statusboard run --no-worker`
servers on one database, failed logins spread over both, and the limit applies to their sum
(it was per process: two processes allowed twice the configured tries). Successful logins do
not count, and a correct password is let in even while the address is limited."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess

import requests

from tests.conftest import PASSWORD
from tests.test_server import _serve

LIMIT = 4


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class Browser:
    """A browser at one server: fetches the login form (and its CSRF token) for each try."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def login(self, email: str, password: str) -> requests.Response:
        with requests.Session() as browser:
            form = browser.get(f"{self.base}/login", timeout=30).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
            assert token is not None
            return browser.post(
                f"{self.base}/login",
                data={"email": email, "password": password, "csrf_token": token.group(1)},
                allow_redirects=False,
                timeout=30,
            )


def test_failed_logins_spread_over_two_server_processes_share_one_limit(
    database_url, tmp_path, admin
):
    env = {
        **os.environ,
        "STATUSBOARD_DATABASE_URL": database_url,
        "STATUSBOARD_SECRET_KEY": "two-processes",
        "STATUSBOARD_INSTANCE_DIR": str(tmp_path),
        "STATUSBOARD_WEB_WORKERS": "1",
        "STATUSBOARD_ACCESS_LOG": "false",
        "STATUSBOARD_LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
    }
    ports = _free_ports(2)
    servers = []
    try:
        for name, port in zip(("one", "two"), ports, strict=True):
            servers.append(_serve({**env, "STATUSBOARD_SNAPSHOT_DIR": str(tmp_path / name)}, port))
        one, two = (Browser(port) for port in ports)

        def code(browser: Browser, password: str) -> int:
            return browser.login(admin.email, password).status_code

        # Good logins in between do not count: three failures, three successes, all answered.
        mixed = [
            code(browser, password)
            for browser, password in [
                (one, PASSWORD),
                (one, "wrong one"),
                (two, PASSWORD),
                (two, "wrong two"),
                (one, PASSWORD),
                (two, "wrong three"),
            ]
        ]
        assert mixed == [302, 400, 302, 400, 302, 400]
        # The fourth failure reaches the limit, wherever it lands; then both refuse.
        assert code(one, "wrong four") == 400
        refused = one.login(admin.email, "wrong five")
        assert refused.status_code == 429
        assert "Too many failed logins" in refused.text
        assert code(two, "wrong six") == 429
        # While limited, the right password still gets in, at either server.
        assert code(two, PASSWORD) == 302
        assert code(one, PASSWORD) == 302
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
