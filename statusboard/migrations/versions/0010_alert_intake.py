"""Alert intake: sources with their own tokens, mapping rules, received alerts, private
drafts; a nag may chase a draft instead of a promise; components may opt in to alert
automation.

Revision ID: 0010_alert_intake
Revises: 0009_incident_subscriptions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_alert_intake"
down_revision = "0009_incident_subscriptions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_source")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_source_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alert_source_public_id")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_alert_source_secret_hash")),
    )
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("impact", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_alert_rule_component_id_component"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alert_rule_public_id")),
    )
    op.create_index(op.f("ix_alert_rule_component_id"), "alert_rule", ["component_id"])
    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("impact", sa.String(length=32), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("first_alert_at", TS, nullable=False),
        sa.Column("last_alert_at", TS, nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("all_resolved_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_at", TS, nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["operator.id"], name=op.f("fk_draft_closed_by_id_operator")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_draft_incident_id_incident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["alert_source.id"],
            name=op.f("fk_draft_source_id_alert_source"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft")),
        sa.UniqueConstraint("public_id", name=op.f("uq_draft_public_id")),
    )
    op.create_index("ix_draft_state", "draft", ["state", "first_alert_at"])
    op.create_index(op.f("ix_draft_incident_id"), "draft", ["incident_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("fingerprint", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_alert_draft_id_draft"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["alert_source.id"],
            name=op.f("fk_alert_source_id_alert_source"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alert_public_id")),
    )
    op.create_index("ix_alert_fingerprint", "alert", ["fingerprint", "received_at"])
    op.create_index(op.f("ix_alert_source_id"), "alert", ["source_id"])
    op.create_index(op.f("ix_alert_received_at"), "alert", ["received_at"])
    op.create_index(op.f("ix_alert_draft_id"), "alert", ["draft_id"])
    with op.batch_alter_table("nag") as batch:
        batch.alter_column("promise_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_nag_draft_id_draft", "draft", ["draft_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_unique_constraint("uq_nag_draft_level", ["draft_id", "level"])
    with op.batch_alter_table("component") as batch:
        batch.add_column(
            sa.Column("alert_automation", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("component") as batch:
        batch.alter_column("alert_automation", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("component") as batch:
        batch.drop_column("alert_automation")
    op.execute("DELETE FROM nag WHERE promise_id IS NULL")
    with op.batch_alter_table("nag") as batch:
        batch.drop_constraint("uq_nag_draft_level", type_="unique")
        batch.drop_constraint("fk_nag_draft_id_draft", type_="foreignkey")
        batch.drop_column("draft_id")
        batch.alter_column("promise_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("alert")
    op.drop_table("draft")
    op.drop_table("alert_rule")
    op.drop_table("alert_source")
