"""Each rule of the dispatch queue, written once as a SQLAlchemy expression.

Every claim, submit, the offers (``transcribe.offers``) and the no-work answer are built from
these, for SQLite and PostgreSQL alike. Why they are shaped as they are: ``docs/dispatch.md``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    literal_column,
    or_,
    select,
    text,
)

from crowdscribe.storage.models import Assignment, Clip, Qualification, WorkItem
from crowdscribe.storage.states import AssignmentState, ClipStatus, SlotState
from transcribe.users import QUALIFIED

W = WorkItem.__table__
A = Assignment.__table__
C = Clip.__table__
Q = Qualification.__table__

# Written out, not bound, so the planners match the partial indexes (docs/dispatch.md#indexes).
OPEN = text(f"work_items.state = '{SlotState.OPEN}'")
LEASED = text(f"work_items.state = '{SlotState.LEASED}'")
# LIMIT 1 written out: PostgreSQL's generic plan stays good (docs/dispatch.md#generic-plan).
ONE = literal_column("1")

# The parameters the claim statements share.
USER = bindparam("p_user_id", type_=A.c.user_id.type)
NOW = bindparam("p_now", type_=W.c.lease_expires_at.type)
ASKED = bindparam("p_language", type_=Q.c.language.type)


def qualified_languages(user: Any = USER, asked: Any = ASKED) -> Select:
    """The languages a person may work in now: qualified (not paused), and the one asked for
    when ``asked`` is not NULL."""
    return select(Q.c.language).where(
        Q.c.user_id == user, Q.c.status == QUALIFIED, or_(asked.is_(None), Q.c.language == asked)
    )


def not_had(user: Any = USER, clip_id: ColumnElement = W.c.clip_id) -> ColumnElement[bool]:
    """Nobody gets the same clip twice: the person has no assignment for the clip."""
    # At most one row: assignments are unique by (user_id, clip_id).
    had = select(ONE).where(A.c.user_id == user, A.c.clip_id == clip_id).correlate_except(A)
    return had.scalar_subquery().is_(None)


def clip_published(clip_id: ColumnElement = W.c.clip_id) -> ColumnElement[bool]:
    """The slot's clip is still out for transcription: one that went to review (two people
    called the audio bad) keeps the slot some lease still holds, but nobody may take it."""
    status = select(C.c.status).where(C.c.id == clip_id).correlate_except(C).scalar_subquery()
    return status == literal_column(f"'{ClipStatus.PUBLISHED}'")


def lease_run_out(now: Any = NOW) -> ColumnElement[bool]:
    """A leased slot whose lease ran out: as good as open, whoever claims it next takes it."""
    return and_(LEASED, W.c.lease_expires_at < now)


def lease_running(now: Any = NOW) -> ColumnElement[bool]:
    """A leased slot its holder still has."""
    return and_(LEASED, W.c.lease_expires_at >= now)


def open_to(user: Any = USER) -> ColumnElement[bool]:
    """What every slot handed to ``user`` must be, besides open or run out."""
    return and_(not_had(user), clip_published())


def claimable(user: Any = USER, now: Any = NOW) -> ColumnElement[bool]:
    """A slot the person could claim now: open or run out, of a clip they never had, still
    published."""
    return and_(or_(OPEN, lease_run_out(now)), open_to(user))


def coming_back(user: Any = USER, now: Any = NOW) -> ColumnElement[bool]:
    """A slot held by someone else that the person could claim once its lease runs out."""
    return and_(lease_running(now), open_to(user))


def slot_held_by(item: Any, assignment: Any) -> ColumnElement[bool]:
    """The slot is still the assignment's: leased to it, not taken over by a later claim
    (even if the lease ran out)."""
    return and_(W.c.id == item, W.c.assignment_id == assignment, W.c.state == SlotState.LEASED)


# An assignment that can still be submitted; written out, as an IN list would be re-expanded on
# every execution.
SUBMITTABLE = text(
    f"assignments.state IN ('{AssignmentState.LEASED}', '{AssignmentState.EXPIRED}')"
)
