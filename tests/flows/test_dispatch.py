"""The dispatch flow publishes collected clips as priced work in one Prefect run."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, WorkItem
from flows.dispatch import dispatch
from tests.builders import add_clips

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_dispatch_publishes_collected_clips_with_overlap_slots(
    settings: Settings, sqlite_database: Database
) -> None:
    with sqlite_database.session() as session:
        add_clips(session, 3, project="alpha")
        add_clips(session, 2, project="beta", language="yue")
    summary = dispatch(
        project="alpha",
        overlap=3,
        home=str(settings.home_dir),
    )
    assert (summary["published"], summary["slots"]) == (3, 9)
    assert summary["by_language"] == {"en": 3}
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 9
        statuses = dict(session.execute(select(Clip.project, Clip.status).distinct()).all())
    assert statuses == {"alpha": "published", "beta": "collected"}
    again = dispatch(home=str(settings.home_dir))
    assert (again["published"], again["slots"]) == (2, 4)


def test_dispatch_opens_the_configured_default_overlap(
    settings: Settings, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_database.session() as session:
        add_clips(session, 2, project="alpha")
    monkeypatch.setenv("CROWDSCRIBE_DEFAULT_OVERLAP", "3")
    summary = dispatch(home=str(settings.home_dir))
    assert (summary["published"], summary["slots"]) == (2, 6)
