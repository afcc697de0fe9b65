"""witnesses: the log's witnesses, its quorum, and the cosignatures they returned

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tlog_witnesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vkey", sa.String(length=400), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlog_witnesses")),
        sa.UniqueConstraint("vkey", name=op.f("uq_tlog_witnesses_vkey")),
    )
    policy = op.create_table(
        "tlog_witness_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tlog_witness_policy")),
    )
    op.bulk_insert(policy, [{"id": 1, "quorum": None}])
    op.create_table(
        "tlog_cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line", sa.String(length=600), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["size"], ["tlog_checkpoints.size"],
                                name=op.f("fk_tlog_cosignatures_size_tlog_checkpoints")),
        sa.ForeignKeyConstraint(["witness_id"], ["tlog_witnesses.id"],
                                name=op.f("fk_tlog_cosignatures_witness_id_tlog_witnesses")),
        sa.PrimaryKeyConstraint("size", "witness_id", name=op.f("pk_tlog_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("tlog_cosignatures")
    op.drop_table("tlog_witness_policy")
    op.drop_table("tlog_witnesses")
