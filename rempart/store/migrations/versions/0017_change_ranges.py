"""bank changes: a range of entries (a bulk import records one change for all its new entries)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_changes") as batch:
        batch.add_column(sa.Column("ref_to", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_changes") as batch:
        batch.drop_column("ref_to")
