"""The transcriber JSON API (``/api/v1``): claim a clip, fetch its audio, submit, skip, renew.

Authenticated by ``Authorization: Bearer TOKEN``. A page's own scripts may use the session
cookie instead, with the CSRF token in ``X-CSRF-Token`` (checked in ``current_person``).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from app.web.clip_audio import clip_audio_response
from app.web.deps import (
    CurrentPerson,
    DbSession,
    SettingsDep,
    bearer_token,
    require_role,
    run_database_work,
    token_holder,
)
from app.web.direct_routes import direct_post, is_json, json_response
from app.web.domain_messages import translate_message, translate_problems
from app.web.edge import TextId
from app.web.local_time import Timestamp
from app.web.transcriber_view import audio_file_for, person_standing
from crowdscribe.clock import utc_now
from crowdscribe.errors import LeaseExpired
from crowdscribe.storage.states import SubmissionStatus
from transcribe.conventions import find_problems
from transcribe.dispatch.async_runner import claim_next_clip_async, submit_transcript_async
from transcribe.dispatch.holding import renew_lease, skip_assignment
from transcribe.dispatch.sequences import Asker, Claim, NoWork, Receipt
from transcribe.dispatch.sync_runner import claim_next_clip, submit_in_own_session
from transcribe.limits import LOOP_CHECK_CHARS, MAX_TEXT_CHARS
from transcribe.offers import offers_for
from transcribe.users import Person

router = APIRouter(prefix="/api/v1", tags=["transcriber"])

TRANSCRIBER = "transcriber"
Transcriber = Annotated[Person, Depends(require_role(TRANSCRIBER))]
CENT = Decimal("0.01")
REASON_HEADER = "X-Crowdscribe-Reason"
NEXT_EXPECTED_HEADER = "X-Crowdscribe-Next-Expected-At"


class NextClipRequest(BaseModel):
    language: str | None = Field(default=None, description="Only clips in this language.")


class ClaimOut(BaseModel):
    assignment_id: str
    clip_id: str
    language: str
    audio_url: str
    duration_s: float
    price: str = Field(description="Exact decimal amount paid for this clip, e.g. '0.35'.")
    currency: str
    lease_expires_at: Timestamp


class SubmitRequest(BaseModel):
    text: str = Field(
        max_length=MAX_TEXT_CHARS,
        description="The verbatim transcript, following the conventions.",
    )
    request_id: str = Field(
        min_length=8, max_length=64, description="Client-chosen id; resending it is harmless."
    )


class ReceiptOut(BaseModel):
    submission_id: int
    status: SubmissionStatus
    duplicate: bool
    message: str


class SkipRequest(BaseModel):
    reason: Literal["bad_audio", "wrong_language", "empty", "other"]


class SkipOut(BaseModel):
    assignment_id: str
    skipped: bool = True


class LeaseOut(BaseModel):
    assignment_id: str
    lease_expires_at: Timestamp


class EarningsOut(BaseModel):
    currency: str
    today: str
    pending: str
    credited: str
    discounted: str
    paid: str = Field(description="settled work that payouts have paid")
    unpaid: str = Field(description="settled work not yet paid")


class ExamStatusOut(BaseModel):
    language: str
    state: str = Field(description="qualified | paused | not_taken | failed | in_progress")
    detail: str | None = None
    retake_at: Timestamp | None = None


class MeOut(BaseModel):
    name: str
    roles: list[str]
    languages: list[str]
    qualified_languages: list[str]
    exams: list[ExamStatusOut]
    earnings: EarningsOut


class CheckRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    language: str = Field(max_length=40)


class ProblemOut(BaseModel):
    start: int
    end: int
    code: str
    message: str = Field(description="What is wrong and how to fix it, in the asked language.")
    params: dict[str, str] = Field(
        default_factory=dict, description="The varying parts of the message (tag, char...)."
    )


class CheckOut(BaseModel):
    ok: bool
    problems: list[ProblemOut] = Field(description="The first few problems, in text order.")
    problem_count: int


def _amount(value: Decimal) -> str:
    # Prices are set to the cent; the database keeps four places, clients see two.
    return str(Decimal(value).quantize(CENT))


async def _claim_directly(request: Request) -> Response | None:
    # The usual claim (a bearer token, no body or a JSON one, PostgreSQL), its token checked by
    # the claim's own statement; None: the declared route answers (app.web.direct_routes).
    state = request.app.state
    token = bearer_token(request)
    if state.async_pool is None or token is None:
        return None
    body = await request.body()
    asked = None
    if body:
        if not is_json(request):
            return None
        try:
            asked = NextClipRequest.model_validate_json(body)
        except ValidationError:
            return None
    language = request.query_params.get("language") or (asked.language if asked else None)
    holder = token_holder(request, token, TRANSCRIBER)
    return _claim_answer(await _claim(state, holder, language))


@direct_post(
    router,
    "/clips/next",
    _claim_directly,
    response_model=ClaimOut,
    responses={204: {"description": f"No work now; the reason is in the {REASON_HEADER} header."}},
)
async def next_clip(
    request: Request,
    person: Transcriber,
    language: Annotated[str | None, Query()] = None,
    body: Annotated[NextClipRequest | None, Body()] = None,
) -> Response:
    """Lease the next clip this person may transcribe, with its price, or 204 when none is open."""
    wanted = language or (body.language if body else None)
    return _claim_answer(await _claim(request.app.state, person.id, wanted))


def _claim_answer(claim: Claim | NoWork) -> Response:
    if isinstance(claim, NoWork):
        headers = {REASON_HEADER: claim.message}
        if claim.next_expected_at is not None:
            headers[NEXT_EXPECTED_HEADER] = claim.next_expected_at.isoformat()
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)
    return json_response(
        ClaimOut(
            assignment_id=claim.assignment_id,
            clip_id=claim.clip_id,
            language=claim.language,
            audio_url=f"/api/v1/clips/{claim.clip_id}/audio",
            duration_s=claim.duration_s,
            price=_amount(claim.price),
            currency=claim.currency,
            lease_expires_at=claim.lease_expires_at,
        )
    )


@router.get(
    "/clips/{clip_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/flac": {}}, "description": "The clip as 16 kHz FLAC."}},
)
def clip_audio(
    clip_id: TextId, person: CurrentPerson, session: DbSession, settings: SettingsDep
) -> Response:
    """The audio of a clip this person holds now (or is examined on); 403/404 otherwise."""
    location = audio_file_for(session, settings, person.id, clip_id)
    return clip_audio_response(location, headers={"Cache-Control": "private"})


async def _submit_directly(request: Request) -> Response | None:
    # The usual submit (a bearer token, a valid JSON body, a short text, PostgreSQL), its token
    # checked by the read of the assignment; a long text takes the declared route, as its check
    # runs in a worker thread, where the person's locale would not reach the answer.
    state = request.app.state
    token = bearer_token(request)
    assignment_id = request.path_params["assignment_id"]
    if state.async_pool is None or token is None or not 0 < len(assignment_id) <= 64:
        return None
    if not is_json(request):
        return None
    try:
        payload = SubmitRequest.model_validate_json(await request.body())
    except ValidationError:
        return None
    if len(payload.text) > LOOP_CHECK_CHARS:
        return None
    holder = token_holder(request, token)
    return _receipt_answer(
        await _submit(state, assignment_id, holder, payload.text, payload.request_id)
    )


@direct_post(
    router,
    "/assignments/{assignment_id}/submit",
    _submit_directly,
    response_model=ReceiptOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "The lease had expired: the text was kept but not counted."},
        422: {"description": "The text breaks the conventions; `problems` lists each."},
    },
)
async def submit(
    request: Request, assignment_id: TextId, payload: SubmitRequest, person: CurrentPerson
) -> Response:
    """Submit a transcript; the same ``request_id`` twice stores it once (``duplicate``)."""
    return _receipt_answer(
        await _submit(request.app.state, assignment_id, person.id, payload.text, payload.request_id)
    )


def _receipt_answer(receipt: Receipt) -> Response:
    if receipt.status == SubmissionStatus.LATE:
        raise LeaseExpired(receipt.message)
    answer = ReceiptOut(
        submission_id=receipt.submission_id,
        status=receipt.status,
        duplicate=receipt.duplicate,
        message=translate_message(receipt.message),
    )
    return json_response(answer, status.HTTP_201_CREATED)


# Claims and submits are most of the traffic: they read the app's database and settings
# directly, saving FastAPI a dependency solve each (a tenth of the request's own cost). On
# PostgreSQL they run on async connections, elsewhere as short blocking work on the loop; a
# long transcript's check runs in a worker thread either way.


async def _claim(state: State, asker: Asker, language: str | None) -> Claim | NoWork:
    database, settings = state.database, state.settings
    options = {"language": language, "lease_s": settings.lease_s, "gold_rate": settings.gold_rate}
    if state.async_pool is not None:
        return await claim_next_clip_async(state.async_pool, asker, now=utc_now(), **options)
    return await run_database_work(
        database, lambda: claim_next_clip(database, asker, now=utc_now(), **options)
    )


async def _submit(
    state: State, assignment_id: str, asker: Asker, text: str, request_id: str
) -> Receipt:
    database = state.database
    if state.async_pool is not None:
        return await submit_transcript_async(
            state.async_pool, assignment_id, asker, text, request_id, utc_now()
        )

    def work() -> Receipt:
        return submit_in_own_session(database, assignment_id, asker, text, request_id, utc_now())

    if len(text) > LOOP_CHECK_CHARS:
        return await run_in_threadpool(work)
    return await run_database_work(database, work)


@router.post("/assignments/{assignment_id}/skip", response_model=SkipOut)
def skip(
    assignment_id: TextId, payload: SkipRequest, person: CurrentPerson, session: DbSession
) -> SkipOut:
    """Give a clip back without transcribing it, saying why (bad audio, wrong language, empty)."""
    skip_assignment(session, assignment_id, person.id, payload.reason, utc_now())
    return SkipOut(assignment_id=assignment_id)


@router.post("/assignments/{assignment_id}/renew", response_model=LeaseOut)
def renew(
    assignment_id: TextId, person: CurrentPerson, session: DbSession, settings: SettingsDep
) -> LeaseOut:
    """Extend the lease while the person is still working on the clip."""
    expires = renew_lease(session, assignment_id, person.id, utc_now(), settings.lease_s)
    return LeaseOut(assignment_id=assignment_id, lease_expires_at=expires)


@router.get("/me", response_model=MeOut)
def me(person: CurrentPerson, session: DbSession, settings: SettingsDep) -> MeOut:
    """Who I am, where I may work, how my exams stand and what I have earned."""
    summary = person_standing(session, settings, person, utc_now())
    earnings = summary.earnings
    return MeOut(
        name=person.name,
        roles=sorted(person.roles),
        languages=list(person.languages),
        qualified_languages=summary.qualified,
        exams=[ExamStatusOut(**asdict(exam)) for exam in summary.exams],
        earnings=EarningsOut(
            currency=earnings.currency,
            today=_amount(earnings.today),
            pending=_amount(earnings.pending),
            credited=_amount(earnings.credited),
            discounted=_amount(earnings.discounted),
            paid=_amount(earnings.paid),
            unpaid=_amount(earnings.unpaid),
        ),
    )


@router.get("/offers")
def offers(person: CurrentPerson, session: DbSession, settings: SettingsDep) -> list[dict]:
    """Work waiting in each of my languages, qualified or not: clips, pay range, the price of
    the next clip (where I may take one) and whether the exam is open."""
    now = utc_now()
    qualified = person_standing(session, settings, person, now).qualified
    waiting = offers_for(
        session, person.id, person.languages, qualified, exam_clips=settings.exam_clips, now=now
    )
    return [offer.to_dict() for offer in waiting]


@router.post("/conventions/check", response_model=CheckOut)
def check_conventions(payload: CheckRequest, _person: CurrentPerson) -> CheckOut:
    """The first convention problems in a text, with their positions, and how many there are,
    without submitting anything. (A plain ``def``: the check runs in a worker thread.)"""
    found = find_problems(payload.text, payload.language)
    return CheckOut(
        ok=not found.count,
        problems=[ProblemOut(**row) for row in translate_problems(found.problems)],
        problem_count=found.count,
    )
