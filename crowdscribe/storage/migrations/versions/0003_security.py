"""access that can be taken away: per-person session version, failed sign-ins; request ids
unique per person, not across everyone

Revision ID: 0003_security
Revises: 0002
Create Date: 2026-12-02 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_security"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite's copy of 0001's unnamed unique constraint gets this name when batch mode reflects it.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _unique_request() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "submissions_request_id_key"
    return "uq_submissions_request_id"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key"])
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])
    with op.batch_alter_table("submissions", naming_convention=NAMING) as batch:
        batch.drop_constraint(_unique_request(), type_="unique")
        batch.create_unique_constraint("uq_submissions_user_request", ["user_id", "request_id"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_user_request", type_="unique")
        batch.create_unique_constraint(_unique_request(), ["request_id"])
    op.drop_index("ix_login_failures_failed_at", table_name="login_failures")
    op.drop_index("ix_login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
