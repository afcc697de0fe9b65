"""legal: agencies, officers, orders and their clock events, deliveries, emergency approvals
and callbacks, CyberTipline reports; holds on an account with an expiry; "do not inform" gags

Revision ID: 0010
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('legal_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('verified_by', sa.String(length=100), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_agencies')),
    sa.UniqueConstraint('name', name=op.f('uq_legal_agencies_name'))
    )
    op.create_table('mod_gags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mod_gags'))
    )
    with op.batch_alter_table('mod_gags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mod_gags_account'), ['account'], unique=False)

    op.create_table('legal_officers',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('key_revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['legal_agencies.id'], name=op.f('fk_legal_officers_agency_id_legal_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_legal_officers_user_id_console_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_legal_officers')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_legal_officers_key_sha256'))
    )
    with op.batch_alter_table('legal_officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_officers_agency_id'), ['agency_id'], unique=False)

    op.create_table('legal_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('clock_kind', sa.String(length=24), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('gag_lifted_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('leaf_index', sa.Integer(), nullable=True),
    sa.Column('revealed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['legal_agencies.id'], name=op.f('fk_legal_orders_agency_id_legal_agencies')),
    sa.ForeignKeyConstraint(['hold_id'], ['mod_holds.id'], name=op.f('fk_legal_orders_hold_id_mod_holds')),
    sa.ForeignKeyConstraint(['officer_id'], ['console_users.id'], name=op.f('fk_legal_orders_officer_id_console_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_orders')),
    sa.UniqueConstraint('agency_id', 'reference', name='uq_legal_orders_agency_reference')
    )
    with op.batch_alter_table('legal_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_orders_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_orders_received_at'), ['received_at'], unique=False)

    op.create_table('legal_tipline_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('report_id', sa.String(length=32), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('leaf_index', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['mod_cases.id'], name=op.f('fk_legal_tipline_reports_case_id_mod_cases')),
    sa.ForeignKeyConstraint(['hold_id'], ['mod_holds.id'], name=op.f('fk_legal_tipline_reports_hold_id_mod_holds')),
    sa.ForeignKeyConstraint(['referral_id'], ['mod_referrals.id'], name=op.f('fk_legal_tipline_reports_referral_id_mod_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_tipline_reports')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_legal_tipline_reports_referral_id'))
    )
    with op.batch_alter_table('legal_tipline_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_tipline_reports_case_id'), ['case_id'], unique=False)

    op.create_table('legal_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['legal_orders.id'], name=op.f('fk_legal_approvals_order_id_legal_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_legal_approvals_user_id_console_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_approvals')),
    sa.UniqueConstraint('order_id', 'user_id', name='uq_legal_approvals_person')
    )
    with op.batch_alter_table('legal_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_approvals_order_id'), ['order_id'], unique=False)

    op.create_table('legal_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['legal_orders.id'], name=op.f('fk_legal_callbacks_order_id_legal_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_legal_callbacks_user_id_console_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_callbacks'))
    )
    with op.batch_alter_table('legal_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_callbacks_order_id'), ['order_id'], unique=False)

    op.create_table('legal_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('manifest_digest', sa.String(length=80), nullable=False),
    sa.Column('previous_digest', sa.String(length=80), nullable=True),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['legal_orders.id'], name=op.f('fk_legal_deliveries_order_id_legal_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_deliveries')),
    sa.UniqueConstraint('order_id', 'number', name='uq_legal_deliveries_number')
    )
    with op.batch_alter_table('legal_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_deliveries_order_id'), ['order_id'], unique=False)

    op.create_table('legal_order_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['legal_orders.id'], name=op.f('fk_legal_order_events_order_id_legal_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_order_events')),
    sa.UniqueConstraint('order_id', 'seq', name='uq_legal_order_events_seq')
    )
    with op.batch_alter_table('legal_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_order_events_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('tlog_openings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('mod_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_mod_holds_account'), ['account'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tlog_openings', schema=None) as batch_op:
        batch_op.drop_column('published_at')

    with op.batch_alter_table('mod_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mod_holds_account'))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('expires_at')
        batch_op.drop_column('account')

    with op.batch_alter_table('legal_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_order_events_order_id'))

    op.drop_table('legal_order_events')
    with op.batch_alter_table('legal_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_deliveries_order_id'))

    op.drop_table('legal_deliveries')
    with op.batch_alter_table('legal_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_callbacks_order_id'))

    op.drop_table('legal_callbacks')
    with op.batch_alter_table('legal_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_approvals_order_id'))

    op.drop_table('legal_approvals')
    with op.batch_alter_table('legal_tipline_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_tipline_reports_case_id'))

    op.drop_table('legal_tipline_reports')
    with op.batch_alter_table('legal_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_orders_received_at'))
        batch_op.drop_index(batch_op.f('ix_legal_orders_agency_id'))

    op.drop_table('legal_orders')
    with op.batch_alter_table('legal_officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_officers_agency_id'))

    op.drop_table('legal_officers')
    with op.batch_alter_table('mod_gags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mod_gags_account'))

    op.drop_table('mod_gags')
    op.drop_table('legal_agencies')
