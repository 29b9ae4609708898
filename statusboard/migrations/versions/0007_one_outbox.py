"""One outbox for everything sent; the statuses open incidents claim for their components.

- delivery: a purpose (notice, reminder, nag, confirmation, alert, test); update and incident are
  optional (a confirmation has neither); a nag's deliveries point at it; nags, confirmations
  and alerts keep their subject and text; targets may be email addresses.
- nag: sending and retrying moved to its deliveries (attempts and retry_at go).
- incident_component: claimed_status, filled for open incidents from their latest change.
- incident: reminded_at (maintenance reminders go out once).

Revision ID: 0007_one_outbox
Revises: 0006_unfinished_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_one_outbox"
down_revision = "0006_unfinished_index"
branch_labels = None
depends_on = None

PURPOSE = sa.Enum(
    "notice",
    "reminder",
    "nag",
    "confirmation",
    "alert",
    name="purpose",
    native_enum=False,
    length=12,
)


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("purpose", PURPOSE, nullable=False, server_default="notice"))
        batch.add_column(sa.Column("nag_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.alter_column("update_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("incident_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column(
            "target", existing_type=sa.String(length=64), type_=sa.String(length=320)
        )
        batch.drop_constraint("uq_delivery_update_channel", type_="unique")
        batch.create_unique_constraint(
            "uq_delivery_update_channel", ["update_id", "channel", "target", "purpose"]
        )
        batch.create_foreign_key(
            "fk_delivery_nag_id_nag", "nag", ["nag_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_delivery_nag_id", ["nag_id"])
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("purpose", existing_type=PURPOSE, server_default=None)
    with op.batch_alter_table("nag") as batch:
        batch.drop_column("attempts")
        batch.drop_column("retry_at")
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("incident_component") as batch:
        batch.add_column(sa.Column("claimed_status", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE incident_component SET claimed_status = ("
        " SELECT cc.new_status FROM component_change cc"
        " JOIN incident_update u ON u.id = cc.update_id"
        " WHERE u.incident_id = incident_component.incident_id"
        " AND cc.component_id = incident_component.component_id"
        " ORDER BY cc.id DESC LIMIT 1)"
        " WHERE incident_id IN (SELECT id FROM incident WHERE resolved_at IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("incident_component") as batch:
        batch.drop_column("claimed_status")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("nag") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("DELETE FROM delivery WHERE purpose <> 'notice'")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_index("ix_delivery_nag_id")
        batch.drop_constraint("fk_delivery_nag_id_nag", type_="foreignkey")
        batch.drop_constraint("uq_delivery_update_channel", type_="unique")
        batch.create_unique_constraint(
            "uq_delivery_update_channel", ["update_id", "channel", "target"]
        )
        batch.drop_column("body")
        batch.drop_column("subject")
        batch.drop_column("nag_id")
        batch.drop_column("purpose")
