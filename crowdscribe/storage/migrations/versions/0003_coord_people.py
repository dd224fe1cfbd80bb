"""coordinator people and projects: projects as records, ledger adjustments, each recording's
median pitch, when a clip was last relabelled (people's display name and time zone, and ledger
entries without a submission, come with 0003_worker_i18n and 0003_worker_flow)

Projects already named by recordings or clips get a row each (overlap 2, the settings' card),
so nothing collected before becomes an unknown project. Ledger entries may now be adjustments:
corrections recorded as new entries with a reason and no submission.

Revision ID: 0003_coord_people
Revises: 0003_worker_flow
Create Date: 2026-12-02 19:40:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_coord_people"
down_revision = "0003_worker_flow"
branch_labels = None
depends_on = None


def _drop_columns(table: str, *columns: str) -> None:
    # SQLite drops a plain column in place (3.35+): batch mode would copy the table and drop
    # the old one, which fails while other tables' rows point at it (clips at recordings).
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.drop_column(column)


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("rates_file", sa.Text(), nullable=True),
        sa.Column("rate_overrides", sa.JSON(), nullable=True),
        sa.Column("policy_file", sa.Text(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("budget", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("budget_currency", sa.String(length=3), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("median_f0_hz", sa.Float(), nullable=True))
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relabelled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="accrual")
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
    _projects_already_used(projects)


def _projects_already_used(projects: sa.Table) -> None:
    bind = op.get_bind()
    names = {
        name
        for table in ("recordings", "clips")
        for (name,) in bind.execute(sa.text(f"SELECT DISTINCT project FROM {table}"))
    }
    now = datetime.now(UTC)
    if names:
        op.bulk_insert(
            projects,
            [
                {"name": name, "overlap": 2, "time_zone": "UTC", "created_at": now}
                for name in sorted(names)
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("kind")
    _drop_columns("clips", "relabelled_at")
    _drop_columns("recordings", "median_f0_hz")
    op.drop_table("projects")
