"""foundation

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-24 08:28:57.899737
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "operational",
                "degraded_performance",
                "partial_outage",
                "major_outage",
                "under_maintenance",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("showcase", sa.Boolean(), nullable=False),
        sa.Column("only_show_if_degraded", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["component.id"], name=op.f("fk_component_group_id_component")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component")),
        sa.UniqueConstraint("public_id", name=op.f("uq_component_public_id")),
    )
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_component_group_id"), ["group_id"], unique=False)

    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "operator", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.Column("sign_updates", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_email")),
    )
    op.create_table(
        "page_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_state")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["operator.id"], name=op.f("fk_audit_event_actor_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("incident", "maintenance", name="incidentkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "impact",
            sa.Enum(
                "none", "minor", "major", "critical", name="impact", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("monitoring_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eta_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["operator.id"], name=op.f("fk_incident_owner_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("public_id", name=op.f("uq_incident_public_id")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_next_update_at"), ["next_update_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_started_at"), ["started_at"], unique=False)
        batch_op.create_index("ix_incident_status_started", ["status", "started_at"], unique=False)

    op.create_table(
        "incident_component",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_incident_component_component_id_component"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_component_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "component_id", name=op.f("pk_incident_component")),
    )
    op.create_table(
        "incident_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("eta_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("signed_by", sa.String(length=120), nullable=True),
        sa.Column("deliver_notifications", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("display_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["operator.id"], name=op.f("fk_incident_update_author_id_operator")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_update_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_update")),
        sa.UniqueConstraint("public_id", name=op.f("uq_incident_update_public_id")),
    )
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_update_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "component_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column(
            "old_status",
            sa.Enum(
                "operational",
                "degraded_performance",
                "partial_outage",
                "major_outage",
                "under_maintenance",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "new_status",
            sa.Enum(
                "operational",
                "degraded_performance",
                "partial_outage",
                "major_outage",
                "under_maintenance",
                name="componentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_component_change_component_id_component"),
        ),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["incident_update.id"],
            name=op.f("fk_component_change_update_id_incident_update"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_change")),
    )
    with op.batch_alter_table("component_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_component_change_update_id"), ["update_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("component_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_change_update_id"))

    op.drop_table("component_change")
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_update_incident_id"))

    op.drop_table("incident_update")
    op.drop_table("incident_component")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_status_started")
        batch_op.drop_index(batch_op.f("ix_incident_started_at"))
        batch_op.drop_index(batch_op.f("ix_incident_next_update_at"))

    op.drop_table("incident")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    op.drop_table("page_state")
    op.drop_table("operator")
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_group_id"))

    op.drop_table("component")
