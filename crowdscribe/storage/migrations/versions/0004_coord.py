"""one shape for ledger adjustments: kind 'adjustment', the accrual adjusted, and a reason

Upheld appeals used to store their credit as kind 'accrual' with adjusts_entry_id and no reason;
relabel corrections as kind 'adjustment' with a reason but no adjusts_entry_id. Both become
kind 'adjustment' naming the accrual they adjust, with a reason. No column changes and no
amount, state or date changes: only how existing corrections are described.

Revision ID: 0004_coord
Revises: 0003_coord_money
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_coord"
down_revision = "0003_coord_money"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # Appeal credits: they named their accrual already; say what they are and why.
    bind.execute(
        sa.text(
            "UPDATE ledger_entries SET kind = 'adjustment', reason = COALESCE(reason, 'appeal '"
            " || COALESCE((SELECT CAST(MIN(appeals.id) AS VARCHAR) FROM appeals"
            " WHERE appeals.adjustment_id = ledger_entries.id), '?') || ' upheld')"
            " WHERE adjusts_entry_id IS NOT NULL"
        )
    )
    # Relabel corrections: name the person's accrual for the clip, one in the same state first
    # (a person transcribes a clip once, so there is one).
    for same_state in (" AND accrual.state = ledger_entries.state", ""):
        bind.execute(
            sa.text(
                "UPDATE ledger_entries SET adjusts_entry_id = (SELECT MIN(accrual.id)"
                " FROM ledger_entries AS accrual WHERE accrual.kind = 'accrual'"
                " AND accrual.submission_id IS NOT NULL"
                " AND accrual.user_id = ledger_entries.user_id"
                " AND accrual.clip_id = ledger_entries.clip_id" + same_state + ")"
                " WHERE kind = 'adjustment' AND adjusts_entry_id IS NULL"
            )
        )
    bind.execute(
        sa.text(
            "UPDATE ledger_entries SET reason = 'correction' WHERE kind = 'adjustment'"
            " AND (reason IS NULL OR reason = '')"
        )
    )


def downgrade() -> None:
    # The 0003 code reads the unified rows as they are (it counts accruals by kind and sums
    # every entry of a clip), so nothing needs undoing; amounts were never touched.
    pass
