"""exchanges: hash-sharing sources, their checkpoints, upstream ids, runs, errors, feedback and
the partners of the rempart feed

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_enc', sa.Text(), nullable=False),
    sa.Column('banks', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_partners')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_exchange_partners_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_exchange_partners_name'))
    )
    op.create_table('exchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('credential_ref', sa.String(length=1000), nullable=False),
    sa.Column('credential_enc', sa.Text(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('interval_seconds', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_exchanges_bank_id_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchanges')),
    sa.UniqueConstraint('name', name=op.f('uq_exchanges_name'))
    )
    op.create_table('exchange_checkpoints',
    sa.Column('exchange_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_checkpoints_exchange_id_exchanges')),
    sa.PrimaryKeyConstraint('exchange_id', name=op.f('pk_exchange_checkpoints'))
    )
    op.create_table('exchange_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('upstream_id', sa.String(length=200), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['bank_entries.id'], name=op.f('fk_exchange_entries_entry_id_bank_entries')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_entries_exchange_id_exchanges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_entries')),
    sa.UniqueConstraint('exchange_id', 'upstream_id', 'entry_id', name='uq_exchange_entries_exchange_upstream_entry')
    )
    with op.batch_alter_table('exchange_entries', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_entries_entry_id', ['entry_id'], unique=False)

    op.create_table('exchange_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('upstream_id', sa.String(length=200), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('opinion', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['bank_entries.id'], name=op.f('fk_exchange_feedback_entry_id_bank_entries')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_feedback_exchange_id_exchanges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_feedback')),
    sa.UniqueConstraint('key', name=op.f('uq_exchange_feedback_key'))
    )
    with op.batch_alter_table('exchange_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_feedback_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('exchange_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_runs_exchange_id_exchanges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_runs'))
    )
    with op.batch_alter_table('exchange_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_runs_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('exchange_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('upstream_id', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_errors_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['run_id'], ['exchange_runs.id'], name=op.f('fk_exchange_errors_run_id_exchange_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_errors'))
    )
    with op.batch_alter_table('exchange_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_errors_exchange_id'), ['exchange_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('exchange_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_errors_exchange_id'))

    op.drop_table('exchange_errors')
    with op.batch_alter_table('exchange_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_runs_exchange_id'))

    op.drop_table('exchange_runs')
    with op.batch_alter_table('exchange_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_feedback_exchange_id'))

    op.drop_table('exchange_feedback')
    with op.batch_alter_table('exchange_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_entries_entry_id')

    op.drop_table('exchange_entries')
    op.drop_table('exchange_checkpoints')
    op.drop_table('exchanges')
    op.drop_table('exchange_partners')
