"""The states of the stored rows, as the text their columns hold (``models``): kept apart from
the models so that domain code can name a state without importing SQLAlchemy and every model
(audio's collect chain would hold 20 MiB more for one enum)."""

from __future__ import annotations

from enum import StrEnum


class RecordingStatus(StrEnum):
    SEGMENTED = "segmented"
    # Segmented, but its clips wait for a coordinator (heavy clipping) before paid work.
    HELD = "held"
    NO_SPEECH = "no_speech"
    REJECTED = "rejected"


class ClipStatus(StrEnum):
    """collected -> published -> agreed | disputed -> resolved | unusable (held: collected from a
    recording a coordinator must release first; stuck: skipped out of the queue, for the
    coordinator to relabel or drop)"""

    COLLECTED = "collected"
    HELD = "held"
    PUBLISHED = "published"
    AGREED = "agreed"
    DISPUTED = "disputed"
    RESOLVED = "resolved"
    UNUSABLE = "unusable"
    STUCK = "stuck"


class QualificationStatus(StrEnum):
    QUALIFIED = "qualified"
    PAUSED = "paused"


class SlotState(StrEnum):
    """One of a clip's overlap slots: open to claim, leased to someone, or done (withdrawn while
    its clip is stuck)."""

    OPEN = "open"
    LEASED = "leased"
    DONE = "done"
    WITHDRAWN = "withdrawn"


class AssignmentState(StrEnum):
    LEASED = "leased"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class SubmissionStatus(StrEnum):
    """Counted toward agreement and pay, or late (the lease had run out; kept, not counted)."""

    COUNTED = "counted"
    LATE = "late"


class LedgerState(StrEnum):
    PENDING = "pending"
    CREDITED = "credited"
    DISCOUNTED = "discounted"


class LedgerKind(StrEnum):
    """What made an entry: a counted submission (``accrual``), or a correction of that work
    (``adjustment``: after a relabel, or an upheld appeal), which names the accrual it adjusts
    (``adjusts_entry_id``) and why (``reason``)."""

    ACCRUAL = "accrual"
    ADJUSTMENT = "adjustment"


class DisputeKind(StrEnum):
    DISAGREEMENT = "disagreement"
    BAD_AUDIO = "bad_audio"


class DisputeState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeResolution(StrEnum):
    ACCEPTED = "accepted"
    EDITED = "edited"
    UNUSABLE = "unusable"


class AppealState(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"
