"""exactly once: login throttle, reveal budget, one open appeal per decision, log leaf events

Revision ID: 0004
Revises: 0003, 0002 (it changes 0002's tlog_leaves, so it also joins the two branches: one head)
Create Date: 2026-12-04 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = ('0003', '0002')
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def _refuse_duplicate_open_appeals() -> None:
    """Two open appeals of one decision (possible before this revision) cannot be merged by a
    migration: a person has to decide which one stands."""
    dup = op.get_bind().execute(sa.text(
        "SELECT decision_id FROM mod_appeals WHERE status = 'open' "
        "GROUP BY decision_id HAVING COUNT(*) > 1")).scalars().all()
    if dup:
        raise RuntimeError(f"decisions {sorted(dup)} have more than one open appeal: decide all "
                           "but one of each (mod_appeals) before upgrading")


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttle'))
    )
    op.create_table('mod_reveal_budget',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], name=op.f('fk_mod_reveal_budget_user_id_console_users')),
    sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_mod_reveal_budget'))
    )
    _refuse_duplicate_open_appeals()
    # Adding a nullable column and an index needs no table copy, even on SQLite.
    op.create_index('uq_mod_appeals_open', 'mod_appeals', ['decision_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.add_column('tlog_leaves', sa.Column('event', sa.String(length=100), nullable=True))
    op.create_index('uq_tlog_leaves_event', 'tlog_leaves', ['event'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_tlog_leaves_event', table_name='tlog_leaves')
    with op.batch_alter_table('tlog_leaves', schema=None) as batch_op:
        batch_op.drop_column('event')
    op.drop_index('uq_mod_appeals_open', table_name='mod_appeals')
    op.drop_table('mod_reveal_budget')
    op.drop_table('login_throttle')
