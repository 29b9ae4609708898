"""The surfaces a write renders once it committed (snapshots.HOT: the page, the JSON and the
feeds a surge reads first), kept in the database with the version they show
(page_state.published), so that one rendering serves every process and host: measured with
benchmarks/surge.py, every web process rendered each new version itself, and in a storm of
10 writers readers spent most of the CPU rendering.

Revision ID: 0016_rendered_surfaces
Revises: 0015_change_times
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_rendered_surfaces"
down_revision = "0015_change_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered_surface",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("etag", sa.String(length=100), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_rendered_surface")),
    )
    with op.batch_alter_table("page_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("page_state", schema=None) as batch_op:
        batch_op.drop_column("published")
    op.drop_table("rendered_surface")
