"""appeals, ledger adjustments, leaderboard opt-in and teams

Appeals contest a verdict once; an upheld one is credited as a new ledger entry that adjusts the
discounted one (so ledger_entries.submission_id may be empty). People opt in to leaderboards
with a display name; teams have a leader and an invite code.

Revision ID: 0003_worker_flow
Revises: 0003_worker_i18n (re-chained at merge; written against 0002)
Create Date: 2026-12-02 19:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_worker_flow"
down_revision = "0003_worker_i18n"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("on_leaderboard", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("adjusts_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_ledger_entries_adjusts_entry_id", "ledger_entries", ["adjusts_entry_id"], ["id"]
        )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adjustment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["adjustment_id"], ["ledger_entries.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_appeals_state", "appeals", ["state"])
    op.create_index("ix_appeals_user_id", "appeals", ["user_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("invite_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["leader_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_code"),
        sa.UniqueConstraint("leader_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_index("ix_team_members_team_id", "team_members", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_team_members_team_id", table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index("ix_appeals_user_id", table_name="appeals")
    op.drop_index("ix_appeals_state", table_name="appeals")
    op.drop_table("appeals")
    # Adjustment entries have no submission; they go before the column is required again.
    op.execute("DELETE FROM ledger_entries WHERE submission_id IS NULL")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ledger_entries_adjusts_entry_id", type_="foreignkey")
        batch_op.drop_column("adjusts_entry_id")
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("on_leaderboard")
        batch_op.drop_column("display_name")
