"""Chat subscribers and imports: a subscriber's own time zone, and the record of what an
import brought in (Slack, Discord and Teams are new values of the VARCHAR subscriber kind).

Revision ID: 0011_chat_subscribers
Revises: 0010_alert_intake
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_chat_subscribers"
down_revision = "0010_alert_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.create_table(
        "imported_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=320), nullable=False),
        sa.Column("local_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_record")),
        sa.UniqueConstraint("source", "kind", "external_id", name="uq_imported_record_source"),
    )


def downgrade() -> None:
    op.drop_table("imported_record")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
