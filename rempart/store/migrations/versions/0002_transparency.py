"""transparency log: head, leaves, stored hashes, reports, checkpoints, private openings

Revision ID: 0002
Revises: 0001
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "tlog_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlog_head")),
    )
    op.create_table(
        "tlog_leaves",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("appended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_tlog_leaves")),
    )
    with op.batch_alter_table("tlog_leaves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tlog_leaves_day"), ["day"], unique=False)
    op.create_table(
        "tlog_hashes",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_tlog_hashes")),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_tlog_checkpoints")),
    )
    op.create_table(
        "tlog_reports",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.Column("first", sa.BigInteger(), nullable=True),
        sa.Column("last", sa.BigInteger(), nullable=True),
        sa.Column("previous", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["leaf_index"], ["tlog_leaves.idx"],
                                name=op.f("fk_tlog_reports_leaf_index_tlog_leaves")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_tlog_reports")),
        sa.UniqueConstraint("leaf_index", name=op.f("uq_tlog_reports_leaf_index")),
    )
    op.create_table(
        "tlog_openings",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("ref_kind", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["leaf_index"], ["tlog_leaves.idx"],
                                name=op.f("fk_tlog_openings_leaf_index_tlog_leaves")),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_tlog_openings")),
    )
    with op.batch_alter_table("tlog_openings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tlog_openings_ref_id"), ["ref_id"], unique=False)
    # The one head row exists from the start, so appends only ever lock it, never create it.
    op.bulk_insert(head, [{"id": 1, "size": 0, "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])


def downgrade() -> None:
    with op.batch_alter_table("tlog_openings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tlog_openings_ref_id"))
    op.drop_table("tlog_openings")
    op.drop_table("tlog_reports")
    op.drop_table("tlog_checkpoints")
    op.drop_table("tlog_hashes")
    with op.batch_alter_table("tlog_leaves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tlog_leaves_day"))
    op.drop_table("tlog_leaves")
    op.drop_table("tlog_head")
