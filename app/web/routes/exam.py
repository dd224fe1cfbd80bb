"""Exam pages: transcribe a few gold clips, then see each answer aligned against the reference."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.web.deps import CsrfChecked, DbSession, SettingsDep, require_role
from app.web.edge import RowId
from app.web.security import flash
from app.web.templating import templates
from crowdscribe.clock import utc_now
from crowdscribe.errors import ConventionError
from crowdscribe.storage.models import Clip, ExamAttempt
from review.exam import (
    answer_exam,
    exam_paper,
    exam_result,
    finish_exam,
    hide_reference,
    start_exam,
)
from transcribe.conventions import EVENT_TAGS
from transcribe.limits import MAX_TEXT_CHARS
from transcribe.users import Person

router = APIRouter(tags=["exam pages"], include_in_schema=False)
Transcriber = Annotated[Person, Depends(require_role("transcriber"))]
PALETTE = ("noise", "breath", "laugh", "cough", "music", "unintelligible", "no-speech")


@router.post("/exam/{language}/start", dependencies=[CsrfChecked])
def start(
    language: str, person: Transcriber, session: DbSession, settings: SettingsDep
) -> Response:
    """Open the exam in a language (or go back to the one already open)."""
    paper = start_exam(session, person.id, language, settings=settings, now=utc_now())
    return RedirectResponse(f"/exam/{paper.attempt_id}", status_code=303)


def _render_paper(
    request: Request,
    session: Session,
    person: Person,
    attempt_id: int,
    clip_id: str | None = None,
    *,
    text: str = "",
    problems: list | None = None,
    status_code: int = 200,
) -> Response:
    paper = exam_paper(session, person.id, attempt_id)
    open_clips = [clip for clip in paper.clips if not clip.answered]
    current = next((clip for clip in paper.clips if clip.clip_id == clip_id), None)
    if current is None and open_clips:
        current = open_clips[0]
    return templates.TemplateResponse(
        request,
        "exam.html",
        {
            "paper": paper,
            "current": current,
            "number": paper.clips.index(current) + 1 if current else None,
            "peaks": session.get(Clip, current.clip_id).peaks if current else None,
            "answered": len(paper.clips) - len(open_clips),
            "text": text,
            "problems": problems or [],
            "palette": [tag for tag in PALETTE if tag in EVENT_TAGS],
        },
        status_code=status_code,
    )


@router.get("/exam/{attempt_id}")
def paper_page(
    request: Request,
    attempt_id: RowId,
    person: Transcriber,
    session: DbSession,
    clip: str | None = None,
) -> Response:
    """The next unanswered exam clip, or the button to finish once all are answered."""
    exam_paper(session, person.id, attempt_id)  # refuses anyone else's exam
    if session.get(ExamAttempt, attempt_id).finished_at is not None:
        return RedirectResponse(f"/exam/{attempt_id}/result", status_code=303)
    return _render_paper(request, session, person, attempt_id, clip)


@router.post("/exam/{attempt_id}/answer", dependencies=[CsrfChecked])
def answer(
    request: Request,
    attempt_id: RowId,
    person: Transcriber,
    session: DbSession,
    clip_id: Annotated[str, Form(max_length=64)],
    text: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
) -> Response:
    """Store one answer and show the next clip; a convention slip keeps the text on the page."""
    try:
        answer_exam(session, person.id, attempt_id, clip_id, text)
    except ConventionError as error:
        session.rollback()
        return _render_paper(
            request,
            session,
            person,
            attempt_id,
            clip_id,
            text=text,
            problems=error.problems,
            status_code=422,
        )
    return RedirectResponse(f"/exam/{attempt_id}", status_code=303)


@router.post("/exam/{attempt_id}/finish", dependencies=[CsrfChecked])
def finish(
    request: Request,
    attempt_id: RowId,
    person: Transcriber,
    session: DbSession,
    settings: SettingsDep,
) -> Response:
    """Score the exam; a pass qualifies the person at once."""
    result = finish_exam(session, person.id, attempt_id, utc_now(), settings.exam_cooldown_s)
    flash(request, "Passed: you can take paid work now." if result.passed else "Not passed yet.")
    return RedirectResponse(f"/exam/{attempt_id}/result", status_code=303)


@router.get("/exam/{attempt_id}/result")
def result_page(
    request: Request,
    attempt_id: RowId,
    person: Transcriber,
    session: DbSession,
    settings: SettingsDep,
) -> Response:
    """Each answer word by word: which words were wrong, extra or missing, never the reference
    itself (the gold clips serve other exams and quality checks)."""
    result = exam_result(session, person.id, attempt_id, settings.exam_cooldown_s)
    answers = [
        {"answer": answer, "chunks": hide_reference(answer.alignment.to_dict()["chunks"])}
        for answer in result.answers
    ]
    return templates.TemplateResponse(
        request, "exam_result.html", {"result": result, "answers": answers}
    )
