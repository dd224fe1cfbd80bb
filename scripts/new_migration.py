"""Autogenerate an Alembic revision from the models: python scripts/new_migration.py MESSAGE REV_ID."""
import sys
from alembic import command
from alembic.config import Config
from crowdscribe.storage.db import MIGRATIONS_DIR, make_engine
engine = make_engine("sqlite:////tmp/mig.db")
cfg = Config(); cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
with engine.begin() as conn:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
    command.revision(cfg, message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])
