"""What a notice looks like in a subscriber's chat: Slack Block Kit, a Discord embed, a Teams
Adaptive Card — the status colour, impact, affected components, the update, the ETA and the
next-update time, and the link. Pure: built from a Notice, checked against each platform's
published limits, so no platform ever refuses a message for its size.

Limits (the platforms' own documentation): Slack — 50 blocks, 3,000 characters in a section's
text, 150 in a header, 10 fields of 2,000; Discord — 6,000 characters in all the embeds of a
message, title 256, description 4,096, 25 fields with names of 256 and values of 1,024, footer
2,048, content 2,000; Teams — a card of about 28 KB.
"""

from __future__ import annotations

from typing import Any

from statusboard.channels.base import Letter, Notice, message_of, revised, when

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_HEADER_TEXT = 150
SLACK_FIELD_TEXT = 2000
DISCORD_CONTENT = 2000
DISCORD_EMBED_TOTAL = 6000
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_FOOTER = 2048
TEAMS_TEXT = 12000  # well inside the card's ~28 KB, however the text escapes

# Colours by what the reader must feel: red for critical, orange major, yellow minor, blue
# maintenance, green once it is over, grey for no impact.
COLOURS = {
    "critical": 0xD93025,
    "major": 0xE8710A,
    "minor": 0xF2C200,
    "none": 0x7A8288,
    "maintenance": 0x1A73E8,
    "resolved": 0x1E8E3E,
}
# Adaptive Cards name colours instead of giving them.
TEAMS_COLOURS = {
    "critical": "attention",
    "major": "warning",
    "minor": "warning",
    "none": "default",
    "maintenance": "accent",
    "resolved": "good",
}


def fit_text(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis (the operators' room uses it too)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tone(notice: Notice) -> str:
    if notice.resolves:
        return "resolved"
    return notice.impact or "none"


def status_label(notice: Notice) -> str:
    return notice.status.replace("_", " ").capitalize()


def facts(notice: Notice) -> list[tuple[str, str]]:
    """The labelled facts of a notice, in reading order: status, impact, affected components,
    the ETA with its revisions and the next update (none of those once it is over)."""
    found = [("Status", status_label(notice))]
    if notice.impact is None:  # a test message or a notice without its facts
        return found
    if notice.impact != "maintenance":
        found.append(("Impact", notice.impact.capitalize()))
    if notice.components:
        found.append(("Affected", ", ".join(notice.components)))
    if notice.resolves or notice.impact == "maintenance":
        return found
    eta = when(notice.eta_at, notice.time_zone) if notice.eta_at else "Unknown for now"
    found.append(("Expected resolution", eta + revised(notice.eta_revisions)))
    if notice.next_update_at is not None:
        found.append(("Next update by", when(notice.next_update_at, notice.time_zone)))
    return found


def body_of(notice: Notice) -> str:
    """The words of the update: the operator's own for chat, or the update's text."""
    return (notice.custom_text or notice.text).strip()


def footer_of(notice: Notice, page_name: str) -> str:
    footer = page_name
    if notice.manage_url:
        footer += f" · Manage or leave this subscription: {notice.manage_url}"
    return footer


# --- Slack ----------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup: escaped, a user's text stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_notice(notice: Notice, page_name: str) -> dict[str, Any]:
    """Block Kit inside an attachment (the only way Slack shows a colour bar), with a plain
    `text` for notifications and screen readers."""
    headline = f"{notice.incident_name} — {status_label(notice)}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": fit_text(headline, SLACK_HEADER_TEXT)},
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": fit_text(f"*{label}*\n{slack_escape(value)}", SLACK_FIELD_TEXT),
                }
                for label, value in facts(notice)[:10]
            ],
        },
    ]
    body = body_of(notice)
    if body:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": fit_text(slack_escape(body), SLACK_SECTION_TEXT),
                },
            }
        )
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": fit_text(f"<{notice.url}|View on {slack_escape(page_name)}>", 3000),
            },
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": fit_text(slack_escape(footer_of(notice, page_name)), 3000),
                }
            ],
        }
    )
    return {
        "text": fit_text(f"{headline}: {notice.url}", SLACK_SECTION_TEXT),
        "attachments": [
            {"color": f"#{COLOURS[tone(notice)]:06x}", "blocks": blocks[:SLACK_MAX_BLOCKS]}
        ],
    }


def slack_letter(letter: Letter) -> dict[str, Any]:
    text = fit_text(f"*{slack_escape(letter.subject)}*\n{slack_escape(letter.text)}", 3000)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


# --- Discord --------------------------------------------------------------------------------


def discord_notice(notice: Notice, page_name: str) -> dict[str, Any]:
    """One embed with the facts as inline fields; no pings from anything a user typed."""
    title = fit_text(f"{notice.incident_name} — {status_label(notice)}", DISCORD_TITLE)
    footer = fit_text(footer_of(notice, page_name), DISCORD_FOOTER)
    fields: list[dict[str, Any]] = [
        {
            "name": fit_text(label, DISCORD_FIELD_NAME),
            "value": fit_text(value, DISCORD_FIELD_VALUE),
            "inline": label != "Affected",
        }
        for label, value in facts(notice)[:DISCORD_FIELDS]
    ]
    used = len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    room = min(DISCORD_DESCRIPTION, DISCORD_EMBED_TOTAL - used)
    embed: dict[str, Any] = {
        "title": title,
        "url": notice.url,
        "description": fit_text(body_of(notice), room),
        "color": COLOURS[tone(notice)],
        "fields": fields,
        "footer": {"text": footer},
        "timestamp": notice.created_at.isoformat().replace("+00:00", "Z"),
    }
    return {
        "username": fit_text(page_name, 80),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def discord_letter(letter: Letter) -> dict[str, Any]:
    return {
        "content": fit_text(f"**{letter.subject}**\n{letter.text}", DISCORD_CONTENT),
        "allowed_mentions": {"parse": []},
    }


# --- Microsoft Teams (workflow webhook) -----------------------------------------------------


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        content["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": content,
            }
        ],
    }


def teams_notice(notice: Notice, page_name: str) -> dict[str, Any]:
    """An Adaptive Card: the headline in the status colour, the facts as a FactSet, the
    update, and a button to the incident page."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": fit_text(f"{notice.incident_name} — {status_label(notice)}", 500),
            "weight": "Bolder",
            "size": "Medium",
            "color": TEAMS_COLOURS[tone(notice)],
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": label, "value": fit_text(value, 1000)} for label, value in facts(notice)
            ],
        },
    ]
    text = body_of(notice)
    if text:
        body.append({"type": "TextBlock", "text": fit_text(text, TEAMS_TEXT), "wrap": True})
    body.append(
        {
            "type": "TextBlock",
            "text": fit_text(footer_of(notice, page_name), 1000),
            "isSubtle": True,
            "size": "Small",
            "wrap": True,
        }
    )
    return _card(
        body, [{"type": "Action.OpenUrl", "title": f"View on {page_name}"[:100], "url": notice.url}]
    )


def teams_letter(letter: Letter) -> dict[str, Any]:
    return _card(
        [
            {
                "type": "TextBlock",
                "text": fit_text(letter.subject, 500),
                "weight": "Bolder",
                "wrap": True,
            },
            {"type": "TextBlock", "text": fit_text(letter.text, TEAMS_TEXT), "wrap": True},
        ],
        [],
    )


NOTICES = {"slack": slack_notice, "discord": discord_notice, "teams": teams_notice}
LETTERS = {"slack": slack_letter, "discord": discord_letter, "teams": teams_letter}


def preview_text(notice: Notice) -> str:
    """What a reader sees first, for the admin's preview."""
    return message_of(notice)
