"""people's reading preferences: locale and time zone

Pages speak the person's saved language (zh_Hans, zh_Hant, en) and show times in their saved
IANA zone; both are empty until the person (or their browser) chooses.

Revision ID: 0003_worker_i18n
Revises: 0003_security
Create Date: 2026-12-02 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_worker_i18n"
down_revision = "0003_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
        batch_op.drop_column("locale")
