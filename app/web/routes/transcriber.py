"""Transcriber pages: home (work on offer, earnings, exams), the work page, and earnings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.web.deps import (
    CsrfChecked,
    CurrentPerson,
    DatabaseDep,
    DbSession,
    SettingsDep,
    require_role,
)
from app.web.i18n import _
from app.web.labels import SKIP_REASONS
from app.web.security import flash
from app.web.templating import templates
from app.web.transcriber_view import person_standing
from crowdscribe.clock import utc_now
from crowdscribe.errors import ConventionError, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Clip
from crowdscribe.storage.states import AssignmentState, SubmissionStatus
from review.feedback import feedback_for
from transcribe.conventions import EVENT_TAGS
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sequences import NoWork
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.limits import MAX_TEXT_CHARS
from transcribe.offers import offers_for
from transcribe.own_work import held_assignment, recent_submissions
from transcribe.payouts import paid_entry_ids
from transcribe.users import Person

router = APIRouter(tags=["transcriber pages"], include_in_schema=False)
Transcriber = Annotated[Person, Depends(require_role("transcriber"))]

# Tags the palette offers, in the order people reach for them.
NO_WORK_KEY = "no_work"
PALETTE = ("noise", "breath", "laugh", "cough", "music", "unintelligible", "no-speech")


def _held_assignment(session: Session, person: Person, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.user_id != person.id:
        raise NotFound(_("You do not hold that clip; take the next one from the start page."))
    return assignment


@router.get("/")
def home(
    request: Request, person: CurrentPerson, session: DbSession, settings: SettingsDep
) -> Response:
    """The start page: languages, work on offer with its pay, earnings, exam standing."""
    if "transcriber" not in person.roles:
        target = "/review" if "reviewer" in person.roles else "/coordinator"
        return RedirectResponse(target, status_code=303)
    now = utc_now()
    standing = person_standing(session, settings, person, now)
    held = held_assignment(session, person.id, now)
    offers = offers_for(
        session,
        person.id,
        person.languages,
        standing.qualified,
        exam_clips=settings.exam_clips,
        now=now,
    )
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "standing": standing,
            "offers": offers,
            "exam_open": {offer.language: offer.exam_open for offer in offers},
            "held": held,
        },
    )


def _claim_and_go(
    request: Request, database: Database, settings: Settings, person: Person, language: str | None
) -> Response:
    claim = claim_next_clip(
        database,
        person.id,
        language=language or None,
        now=utc_now(),
        lease_s=settings.lease_s,
        gold_rate=settings.gold_rate,
    )
    if isinstance(claim, NoWork):
        # Redirect (not render) so reloading the page cannot post again and take a clip.
        expected = claim.next_expected_at.isoformat() if claim.next_expected_at else None
        request.session[NO_WORK_KEY] = {"message": claim.message, "next_expected_at": expected}
        return RedirectResponse("/no-work", status_code=303)
    return RedirectResponse(f"/work/{claim.assignment_id}", status_code=303)


@router.get("/no-work")
def no_work_page(request: Request, _person: Transcriber) -> Response:
    """The friendly page saying there is nothing to do, and when more is expected."""
    stored = request.session.pop(NO_WORK_KEY, None) or {}
    expected = stored.get("next_expected_at")
    no_work = NoWork(
        stored.get("message", _("There are no clips for you right now.")),
        datetime.fromisoformat(expected) if expected else None,
    )
    return templates.TemplateResponse(request, "no_work.html", {"no_work": no_work})


@router.post("/work/next", dependencies=[CsrfChecked])
def take_next(
    request: Request,
    person: Transcriber,
    database: DatabaseDep,
    settings: SettingsDep,
    language: Annotated[str, Form()] = "",
) -> Response:
    """Lease the next clip (in ``language`` if given) and open it, or say there is no work."""
    return _claim_and_go(request, database, settings, person, language)


def _render_work(
    request: Request,
    assignment: Assignment,
    clip: Clip,
    *,
    text: str = "",
    problems: list | None = None,
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "work.html",
        {
            "assignment": assignment,
            "clip": clip,
            "text": text,
            "problems": problems or [],
            "request_id": uuid.uuid4().hex,
            "palette": [tag for tag in PALETTE if tag in EVENT_TAGS],
            "skip_reasons": SKIP_REASONS,
        },
        status_code=status_code,
    )


@router.get("/work/{assignment_id}")
def work_page(
    request: Request, assignment_id: str, person: Transcriber, session: DbSession
) -> Response:
    """The clip being worked on: player, text box, conventions at hand."""
    assignment = _held_assignment(session, person, assignment_id)
    if assignment.state != AssignmentState.LEASED:
        flash(request, _("That clip is finished; here is what is on offer now."))
        return RedirectResponse("/", status_code=303)
    return _render_work(request, assignment, session.get(Clip, assignment.clip_id))


@router.post("/work/{assignment_id}/submit", dependencies=[CsrfChecked])
def submit_page(
    request: Request,
    assignment_id: str,
    person: Transcriber,
    session: DbSession,
    database: DatabaseDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
    request_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Submit the text and go straight to the next clip in the same language."""
    assignment = _held_assignment(session, person, assignment_id)
    clip = session.get(Clip, assignment.clip_id)
    try:
        receipt = submit_transcript(
            session, assignment_id, person.id, text, request_id or uuid.uuid4().hex, utc_now()
        )
    except ConventionError as error:
        session.rollback()
        return _render_work(
            request, assignment, clip, text=text, problems=error.problems, status_code=422
        )
    session.commit()
    if receipt.status == SubmissionStatus.LATE:
        flash(request, receipt.message)
    else:
        flash(request, _("Submitted. Here is the next clip."))
    return _claim_and_go(request, database, settings, person, clip.language)


@router.post("/work/{assignment_id}/skip", dependencies=[CsrfChecked])
def skip_page(
    request: Request,
    assignment_id: str,
    person: Transcriber,
    session: DbSession,
    database: DatabaseDep,
    settings: SettingsDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Give the clip back with a reason and open the next one."""
    assignment = _held_assignment(session, person, assignment_id)
    language = session.get(Clip, assignment.clip_id).language
    skip_assignment(session, assignment_id, person.id, reason, utc_now())
    session.commit()
    flash(request, _("Skipped. Thank you for saying why."))
    return _claim_and_go(request, database, settings, person, language)


@router.get("/earnings")
def earnings_page(
    request: Request, person: Transcriber, session: DbSession, settings: SettingsDep
) -> Response:
    """Today's, pending, credited and discounted earnings, paid and unpaid apart, and recent
    submissions (each marked once paid)."""
    standing = person_standing(session, settings, person, utc_now())
    rows = recent_submissions(session, person.id)
    paid_ids = paid_entry_ids(session, [entry.id for _s, _c, entry in rows if entry])
    return templates.TemplateResponse(
        request,
        "earnings.html",
        {
            "earnings": standing.earnings,
            "rows": rows,
            "feedback": feedback_for(session, person.id),
            "paid_ids": paid_ids,
        },
    )
