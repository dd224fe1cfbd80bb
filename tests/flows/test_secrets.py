"""No secret in what Prefect stores: flows find the database URL where they run."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.sorting import FlowRunSort
from sqlalchemy import func, select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, WorkItem
from flows import _runtime
from flows.agreement import agreement
from flows.collect import collect
from flows.dispatch import dispatch

pytestmark = pytest.mark.usefixtures("prefect_server")

SAMPLES_EN = Path(__file__).resolve().parents[2] / "samples" / "en"
PASSWORD = "pw-never-stored-7f3a"
SECRET_KEY = "key-never-stored-91c2"


def with_password(database: Database) -> str:
    """The test database's URL with a password (trust authentication accepts any)."""
    return database.url.replace("postgres@", f"postgres:{PASSWORD}@", 1)


def stored_runs(tag: str) -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])),
            sort=FlowRunSort.START_TIME_ASC,
        )


def test_no_flow_run_stores_the_database_password_or_the_secret_key(
    postgres_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import tags

    url = with_password(postgres_database)
    assert PASSWORD in url
    monkeypatch.setenv("CROWDSCRIBE_DATABASE_URL", url)
    monkeypatch.setenv("CROWDSCRIBE_SECRET_KEY", SECRET_KEY)
    home = str(tmp_path / "home")
    tag = f"secrets-{uuid.uuid4().hex}"  # a Prefect server may outlive one run (.ci/run)

    with tags(tag):
        collected = collect(
            paths=[str(SAMPLES_EN)], language="en", speaker_group="child", home=home
        )
        published = dispatch(project="default", overlap=2, home=home)
        agreement(home=home)
    assert published["published"] == collected["clips"] > 0
    with postgres_database.session() as session:
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 2 * collected["clips"]

    runs = stored_runs(tag)
    assert len(runs) == 3
    for run in runs:
        stored = json.dumps(run.parameters, default=str) + json.dumps(
            run.model_dump(mode="json"), default=str
        )
        assert run.parameters.get("home") == home
        assert PASSWORD not in stored
        assert SECRET_KEY not in stored


def test_the_database_url_can_come_from_a_prefect_secret_block(
    postgres_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = f"db-url-{uuid.uuid4().hex}"
    Secret(value=with_password(postgres_database)).save(block, overwrite=True)
    monkeypatch.delenv("CROWDSCRIBE_DATABASE_URL", raising=False)
    monkeypatch.setenv(_runtime.DATABASE_SECRET_ENV, block)
    home = str(tmp_path / "home")

    collected = collect(paths=[str(SAMPLES_EN)], language="en", speaker_group="child", home=home)

    assert collected["clips"] > 0
    with postgres_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Clip)) == collected["clips"]
    assert not (Path(home) / "crowdscribe.db").exists()
