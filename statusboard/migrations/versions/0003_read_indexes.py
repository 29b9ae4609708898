"""Indexes for the public read queries: newest updates and recently changed incidents.

Revision ID: 0003_read_indexes
Revises: 0002_api_tokens
"""

from __future__ import annotations

from alembic import op

revision = "0003_read_indexes"
down_revision = "0002_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_updated_at", "incident", ["updated_at"])
    op.create_index("ix_incident_update_created_id", "incident_update", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_incident_update_created_id", table_name="incident_update")
    op.drop_index("ix_incident_updated_at", table_name="incident")
