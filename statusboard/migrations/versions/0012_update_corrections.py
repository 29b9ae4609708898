"""Corrections of posted updates: the original words are kept, the update says when it was
edited.

Revision ID: 0012_update_corrections
Revises: 0011_chat_subscribers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_update_corrections"
down_revision = "0011_chat_subscribers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident_update") as batch:
        batch.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "update_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["incident_update.id"],
            name=op.f("fk_update_correction_update_id_incident_update"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["corrected_by_id"],
            ["operator.id"],
            name=op.f("fk_update_correction_corrected_by_id_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_correction")),
    )
    with op.batch_alter_table("update_correction") as batch:
        batch.create_index(batch.f("ix_update_correction_update_id"), ["update_id"])


def downgrade() -> None:
    op.drop_table("update_correction")
    with op.batch_alter_table("incident_update") as batch:
        batch.drop_column("edited_at")
