"""Database tables. One row type per domain record; money columns are exact decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crowdscribe.clock import utc_now
from crowdscribe.storage.states import (
    AppealState,
    AssignmentState,
    ClipStatus,
    DisputeState,
    LedgerKind,
    LedgerState,
    SlotState,
    SubmissionStatus,
)

MONEY = Numeric(14, 4)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Recording(Base):
    """One collected input file and what became of it (segmented, no_speech, rejected)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(Text, unique=True)
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # RecordingStatus
    reason: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(32))
    speaker_group: Mapped[str] = mapped_column(String(32))
    project: Mapped[str] = mapped_column(String(64), index=True)
    consent_ref: Mapped[str | None] = mapped_column(String(128))
    format: Mapped[str | None] = mapped_column(String(16))
    source_rate_hz: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    peak_dbfs: Mapped[float | None] = mapped_column(Float)
    clipping_ratio: Mapped[float | None] = mapped_column(Float)
    loudness_dbfs: Mapped[float | None] = mapped_column(Float)
    speech_ratio: Mapped[float | None] = mapped_column(Float)
    snr_db: Mapped[float | None] = mapped_column(Float)
    clip_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    # Median fundamental frequency of voiced speech (audio.pitch), for the speaker-group check.
    median_f0_hz: Mapped[float | None] = mapped_column(Float)


class Clip(Base):
    """A short stretch of one recording, cut in pauses, that one person transcribes at once."""

    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    audio_path: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(32), index=True)
    speaker_group: Mapped[str] = mapped_column(String(32))
    project: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=ClipStatus.COLLECTED)
    peaks: Mapped[list | None] = mapped_column(JSON)
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    overlap: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column()
    final_text: Mapped[str | None] = mapped_column(Text)
    agreement_error: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Last language or speaker-group correction: skips before it no longer count as stuck.
    relabelled_at: Mapped[datetime | None] = mapped_column()


class User(Base):
    """A person: coordinator, transcriber and/or reviewer, with the languages they work in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[str] = mapped_column(String(128))  # comma-separated
    languages: Mapped[str] = mapped_column(String(256), default="")  # comma-separated
    password_hash: Mapped[str | None] = mapped_column(String(256))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Raised to end every signed-in browser session of this person at once (logout, revocation).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Saved reading preferences: a locale (zh_Hans, zh_Hant, en) and an IANA time zone.
    locale: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Standing: the name shown on leaderboards, only when the person opts in.
    display_name: Mapped[str | None] = mapped_column(String(64))
    on_leaderboard: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Qualification(Base):
    """Whether a person may do paid work in a language: qualified, or paused with a reason."""

    __tablename__ = "qualifications"
    __table_args__ = (UniqueConstraint("user_id", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    language: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # QualificationStatus
    reason: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime] = mapped_column(default=utc_now)


class GoldClip(Base):
    """A clip with a coordinator's reference transcript, used in exams and mixed into work."""

    __tablename__ = "gold_clips"

    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), primary_key=True)
    reference_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ExamAttempt(Base):
    """One sitting of the qualification exam in one language."""

    __tablename__ = "exam_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    language: Mapped[str] = mapped_column(String(32))
    clip_ids: Mapped[list] = mapped_column(JSON)
    threshold: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column()
    error_rate: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)


class ExamAnswer(Base):
    __tablename__ = "exam_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "clip_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id"), index=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"))
    text: Mapped[str] = mapped_column(Text)
    error_rate: Mapped[float] = mapped_column(Float)


class WorkItem(Base):
    """One transcription slot of a published clip; a clip with overlap N has N slots."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("clip_id", "slot"),
        # The claim order over open slots only: a claim reads the first few entries instead of
        # sorting the whole queue.
        Index(
            "ix_work_items_open",
            "language",
            "claim_rank",
            "id",
            postgresql_where=text(f"state = '{SlotState.OPEN}'"),
            sqlite_where=text(f"state = '{SlotState.OPEN}'"),
        ),
        # Leases by expiry: the ones run out (usually none) without reading the ones held.
        Index(
            "ix_work_items_leased",
            "language",
            "lease_expires_at",
            postgresql_where=text(f"state = '{SlotState.LEASED}'"),
            sqlite_where=text(f"state = '{SlotState.LEASED}'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"))
    slot: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # -priority: claims go by priority desc then id asc, and one ascending index serves that.
    claim_rank: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=SlotState.OPEN)
    assignment_id: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Assignment(Base):
    """A person holding a work item under a lease; ends submitted, skipped or expired."""

    __tablename__ = "assignments"
    # Nobody gets a clip twice. The person first: every claim asks "has this person had this
    # clip?", and a person's assignments are read by this index too.
    __table_args__ = (UniqueConstraint("user_id", "clip_id", name="uq_assignments_user_clip"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None for a gold clip mixed into work: it fills no slot of the clip's overlap.
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default=AssignmentState.LEASED)
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    leased_at: Mapped[datetime] = mapped_column(default=utc_now)
    lease_expires_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class Submission(Base):
    """A transcript as the person typed it; ``counted`` ones fill a slot, ``late`` ones are kept."""

    __tablename__ = "submissions"
    # A request id is the person's own: two people choosing the same one never collide.
    __table_args__ = (
        UniqueConstraint("user_id", "request_id", name="uq_submissions_user_request"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), unique=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.COUNTED)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    error_vs_final: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class LedgerEntry(Base):
    """Money owed to a person for one submission: pending until agreement, then credited
    in full or discounted when review finds the work wrong. Corrections are new entries of kind
    ``adjustment`` (transcribe.ledger.record_adjustment), never edits of a decided entry."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # None for an adjustment: a correction recorded as a new entry, never an edit.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), unique=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default=LedgerState.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column()
    adjusts_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    kind: Mapped[str] = mapped_column(String(16), server_default=LedgerKind.ACCRUAL)
    reason: Mapped[str | None] = mapped_column(Text)


class Dispute(Base):
    """A clip whose transcripts disagree (or that two people called bad audio), for a reviewer."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # DisputeKind
    state: Mapped[str] = mapped_column(String(16), default=DisputeState.OPEN, index=True)
    agreement_error: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))  # DisputeResolution
    reason_code: Mapped[str | None] = mapped_column(String(32))
    final_text: Mapped[str | None] = mapped_column(Text)


class Appeal(Base):
    """A transcriber contesting the verdict on one of their transcripts, once, with a note; a
    reviewer upholds (the difference is credited as a ledger adjustment) or rejects it."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=AppealState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column()
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


class Team(Base):
    """People who work together under a leader; members join with the team's invite code."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class TeamMember(Base):
    """One person in one team (a person is in at most one); joining lets the leader see
    their accuracy and earnings."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utc_now)


class LoginFailure(Base):
    """One failed sign-in, under the name tried and under the address it came from: recent ones
    throttle further tries (``transcribe.access``)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)  # "name:…" or "address:…"
    failed_at: Mapped[datetime] = mapped_column(index=True)


class Payout(Base):
    """One payout batch in one currency: settled, unpaid ledger entries up to ``until_at``,
    written to a file for the payment run; its items say which entries it paid."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    until_at: Mapped[datetime] = mapped_column()
    total: Mapped[Decimal] = mapped_column(MONEY)
    entries: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    file_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PayoutItem(Base):
    """One ledger entry paid by a payout, at the amount it had then; an entry is paid once."""

    __tablename__ = "payout_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class Project(Base):
    """A campaign: the clips collected under its name, how they are worked and what it may cost."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    overlap: Mapped[int] = mapped_column(Integer, default=2)
    rates_file: Mapped[str | None] = mapped_column(Text)  # None: the settings' card
    # Rates that override the card for this project: [{"language", "speaker_group", "amount",
    # "minutes"}], amounts as strings (exact decimals).
    rate_overrides: Mapped[list | None] = mapped_column(JSON)
    policy_file: Mapped[str | None] = mapped_column(Text)  # agreement policy; None: default
    deadline: Mapped[datetime | None] = mapped_column()
    budget: Mapped[Decimal | None] = mapped_column(MONEY)
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Exported Chinese text in "simplified" or "traditional" characters; None: as typed.
    script: Mapped[str | None] = mapped_column(String(16))
