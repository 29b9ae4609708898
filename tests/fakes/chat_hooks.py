"""One local server standing in for the three chat platforms' incoming webhooks (statusboard
sends to it through STATUSBOARD_CHAT_HOOKS_BASE_URL, path and query kept), answering as they
do:

- Slack (`/services/T…/B…/…`): 200 `ok` as text/plain; 400 `invalid_payload` (not JSON),
  `no_text` (neither text nor blocks), `invalid_blocks` (over Block Kit's limits); a hook that
  is gone answers 404 `channel_not_found` or 403 `invalid_token`, text/plain too.
- Discord (`/api/webhooks/<id>/<token>`): 204 with no body, or with `?wait=true` 200 and the
  message object; a deleted hook answers 404 `{"message": "Unknown Webhook", "code": 10015}`;
  over the embed limits, 400 `{"message": "Invalid Form Body", "code": 50035, ...}`.
- Teams workflows (`/workflows/…/triggers/manual/paths/invoke`): 202 with no body; a deleted
  workflow answers 404 `{"error": {"code": "WorkflowNotFound", ...}}`.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.fakes.http import FakeServer, Seen

TEXT = {"Content-Type": "text/plain; charset=utf-8"}
SLACK_HOOK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopqrstuvwx"
DISCORD_HOOK = (
    "https://discord.com/api/webhooks/112233445566778899/"
    "Tok3n-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"
)
TEAMS_HOOK = (
    "https://prod-23.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef"
    "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
    "&sv=1.0&sig=abcDEF123"
)


def path_of(hook: str) -> str:
    after_host = hook.split("://", 1)[1]
    path = after_host[after_host.index("/") :]
    return path.split("?", 1)[0]


def slack_problem(body: Any) -> str | None:
    """What Slack would refuse in this payload (Block Kit's limits), or None."""
    if not isinstance(body, dict):
        return "invalid_payload"
    blocks = list(body.get("blocks") or [])
    for attachment in body.get("attachments") or []:
        blocks += attachment.get("blocks") or []
    if not body.get("text") and not blocks:
        return "no_text"
    if len(body.get("blocks") or []) > 50 or any(
        len(a.get("blocks") or []) > 50 for a in body.get("attachments") or []
    ):
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        limit = 150 if block.get("type") == "header" else 3000
        if len(text) > limit:
            return "invalid_blocks"
        fields = block.get("fields") or []
        if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
            return "invalid_blocks"
        if len(block.get("elements") or []) > 10:
            return "invalid_blocks"
    return None


def discord_problem(body: Any) -> dict[str, Any] | None:
    """Discord's answer to a payload over its limits, or None."""
    if not isinstance(body, dict):
        return {"message": "Cannot send an empty message", "code": 50006}
    embeds = body.get("embeds") or []
    if not body.get("content") and not embeds:
        return {"message": "Cannot send an empty message", "code": 50006}
    total = 0
    for embed in embeds:
        fields = embed.get("fields") or []
        sizes = [
            (len(embed.get("title", "")), 256),
            (len(embed.get("description", "")), 4096),
            (len((embed.get("footer") or {}).get("text", "")), 2048),
            (len(fields), 25),
        ]
        sizes += [(len(f["name"]), 256) for f in fields] + [(len(f["value"]), 1024) for f in fields]
        if any(size > limit for size, limit in sizes):
            return {"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {}}}
        total += sum(size for size, _ in sizes[:3]) + sum(
            len(f["name"]) + len(f["value"]) for f in fields
        )
    if total > 6000 or len(body.get("content") or "") > 2000:
        return {"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {}}}
    return None


class FakeChatHooks(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.gone: dict[str, str] = {}  # path -> how the platform says it is gone
        self.ids = itertools.count(1300000000000000000)

    def received(self, platform: str) -> list[Seen]:
        prefix = {"slack": "/services/", "discord": "/api/webhooks/", "teams": "/workflows/"}
        return [r for r in self.requests if r.path.startswith(prefix[platform])]

    def forget(self, hook: str, how: str = "") -> None:
        """The hook was deleted on its platform (Slack: `how` is the error text)."""
        self.gone[path_of(hook)] = how

    def handle(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        try:
            body = json.loads(seen.body)
        except ValueError:
            body = None
        if seen.path.startswith("/services/"):
            return self._slack(seen, body)
        if seen.path.startswith("/api/webhooks/"):
            return self._discord(seen, body)
        if seen.path.startswith("/workflows/"):
            return self._teams(seen, body)
        return 404, b"", TEXT

    def _slack(self, seen: Seen, body: Any) -> tuple[int, Any, dict[str, str]]:
        if seen.path in self.gone:
            how = self.gone[seen.path] or "channel_not_found"
            return (403 if how == "invalid_token" else 404), how.encode(), TEXT
        problem = slack_problem(body)
        if problem:
            return 400, problem.encode(), TEXT
        return 200, b"ok", TEXT

    def _discord(self, seen: Seen, body: Any) -> tuple[int, Any, dict[str, str]]:
        if seen.path in self.gone:
            return 404, {"message": "Unknown Webhook", "code": 10015}, {}
        problem = discord_problem(body)
        if problem:
            return 400, problem, {}
        if seen.query.get("wait") == ["true"]:
            return (
                200,
                {"id": str(next(self.ids)), "type": 0, "content": body.get("content", "")},
                {},
            )
        return 204, b"", {}

    def _teams(self, seen: Seen, body: Any) -> tuple[int, Any, dict[str, str]]:
        if seen.path in self.gone:
            return (
                404,
                {"error": {"code": "WorkflowNotFound", "message": "The workflow was not found."}},
                {},
            )
        if not isinstance(body, dict) or not body.get("attachments"):
            return 400, {"error": {"code": "InvalidRequestContent", "message": "bad"}}, {}
        return 202, b"", {}
