"""Subscribers who follow one incident ("subscribe to this incident").

Revision ID: 0009_incident_subscriptions
Revises: 0008_hardening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_incident_subscriptions"
down_revision = "0008_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriber_incident",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_subscriber_incident_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_subscriber_incident_subscriber_id_subscriber"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subscriber_id", "incident_id", name=op.f("pk_subscriber_incident")
        ),
    )


def downgrade() -> None:
    op.drop_table("subscriber_incident")
