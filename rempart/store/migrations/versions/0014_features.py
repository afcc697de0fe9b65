"""features: banked pictures' ORB features (stage 2 matching) and what a features match does

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_features",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["bank_entries.id"],
                                name=op.f("fk_entry_features_entry_id_bank_entries")),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_entry_features")),
    )
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("feature_action", sa.String(length=16), nullable=False,
                                   server_default="review"))


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("feature_action")
    op.drop_table("entry_features")
