"""Autogenerate an Alembic revision from the models: python scripts/new_migration.py MESSAGE REV_ID.

Before the first release the schema is one revision; regenerate it with
``rm crowdscribe/storage/migrations/versions/0001_*.py && python scripts/new_migration.py "initial schema" 0001``.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from crowdscribe.storage.db import MIGRATIONS_DIR, make_engine

with tempfile.TemporaryDirectory() as scratch:
    engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        command.revision(config, message=sys.argv[1], autogenerate=True, rev_id=sys.argv[2])
