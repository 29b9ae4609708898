"""Sessions that can be ended, login failures shared by every process, the worker's
heartbeat, and stored text
repaired: NUL, control characters and noncharacters removed, Unicode NFC (domain/text.py).

Revision ID: 0008_hardening
Revises: 0007_one_outbox
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008_hardening"
down_revision = "0007_one_outbox"
branch_labels = None
depends_on = None

# The rule of statusboard.domain.text at the time of this migration, copied so that later
# changes to it never change what this migration did.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_FORBIDDEN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")

# (table, key, one-line text columns, multi-line text columns)
TEXT_COLUMNS = [
    ("incident", "id", ["name"], []),
    ("incident_update", "id", ["signed_by"], ["body", "html"]),
    ("delivery", "id", [], ["custom_text"]),
    ("component", "id", ["name", "description"], []),
    ("operator", "id", ["name"], []),
    ("api_token", "id", ["name"], []),
]


def _repair(value: str | None, one_line: bool) -> str | None:
    if value is None:
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        text = " ".join(text.replace("\t", " ").split("\n"))
    text = (_FORBIDDEN_ONE_LINE if one_line else _FORBIDDEN).sub("", text)
    return unicodedata.normalize("NFC", text)


def _repair_table(table: str, key: str, one_line: list[str], multi_line: list[str]) -> None:
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    present = {c["name"] for c in inspector.get_columns(table)}
    columns = [c for c in one_line + multi_line if c in present]
    if not columns:
        return
    rows = sa.table(table, sa.column(key), *(sa.column(c) for c in columns))
    for row in connection.execute(sa.select(rows)).mappings():
        changes = {}
        for column in columns:
            repaired = _repair(row[column], column in one_line)
            if repaired != row[column]:
                changes[column] = repaired
        if changes:
            connection.execute(sa.update(rows).where(rows.c[key] == row[key]).values(**changes))


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index(op.f("ix_login_failure_client"), "login_failure", ["client"])
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeat")),
    )
    for table, key, one_line, multi_line in TEXT_COLUMNS:
        _repair_table(table, key, one_line, multi_line)


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
    op.drop_index(op.f("ix_login_failure_client"), table_name="login_failure")
    op.drop_table("login_failure")
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("session_generation")
