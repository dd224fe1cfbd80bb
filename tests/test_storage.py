"""The schema comes only from migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Base, Recording
from crowdscribe.storage.states import (
    AssignmentState,
    ClipStatus,
    DisputeKind,
    DisputeResolution,
    DisputeState,
    LedgerKind,
    LedgerState,
    QualificationStatus,
    RecordingStatus,
    SlotState,
    SubmissionStatus,
)


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def test_states_keep_the_stored_values() -> None:
    # Rows already written hold these strings; renaming a member must not change its value.
    assert {
        states.__name__: [str(state) for state in states]
        for states in (
            RecordingStatus,
            ClipStatus,
            QualificationStatus,
            SlotState,
            AssignmentState,
            SubmissionStatus,
            LedgerState,
            LedgerKind,
            DisputeKind,
            DisputeState,
            DisputeResolution,
        )
    } == {
        "RecordingStatus": ["segmented", "held", "no_speech", "rejected"],
        "ClipStatus": [
            "collected",
            "held",
            "published",
            "agreed",
            "disputed",
            "resolved",
            "unusable",
            "stuck",
        ],
        "QualificationStatus": ["qualified", "paused"],
        "SlotState": ["open", "leased", "done", "withdrawn"],
        "AssignmentState": ["leased", "submitted", "skipped", "expired"],
        "SubmissionStatus": ["counted", "late"],
        "LedgerState": ["pending", "credited", "discounted"],
        "LedgerKind": ["accrual", "adjustment"],
        "DisputeKind": ["disagreement", "bad_audio"],
        "DisputeState": ["open", "resolved"],
        "DisputeResolution": ["accepted", "edited", "unusable"],
    }


def test_a_state_reads_back_as_the_plain_string(database: Database) -> None:
    with database.session() as session:
        session.add(
            Recording(
                source="a.wav",
                source_path="/a.wav",
                status=RecordingStatus.REJECTED,
                language="en",
                speaker_group="adult",
                project="p",
            )
        )
        session.commit()
        stored = session.scalar(select(Recording.status))
    assert stored == "rejected" and type(stored) is str
