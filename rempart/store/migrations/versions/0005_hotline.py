"""hotline: organisations, notices, locations, fingerprints, idempotency, rate windows; the
organisation of analysts, reporter tokens and organisations' webhook endpoints

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: tables that gain an organisation (SQLite adds a foreign key only by copying the table: batch)
ORG_COLUMNS = ('console_users', 'api_tokens', 'mod_webhook_endpoints')


def upgrade() -> None:
    op.create_table('hotline_orgs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('suspended_at', sa.DateTime(), nullable=True),
    sa.Column('suspended_reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_orgs')),
    sa.UniqueConstraint('name', name=op.f('uq_hotline_orgs_name'))
    )
    op.create_table('hotline_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sa.String(length=200), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['hotline_orgs.id'], name=op.f('fk_hotline_batches_org_id_hotline_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_batches')),
    sa.UniqueConstraint('org_id', 'idem_key', name='uq_hotline_batches_org_key')
    )
    op.create_table('hotline_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source_kind', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('good_faith', sa.Boolean(), nullable=False),
    sa.Column('contact', sa.String(length=300), nullable=True),
    sa.Column('classification', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=True),
    sa.Column('outcome_leaf', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('banked', sa.Boolean(), nullable=False),
    sa.Column('referred', sa.Boolean(), nullable=False),
    sa.Column('receipt_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['hotline_batches.id'], name=op.f('fk_hotline_notices_batch_id_hotline_batches')),
    sa.ForeignKeyConstraint(['case_id'], ['mod_cases.id'], name=op.f('fk_hotline_notices_case_id_mod_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['hotline_orgs.id'], name=op.f('fk_hotline_notices_org_id_hotline_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_notices')),
    sa.UniqueConstraint('receipt_sha256', name=op.f('uq_hotline_notices_receipt_sha256'))
    )
    op.create_index(op.f('ix_hotline_notices_case_id'), 'hotline_notices', ['case_id'], unique=False)
    op.create_index(op.f('ix_hotline_notices_org_id'), 'hotline_notices', ['org_id'], unique=False)
    op.create_index(op.f('ix_hotline_notices_received_at'), 'hotline_notices', ['received_at'], unique=False)
    op.create_table('hotline_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=True),
    sa.Column('space', sa.String(length=200), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['scanned_items.id'], name=op.f('fk_hotline_locations_item_id_scanned_items')),
    sa.ForeignKeyConstraint(['notice_id'], ['hotline_notices.id'], name=op.f('fk_hotline_locations_notice_id_hotline_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_locations'))
    )
    op.create_index(op.f('ix_hotline_locations_notice_id'), 'hotline_locations', ['notice_id'], unique=False)
    op.create_table('hotline_hashes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('signal_type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('matched_items', sa.JSON(), nullable=False),
    sa.Column('entry_ids', sa.JSON(), nullable=False),
    sa.Column('retro_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['hotline_notices.id'], name=op.f('fk_hotline_hashes_notice_id_hotline_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_hashes'))
    )
    op.create_index(op.f('ix_hotline_hashes_notice_id'), 'hotline_hashes', ['notice_id'], unique=False)
    op.create_index(op.f('ix_hotline_hashes_value'), 'hotline_hashes', ['value'], unique=False)
    op.create_table('hotline_rate',
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_hotline_rate'))
    )
    op.create_table('hotline_challenges',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_hotline_challenges'))
    )
    for table in ORG_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_org_id'), ['org_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_org_id_hotline_orgs'),
                                        'hotline_orgs', ['org_id'], ['id'])


def downgrade() -> None:
    for table in reversed(ORG_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_org_id_hotline_orgs'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_org_id'))
            batch_op.drop_column('org_id')
    op.drop_table('hotline_challenges')
    op.drop_table('hotline_rate')
    op.drop_index(op.f('ix_hotline_hashes_value'), table_name='hotline_hashes')
    op.drop_index(op.f('ix_hotline_hashes_notice_id'), table_name='hotline_hashes')
    op.drop_table('hotline_hashes')
    op.drop_index(op.f('ix_hotline_locations_notice_id'), table_name='hotline_locations')
    op.drop_table('hotline_locations')
    op.drop_index(op.f('ix_hotline_notices_received_at'), table_name='hotline_notices')
    op.drop_index(op.f('ix_hotline_notices_org_id'), table_name='hotline_notices')
    op.drop_index(op.f('ix_hotline_notices_case_id'), table_name='hotline_notices')
    op.drop_table('hotline_notices')
    op.drop_table('hotline_batches')
    op.drop_table('hotline_orgs')
