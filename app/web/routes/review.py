"""Reviewer pages and API: the dispute queue, one dispute side by side, resolving it; and every
transcriber's own accuracy page (``/me/accuracy``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.web.clip_audio import clip_audio_response
from app.web.deps import CsrfChecked, CurrentPerson, DbSession, SettingsDep, require_role
from app.web.edge import INT4_MAX, RowId
from app.web.i18n import N_, _
from app.web.security import flash
from app.web.templating import templates
from crowdscribe.clip_store import clip_location
from crowdscribe.clock import utc_now
from crowdscribe.errors import ConventionError, InvalidInput, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage.models import Clip, Dispute
from crowdscribe.storage.states import DisputeResolution, DisputeState
from review.accuracy import accuracy_by_language, enforce_accuracy_bar, worst_recent_clips
from review.disputes import (
    UNUSABLE_REASONS,
    Resolution,
    dispute_detail,
    dispute_queue,
    disputed_clip_audio,
    open_dispute_facets,
    resolve_dispute,
)
from review.feedback import word_diff
from review.project_policies import policy_book
from transcribe.limits import MAX_TEXT_CHARS
from transcribe.pricing import load_rate_card
from transcribe.users import Person

router = APIRouter(tags=["review"])
MAX_AGE_S = 100 * 365 * 86400.0
Reviewer = Annotated[Person, Depends(require_role("reviewer"))]

AGE_CHOICES = {
    "": N_("any age"),
    "3600": N_("over 1 hour"),
    "86400": N_("over 1 day"),
    "604800": N_("over 1 week"),
}
VERBATIM_KIND_LABELS = {  # review.agreement.VERBATIM_KINDS
    "filler": N_("filler"),
    "repetition": N_("repetition"),
    "cut_off": N_("cut-off"),
    "tag": N_("tag"),
}
REASON_LABELS = {
    "bad_audio": N_("bad audio"),
    "wrong_language": N_("wrong language"),
    "no_speech": N_("no speech"),
    "crosstalk": N_("crosstalk"),
    "other": N_("other"),
}


class ResolveRequest(BaseModel):
    """Exactly one of: accept a transcript, an edited final text, or unusable with a reason."""

    accept_submission_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    final_text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    unusable: bool = False
    reason: str | None = Field(default=None, max_length=40, description=", ".join(UNUSABLE_REASONS))


def _resolve(
    session: Session, settings: Settings, dispute_id: int, reviewer: Person, **choice
) -> Resolution:
    """Resolve, then re-check the accuracy bar of everyone whose work was just scored."""
    resolution = resolve_dispute(
        session,
        dispute_id,
        reviewer.id,
        policies=policy_book(session, settings.policy_file),
        card=load_rate_card(settings.rates_file),
        now=utc_now(),
        **choice,
    )
    enforce_accuracy_bar(
        session, resolution.user_ids, bar=settings.accuracy_bar, window=settings.accuracy_window
    )
    return resolution


def _detail_json(session: Session, dispute_id: int, settings: Settings) -> dict:
    detail = dispute_detail(session, dispute_id, window=settings.accuracy_window)
    return {
        **detail.summary.to_dict(utc_now()),
        "audio_url": f"/api/v1/disputes/{dispute_id}/audio",
        "transcripts": [view.to_dict() for view in detail.transcripts],
        "alignment": detail.alignment.to_dict() if detail.alignment else None,
        "verbatim_differences": [row.to_dict() for row in detail.verbatim],
        "skip_reasons": list(detail.skip_reasons),
        "resolution": detail.resolution,
        "reason_code": detail.reason_code,
        "final_text": detail.final_text,
        "resolver": detail.resolver,
    }


# ---- JSON API -----------------------------------------------------------------------------


@router.get("/api/v1/disputes")
def list_disputes(
    _reviewer: Reviewer,
    session: DbSession,
    language: str | None = None,
    project: str | None = None,
    min_age_s: Annotated[float | None, Query(ge=0, le=MAX_AGE_S, allow_inf_nan=False)] = None,
    state: DisputeState = DisputeState.OPEN,
) -> list[dict]:
    """Disputes waiting for a reviewer (oldest first), filtered by language, project, age."""
    now = utc_now()
    queue = dispute_queue(
        session, language=language, project=project, min_age_s=min_age_s, state=state, now=now
    )
    return [summary.to_dict(now) for summary in queue]


@router.get("/api/v1/disputes/{dispute_id}")
def get_dispute(
    dispute_id: RowId, _reviewer: Reviewer, session: DbSession, settings: SettingsDep
) -> dict:
    """One dispute: its transcripts with track records, aligned column by column."""
    return _detail_json(session, dispute_id, settings)


@router.post("/api/v1/disputes/{dispute_id}/resolve")
def resolve(
    dispute_id: RowId,
    payload: ResolveRequest,
    reviewer: Reviewer,
    session: DbSession,
    settings: SettingsDep,
) -> dict:
    """Resolve with the reviewer's one choice; 422 for a final text breaking the conventions,
    409 when the dispute was already resolved."""
    resolution = _resolve(
        session,
        settings,
        dispute_id,
        reviewer,
        accept_submission_id=payload.accept_submission_id,
        final_text=payload.final_text,
        unusable=payload.unusable,
        reason_code=payload.reason,
    )
    return {
        "dispute_id": resolution.dispute_id,
        "clip_id": resolution.clip_id,
        "resolution": resolution.resolution,
        "final_text": resolution.final_text,
        "reason": resolution.reason_code,
        "scored": [
            {"submission_id": sid, "error_vs_final": rate, "accepted": accepted}
            for sid, rate, accepted in resolution.scored
        ],
    }


@router.get("/api/v1/disputes/{dispute_id}/audio")
def dispute_audio(
    dispute_id: RowId, _reviewer: Reviewer, session: DbSession, settings: SettingsDep
) -> Response:
    """The audio of a clip under dispute, for reviewers."""
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"there is no dispute {dispute_id}")
    stored = disputed_clip_audio(session, dispute.clip_id)
    return clip_audio_response(clip_location(settings.home_dir, stored))


# ---- Pages --------------------------------------------------------------------------------


@router.get("/review")
def queue_page(
    request: Request,
    _reviewer: Reviewer,
    session: DbSession,
    language: str = "",
    project: str = "",
    age: str = "",
) -> Response:
    """The dispute queue with its filters."""
    now = utc_now()
    min_age_s = float(age) if age in AGE_CHOICES and age else None
    disputes = dispute_queue(
        session, language=language or None, project=project or None, min_age_s=min_age_s, now=now
    )
    languages, projects = open_dispute_facets(session)
    return templates.TemplateResponse(
        request,
        "review_queue.html",
        {
            "disputes": disputes,
            "now": now,
            "languages": languages,
            "projects": projects,
            "ages": AGE_CHOICES,
            "filters": {"language": language, "project": project, "age": age},
        },
    )


def _render_dispute(
    request: Request,
    session: Session,
    settings: Settings,
    dispute_id: int,
    *,
    edit_text: str | None = None,
    problems: list | None = None,
    status_code: int = 200,
) -> Response:
    detail = dispute_detail(session, dispute_id, window=settings.accuracy_window)
    clip = session.get(Clip, detail.summary.clip_id)
    if edit_text is None:
        edit_text = detail.transcripts[0].text if detail.transcripts else "[no-speech]"
    return templates.TemplateResponse(
        request,
        "review_dispute.html",
        {
            "detail": detail,
            "clip": clip,
            "edit_text": edit_text,
            "problems": problems or [],
            "reasons": REASON_LABELS,
            "verbatim_kinds": VERBATIM_KIND_LABELS,
            "audio_url": f"/api/v1/disputes/{dispute_id}/audio",
        },
        status_code=status_code,
    )


@router.get("/review/disputes/{dispute_id}")
def dispute_page(
    request: Request,
    dispute_id: RowId,
    _reviewer: Reviewer,
    session: DbSession,
    settings: SettingsDep,
) -> Response:
    """One dispute: the clip's player, the transcripts aligned, and the three ways to resolve."""
    return _render_dispute(request, session, settings, dispute_id)


@router.post("/review/disputes/{dispute_id}/resolve", dependencies=[CsrfChecked])
def resolve_page(
    request: Request,
    dispute_id: RowId,
    reviewer: Reviewer,
    session: DbSession,
    settings: SettingsDep,
    action: Annotated[str, Form()],
    submission_id: Annotated[int | None, Form(ge=1, le=INT4_MAX)] = None,
    final_text: Annotated[str | None, Form(max_length=MAX_TEXT_CHARS)] = None,
    reason: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Resolve from the page's forms, then open the next dispute (or the queue)."""
    choices = {
        "accept": {"accept_submission_id": submission_id},
        "edit": {"final_text": final_text or ""},
        "unusable": {"unusable": True, "reason_code": reason},
    }
    if action not in choices:
        raise InvalidInput(_("Choose accept, edit or unusable."))
    try:
        resolution = _resolve(session, settings, dispute_id, reviewer, **choices[action])
    except ConventionError as error:
        session.rollback()
        return _render_dispute(
            request,
            session,
            settings,
            dispute_id,
            edit_text=final_text or "",
            problems=error.problems,
            status_code=422,
        )
    session.commit()
    done = {
        DisputeResolution.ACCEPTED: _("Dispute %(id)s: accepted a transcript."),
        DisputeResolution.EDITED: _("Dispute %(id)s: saved your final text."),
        DisputeResolution.UNUSABLE: _("Dispute %(id)s: marked the clip unusable (%(reason)s)."),
    }
    reason = _(REASON_LABELS.get(resolution.reason_code or "", "")) or resolution.reason_code
    flash(request, done[resolution.resolution] % {"id": dispute_id, "reason": reason})
    following = dispute_queue(session, limit=1)
    target = f"/review/disputes/{following[0].id}" if following else "/review"
    return RedirectResponse(target, status_code=303)


@router.get("/me/accuracy")
def my_accuracy(
    request: Request, person: CurrentPerson, session: DbSession, settings: SettingsDep
) -> Response:
    """A transcriber's own error rate per language and worst recent clips against the final."""
    window = settings.accuracy_window
    standings = accuracy_by_language(session, person.id, window=window)
    # A gold clip's final text is its reference: shown, it would give the exam away.
    worst = {
        standing.language: [
            clip
            for clip in worst_recent_clips(session, person.id, standing.language, window=window)
            if not clip.scored.is_gold
        ]
        for standing in standings
    }
    # Shown in the characters written (餸 stays 餸), not the simplified forms compared.
    diffs = {
        item.scored.submission_id: word_diff(
            item.scored.final_text, item.scored.text, item.scored.language
        )
        for items in worst.values()
        for item in items
    }
    return templates.TemplateResponse(
        request,
        "accuracy.html",
        {
            "standings": standings,
            "worst": worst,
            "diffs": diffs,
            "bar": settings.accuracy_bar,
            "window": window,
        },
    )
