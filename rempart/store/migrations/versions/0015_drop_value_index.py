"""bank_entries: drop ix_bank_entries_signal_value, a second (type, value) index no query uses

Every lookup of a bank's entries by value names the bank, and the unique index
(bank_id, signal_type, value) answers it; the second index only slowed big imports (each new
entry went into both).

Revision ID: 0015
Revises: 0012
"""

from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_entries_signal_value")


def downgrade() -> None:
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.create_index("ix_bank_entries_signal_value", ["signal_type", "value"], unique=False)
