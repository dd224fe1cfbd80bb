"""Feedback and appeals, pages and JSON: a transcriber's discounted work with its reasons and
their appeals; the reviewers' queue of open appeals and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from app.web.deps import CsrfChecked, DbSession, require_role
from app.web.edge import INT4_MAX, RowId
from app.web.i18n import _
from app.web.security import flash
from app.web.templating import templates
from crowdscribe.clock import utc_now
from crowdscribe.errors import Refusal
from review.appeals import (
    MAX_COMMENT_CHARS,
    MAX_NOTE_CHARS,
    appeal_queue,
    decide_appeal,
    file_appeal,
)
from review.feedback import feedback_for
from transcribe.limits import MAX_TEXT_CHARS
from transcribe.users import Person

router = APIRouter(tags=["feedback and appeals"])
Transcriber = Annotated[Person, Depends(require_role("transcriber"))]
Reviewer = Annotated[Person, Depends(require_role("reviewer"))]


class AppealRequest(BaseModel):
    submission_id: int = Field(ge=1, le=INT4_MAX)
    note: str = Field(max_length=MAX_NOTE_CHARS)


class DecisionRequest(BaseModel):
    uphold: bool
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)


@router.get("/api/v1/feedback")
def my_feedback(person: Transcriber, session: DbSession) -> list[dict]:
    """My discounted transcripts: reason, word-by-word diff against the final text, appeal."""
    return [item.to_dict() for item in feedback_for(session, person.id)]


@router.post("/api/v1/appeals", status_code=201)
def appeal(payload: AppealRequest, person: Transcriber, session: DbSession) -> dict:
    """Appeal the verdict on one of my discounted transcripts (once), with a note."""
    filed = file_appeal(session, person.id, payload.submission_id, payload.note, utc_now())
    return {"id": filed.id, "submission_id": filed.submission_id, "state": filed.state}


@router.get("/api/v1/appeals")
def open_appeals(_reviewer: Reviewer, session: DbSession) -> list[dict]:
    """Open appeals, oldest first, with both texts and the diff."""
    return [case.to_dict() for case in appeal_queue(session)]


@router.post("/api/v1/appeals/{appeal_id}/decision")
def decide(
    appeal_id: RowId, payload: DecisionRequest, reviewer: Reviewer, session: DbSession
) -> dict:
    """Uphold (credit the difference) or reject an appeal, with a comment the author reads."""
    decided = decide_appeal(
        session,
        appeal_id,
        reviewer.id,
        uphold=payload.uphold,
        comment=payload.comment,
        now=utc_now(),
    )
    return {"id": decided.id, "state": decided.state, "adjustment_id": decided.adjustment_id}


@router.post("/earnings/appeals", dependencies=[CsrfChecked], include_in_schema=False)
def appeal_page(
    request: Request,
    person: Transcriber,
    session: DbSession,
    submission_id: Annotated[int, Form(ge=1, le=INT4_MAX)],
    note: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
) -> Response:
    """The appeal form on the earnings page."""
    try:
        file_appeal(session, person.id, submission_id, note, utc_now())
    except Refusal as refusal:
        session.rollback()
        flash(request, refusal.message)
    else:
        session.commit()
        flash(request, _("Appeal sent. A reviewer will look at it; the answer shows here."))
    return RedirectResponse(f"/earnings#feedback-{submission_id}", status_code=303)


@router.get("/review/appeals", include_in_schema=False)
def appeals_page(request: Request, _reviewer: Reviewer, session: DbSession) -> Response:
    """The reviewers' queue of open appeals."""
    return templates.TemplateResponse(
        request, "appeals_queue.html", {"cases": appeal_queue(session)}
    )


@router.post("/review/appeals/{appeal_id}", dependencies=[CsrfChecked], include_in_schema=False)
def decide_page(
    request: Request,
    appeal_id: RowId,
    reviewer: Reviewer,
    session: DbSession,
    decision: Annotated[str, Form(max_length=16)],
    comment: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
) -> Response:
    """Uphold or reject from the queue page, then back to the queue."""
    try:
        decide_appeal(
            session,
            appeal_id,
            reviewer.id,
            uphold=decision == "uphold",
            comment=comment,
            now=utc_now(),
        )
    except Refusal as refusal:
        session.rollback()
        flash(request, refusal.message)
    else:
        session.commit()
        flash(request, _("Decided. The transcriber sees your decision and comment."))
    return RedirectResponse("/review/appeals", status_code=303)
