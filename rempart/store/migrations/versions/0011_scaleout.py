"""scaleout: scan requests (upload events of scale-out mode and asynchronous scans)

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["scanned_items.id"],
                                name=op.f("fk_scan_requests_item_id_scanned_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_requests")),
        sa.UniqueConstraint("item_id", name=op.f("uq_scan_requests_item_id")),
    )
    op.create_index("ix_scan_requests_status", "scan_requests", ["status", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_scan_requests_status", table_name="scan_requests")
    op.drop_table("scan_requests")
