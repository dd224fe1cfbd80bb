"""claim indexes: open slots in claim order, leases by expiry, a person's clips

One index over open and leased slots made every claim step past each slot people held at the
moment; the open index leaves them out, and run-out leases are found by expiry. Assignments are
unique by (user_id, clip_id) instead of (clip_id, user_id): "has this person had this clip?",
asked by every claim, is one probe of it, and it serves a person's assignments, so the index on
user_id alone goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = sa.text("state IN ('open', 'leased')")
OPEN = sa.text("state = 'open'")
LEASED = sa.text("state = 'leased'")
# SQLite's copy of 0001's unnamed unique constraint gets this name when batch mode reflects it.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _unique_clip_user() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "assignments_clip_id_user_id_key"
    return "uq_assignments_clip_id_user_id"


def upgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_claim")
        batch_op.drop_index("ix_work_items_pending", postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index(
            "ix_work_items_open",
            ["language", "claim_rank", "id"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )
        batch_op.create_index(
            "ix_work_items_leased",
            ["language", "lease_expires_at"],
            unique=False,
            postgresql_where=LEASED,
            sqlite_where=LEASED,
        )
    with op.batch_alter_table("assignments", schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_unique_clip_user(), type_="unique")
        batch_op.drop_index("ix_assignments_user_id")
        batch_op.create_unique_constraint("uq_assignments_user_clip", ["user_id", "clip_id"])


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_assignments_user_clip", type_="unique")
        batch_op.create_index("ix_assignments_user_id", ["user_id"], unique=False)
        batch_op.create_unique_constraint(_unique_clip_user(), ["clip_id", "user_id"])
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_leased", postgresql_where=LEASED, sqlite_where=LEASED)
        batch_op.drop_index("ix_work_items_open", postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index(
            "ix_work_items_pending",
            ["language", "claim_rank", "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.create_index(
            "ix_work_items_claim", ["language", "state", "priority", "id"], unique=False
        )
