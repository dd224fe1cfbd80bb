"""coord-money: payouts and the ledger entries each paid; each project's export script

A payout batch records which settled entries it paid (payout_items, one row per entry, unique),
so entries are never edited and an entry can be paid only once. projects.script is the script
of the project's exported Chinese text (simplified or traditional; NULL: as typed).

Revision ID: 0003_coord_money
Revises: 0003_coord_people
Create Date: 2026-12-02 19:21:31.277695
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_coord_money"
down_revision = "0003_coord_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("until_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payout_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.ForeignKeyConstraint(["ledger_entry_id"], ["ledger_entries.id"]),
        sa.ForeignKeyConstraint(["payout_id"], ["payouts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ledger_entry_id"),
    )
    with op.batch_alter_table("payout_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_items_payout_id"), ["payout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_items_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("script", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("script")
    with op.batch_alter_table("payout_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_items_user_id"))
        batch_op.drop_index(batch_op.f("ix_payout_items_payout_id"))

    op.drop_table("payout_items")
    op.drop_table("payouts")
