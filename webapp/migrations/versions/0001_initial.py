"""Initial schema: organisations, accounts, login sessions, children, monthly reports.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 13:14:18.007540
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('centres',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('support_centre', 'guidance_centre', name='centrekind', native_enum=False, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centres')),
    sa.UniqueConstraint('code', name=op.f('uq_centres_code'))
    )
    op.create_table('facilities',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('facility_type', sa.Enum('elementary', 'junior_high', 'nursery', 'kindergarten', 'certified', 'after_school', 'other', name='facilitytype', native_enum=False, length=20), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_facilities_centre_id_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities')),
    sa.UniqueConstraint('code', name=op.f('uq_facilities_code'))
    )
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facilities_centre_id'), ['centre_id'], unique=False)

    op.create_table('accounts',
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'caseworker', 'facility', 'auditor', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'caseworker' AND centre_id IS NOT NULL AND facility_id IS NULL) OR (role = 'facility' AND facility_id IS NOT NULL AND centre_id IS NULL) OR (role IN ('admin', 'auditor') AND centre_id IS NULL AND facility_id IS NULL)", name=op.f('ck_accounts_organisation_matches_role')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_accounts_centre_id_centres')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_accounts_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('login', name=op.f('uq_accounts_login'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_facility_id'), ['facility_id'], unique=False)

    op.create_table('children',
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('family_name', sa.String(length=50), nullable=False),
    sa.Column('given_name', sa.String(length=50), nullable=False),
    sa.Column('family_name_kana', sa.String(length=50), nullable=False),
    sa.Column('given_name_kana', sa.String(length=50), nullable=False),
    sa.Column('grade', sa.Enum('age0', 'age1', 'age2', 'age3', 'age4', 'age5', 'es1', 'es2', 'es3', 'es4', 'es5', 'es6', 'jh1', 'jh2', 'jh3', 'hs1', 'hs2', 'hs3', 'other', name='grade', native_enum=False, length=10), nullable=False),
    sa.Column('class_name', sa.String(length=30), nullable=True),
    sa.Column('monitoring_start', sa.Date(), nullable=False),
    sa.Column('monitoring_end', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('monitoring_end IS NULL OR monitoring_end >= monitoring_start', name=op.f('ck_children_monitoring_period_ordered')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_children_centre_id_centres')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_children_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_facility_id'), ['facility_id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_login_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_sessions_token_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('monthly_reports',
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'acknowledged', name='reportstatus', native_enum=False, length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['accounts.id'], name=op.f('fk_monthly_reports_acknowledged_by_id_accounts')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_monthly_reports_child_id_children')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_monthly_reports_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_reports')),
    sa.UniqueConstraint('child_id', 'period', name=op.f('uq_monthly_reports_child_id_period'))
    )
    with op.batch_alter_table('monthly_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_reports_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_reports_period'), ['period'], unique=False)

    op.create_table('monthly_report_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('days_expected', sa.Integer(), nullable=False),
    sa.Column('days_attended', sa.Integer(), nullable=False),
    sa.Column('days_absent', sa.Integer(), nullable=False),
    sa.Column('late_count', sa.Integer(), nullable=False),
    sa.Column('early_leave_count', sa.Integer(), nullable=False),
    sa.Column('absent_illness', sa.Integer(), nullable=False),
    sa.Column('absent_family', sa.Integer(), nullable=False),
    sa.Column('absent_bereavement', sa.Integer(), nullable=False),
    sa.Column('absent_suspension', sa.Integer(), nullable=False),
    sa.Column('absent_unknown', sa.Integer(), nullable=False),
    sa.Column('absent_other', sa.Integer(), nullable=False),
    sa.Column('absence_note', sa.String(length=200), nullable=True),
    sa.Column('family_contact', sa.Enum('yes', 'no', 'partial', name='familycontact', native_enum=False, length=10), nullable=True),
    sa.Column('condition', sa.Text(), nullable=True),
    sa.Column('nothing_special', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('days_expected >= 0 AND days_attended >= 0 AND days_absent >= 0 AND late_count >= 0 AND early_leave_count >= 0', name=op.f('ck_monthly_report_versions_counts_not_negative')),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_monthly_report_versions_author_id_accounts')),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_reports.id'], name=op.f('fk_monthly_report_versions_report_id_monthly_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report_versions')),
    sa.UniqueConstraint('report_id', 'number', name=op.f('uq_monthly_report_versions_report_id_number'))
    )
    with op.batch_alter_table('monthly_report_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_versions_report_id'), ['report_id'], unique=False)

    op.create_table('report_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('saved', 'submitted', 'returned', 'acknowledged', name='reportaction', native_enum=False, length=20), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_report_events_account_id_accounts')),
    sa.ForeignKeyConstraint(['report_id'], ['monthly_reports.id'], name=op.f('fk_report_events_report_id_monthly_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_events'))
    )
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_events_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_events_report_id'))

    op.drop_table('report_events')
    with op.batch_alter_table('monthly_report_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_report_versions_report_id'))

    op.drop_table('monthly_report_versions')
    with op.batch_alter_table('monthly_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_reports_period'))
        batch_op.drop_index(batch_op.f('ix_monthly_reports_facility_id'))

    op.drop_table('monthly_reports')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_account_id'))

    op.drop_table('login_sessions')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_facility_id'))
        batch_op.drop_index(batch_op.f('ix_children_centre_id'))

    op.drop_table('children')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_facility_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_centre_id'))

    op.drop_table('accounts')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facilities_centre_id'))

    op.drop_table('facilities')
    op.drop_table('centres')
