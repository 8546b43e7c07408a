"""account security: server-side sessions, expiring API tokens, an append-only security audit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens issued before this migration had no end; they get the default lifetime from now rather than from their
# creation, so no script breaks on the day of the upgrade.
EXISTING_TOKEN_GRACE = "interval '90 days'"


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('secret_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(32), nullable=True),
        sa.Column('client_address', sa.String(64), nullable=True),
        sa.Column('user_agent', sa.String(200), nullable=True),
    )
    op.create_index('ix_user_sessions_user_id', 'user_sessions', ['user_id'])
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE api_tokens SET expires_at = now() + {EXISTING_TOKEN_GRACE}")
    op.alter_column('api_tokens', 'expires_at', nullable=False)
    op.create_table(
        'security_audit',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('event', sa.String(32), nullable=False),
        # as typed at sign-in, so failures against unknown names are kept too; no foreign key
        sa.Column('username', sa.String(80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(120), nullable=False),
        sa.Column('client_address', sa.String(64), nullable=True),
        sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    )
    op.create_index('ix_security_audit_username_id', 'security_audit', ['username', 'id'])
    # reject_append_only_change() comes from migration 0004
    op.execute("CREATE TRIGGER security_audit_append_only BEFORE UPDATE OR DELETE ON security_audit "
               "FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()")
    op.execute("CREATE TRIGGER security_audit_no_truncate BEFORE TRUNCATE ON security_audit "
               "FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS security_audit_no_truncate ON security_audit")
    op.execute("DROP TRIGGER IF EXISTS security_audit_append_only ON security_audit")
    op.drop_index('ix_security_audit_username_id', table_name='security_audit')
    op.drop_table('security_audit')
    op.drop_column('api_tokens', 'expires_at')
    op.drop_index('ix_user_sessions_user_id', table_name='user_sessions')
    op.drop_table('user_sessions')
