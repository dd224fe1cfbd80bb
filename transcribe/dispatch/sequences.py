"""The claim and submit sequences, written once for every database and driver.

A sequence is a generator: it yields the statements to run (``Run``) and the units that form
one write transaction (``Write``), and gets back what they returned. ``sync_runner`` drives it
on a SQLAlchemy connection (CLI, pages, SQLite), ``async_runner`` on psycopg's async
connections (the web server on PostgreSQL). So each rule of what to answer lives here once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.sql import Executable

from crowdscribe.clock import as_utc
from crowdscribe.errors import Conflict, ConventionError, InvalidInput, NotFound, NotQualified
from crowdscribe.languages import check_language
from crowdscribe.storage.states import AssignmentState, LedgerState, SubmissionStatus
from transcribe.conventions import check_transcript
from transcribe.dispatch import statements as sql
from transcribe.ledger import check_amount
from transcribe.limits import transcript_limit_chars
from transcribe.users import BY_TOKEN, Person, person_from_row

T = TypeVar("T")


@dataclass(frozen=True)
class Ran:
    """What a statement gave back: its rows (none for a plain UPDATE) and how many it changed."""

    rows: list
    count: int

    def first(self) -> Any:
        """The first row, or None."""
        return self.rows[0] if self.rows else None


@dataclass(frozen=True)
class Run:
    """One statement of ``statements`` with its named values; the runner answers ``Ran``."""

    statement: Executable
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Write:
    """Steps forming one write transaction, answered with their result: committed, or rolled
    back if the result is None (nothing to keep); started again from the first step if they
    lost a race to another transaction."""

    steps: Callable[[], Generator[Run, Ran, Any]]


Sequence = Generator[Run | Write, Any, T]


@dataclass(frozen=True)
class TokenHolder:
    """Whoever holds an API token (``users.token_digest``), looked up in the sequence's own first
    statement, so a replaced token or a deactivated person is refused at once. ``admit`` gets
    the active person, or None for nobody, and raises unless they may go on; with ``role``
    named, a claim is made only for a person holding it."""

    digest: str
    role: str | None
    admit: Callable[[Person | None], None]

    @property
    def values(self) -> dict[str, Any]:
        return {"p_digest": self.digest, "p_role": self.role}

    def admitted(self, row: Any) -> int:
        """The user id of the person of a ``BY_TOKEN`` row, once ``admit`` let them through."""
        person = None if row is None else person_from_row(row)
        self.admit(person)
        if person is None:
            raise AssertionError("admit let nobody through")
        return person.id


# Who is asking: a user id already checked, or the holder of a token still to check.
Asker = int | TokenHolder


@dataclass(frozen=True)
class Claim:
    """A slot (or a gold clip) now held by one person until ``lease_expires_at``."""

    assignment_id: str
    clip_id: str
    language: str
    duration_s: float
    price: Decimal
    currency: str
    lease_expires_at: datetime
    is_gold: bool


@dataclass(frozen=True)
class NoWork:
    """Nothing to claim now; the message says why and when more is expected, if known."""

    message: str
    next_expected_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    """Proof a transcript was stored: ``counted`` fills a slot (and is paid), ``late`` does not."""

    submission_id: int
    status: str
    duplicate: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def wanted_language(language: str | None) -> str | None:
    """A language code as a client may send it (" YUE"), as the queue stores it ("yue");
    a code not in the registry is refused with a hint rather than finding no work."""
    return None if language is None else check_language(language)


# --- claim ---------------------------------------------------------------------------------


def claim_sequence(
    dialect: str,
    asker: Asker,
    language: str | None,
    now: datetime,
    lease_s: float,
    gold: bool,
) -> Sequence[Claim | NoWork]:
    """Lease the next slot for a person: highest priority, then oldest, in a language they are
    qualified in, never a clip they had before; a gold clip first when ``gold``; else why not."""
    try:
        asked = wanted_language(language)
    except InvalidInput:
        yield from user_id_of(asker)  # who may ask is answered first
        raise
    values = {"p_language": asked, "p_now": now, "p_expires": now + timedelta(seconds=lease_s)}
    if isinstance(asker, TokenHolder) and dialect == "postgresql" and not gold:
        # The token checked by the claim itself (docs/dispatch.md#claim).
        found = yield Write(lambda: _claim_for_token(values, asker))
        values["p_user_id"] = asker.admitted(None if found is None else found[0])
        if found[0].clip_id is not None:
            return _claim(*found, is_gold=False)
        languages = claimable_languages((yield Run(sql.QUALIFIED, values)).rows, values)
        return no_work(languages, (yield Run(sql.COMING_BACK, values)).first())
    values["p_user_id"] = yield from user_id_of(asker)
    languages = None
    if gold or dialect != "postgresql":
        languages = claimable_languages((yield Run(sql.QUALIFIED, values)).rows, values)
    if gold:
        claim = yield Write(lambda: _claim_gold(values))
        if claim is not None:
            return claim
    if dialect == "postgresql":
        # One statement reads the qualifications too (docs/dispatch.md#claim).
        claim = yield Write(lambda: _claim_in_one(values))
    else:
        claim = yield Write(lambda: _claim_in_steps(values, languages))
    if claim is not None:
        return claim
    if languages is None:
        languages = claimable_languages((yield Run(sql.QUALIFIED, values)).rows, values)
    return no_work(languages, (yield Run(sql.COMING_BACK, values)).first())


def claimable_languages(rows: list, values: Mapping[str, Any]) -> list[str]:
    """The languages of the ``QUALIFIED`` rows, sorted; NotQualified if there are none."""
    languages = sorted(row.language for row in rows)
    if languages:
        return languages
    asked = values["p_language"]
    if asked is not None:
        raise NotQualified(
            f"You are not qualified to transcribe {asked} yet (or you were paused); "
            f"pass the {asked} exam first."
        )
    raise NotQualified(
        "You are not qualified in any language yet; pass an exam before taking paid work."
    )


def user_id_of(asker: Asker) -> Generator[Run, Ran, int]:
    """The asker's user id; a token holder's looked up (``BY_TOKEN``) and admitted."""
    if isinstance(asker, TokenHolder):
        return asker.admitted((yield Run(BY_TOKEN, asker.values)).first())
    return asker


def _claim_in_one(values: dict) -> Generator[Run, Ran, Claim | None]:
    assignment = {**values, "p_assignment": secrets.token_hex(16)}
    row = (yield Run(sql.CLAIM_IN_ONE, assignment)).first()
    return None if row is None else _claim(row, assignment, is_gold=False)


def _claim_for_token(
    values: dict, holder: TokenHolder
) -> Generator[Run, Ran, tuple[Any, dict] | None]:
    # The holder's row with the slot leased to them, if any; None: no such active person.
    assignment = {**values, **holder.values, "p_assignment": secrets.token_hex(16)}
    row = (yield Run(sql.CLAIM_FOR_TOKEN, assignment)).first()
    return None if row is None else (row, assignment)


def _claim_in_steps(values: dict, languages: list[str]) -> Generator[Run, Ran, Claim | None]:
    # SQLite, under its write lock: one language at a time, so each pick walks its index.
    found = []
    for language in languages:
        found += (yield Run(sql.SQLITE_PICKS, {**values, "p_language": language})).rows
    if not found:
        return None
    row = min(found, key=lambda row: (row.claim_rank, row.id))
    if row.assignment_id is not None:
        yield Run(sql.EXPIRE_HOLDER, {"p_holder": row.assignment_id, "p_now": values["p_now"]})
    assignment = {**values, "p_assignment": secrets.token_hex(16), "p_item": row.id}
    yield Run(sql.NEW_ASSIGNMENT, {**assignment, "p_clip": row.clip_id, "p_gold": False})
    yield Run(sql.LEASE_SLOT, assignment)
    return _claim(row, assignment, is_gold=False)


def _claim_gold(values: dict) -> Generator[Run, Ran, Claim | None]:
    seen_in_exams = set()
    for row in (yield Run(sql.EXAM_CLIPS, values)).rows:
        seen_in_exams.update(row.clip_ids or ())
    limit = {**values, "p_limit": len(seen_in_exams) + 1}
    candidates = (yield Run(sql.GOLD_CANDIDATES, limit)).rows
    unseen = [row for row in candidates if row.clip_id not in seen_in_exams]
    if not unseen:
        return None
    row = unseen[0]
    assignment = {**values, "p_assignment": secrets.token_hex(16), "p_item": None}
    yield Run(sql.NEW_ASSIGNMENT, {**assignment, "p_clip": row.clip_id, "p_gold": True})
    return _claim(row, assignment, is_gold=True)


def _claim(row: Any, values: Mapping[str, Any], *, is_gold: bool) -> Claim:
    return Claim(
        assignment_id=values["p_assignment"],
        clip_id=row.clip_id,
        language=row.language,
        duration_s=row.duration_s,
        price=Decimal(row.price),
        currency=row.currency,
        lease_expires_at=values["p_expires"],
        is_gold=is_gold,
    )


def no_work(languages: list[str], coming_back: Any) -> NoWork:
    """Why there is nothing to claim in ``languages``, from the ``COMING_BACK`` row: slots of
    published clips others hold, and when the first lease runs out."""
    count, earliest = coming_back
    where = ", ".join(languages)
    if not count:
        message = f"No clips in {where} right now; more arrive when new audio is published."
        return NoWork(message, None)
    earliest = as_utc(earliest)
    held_by = "1 is" if count == 1 else f"{count} are"
    return NoWork(
        f"No clips in {where} right now; {held_by} held by others under lease, "
        f"the earliest returns at {earliest:%H:%M} UTC.",
        earliest,
    )


# --- submit --------------------------------------------------------------------------------


def submit_sequence(
    dialect: str, assignment_id: str, asker: Asker, text: str, request_id: str, now: datetime
) -> Sequence[Receipt]:
    """Store a person's transcript once per ``request_id`` (a retry gets the same receipt); a
    counted one accrues the clip's price in the ledger."""
    read = {"p_assignment": assignment_id, "p_request": request_id}
    if isinstance(asker, TokenHolder):
        # The token checked by the read of the assignment itself.
        row = (yield Run(sql.HELD_FOR_TOKEN, {**read, **asker.values})).first()
        user_id = asker.admitted(row)
    else:
        row, user_id = (yield Run(sql.HELD, read)).first(), asker
    check_request_id(request_id)
    row = held_by(row, assignment_id, user_id)
    answered = answer_before_storing(row, request_id, text)
    if answered is not None:
        return answered
    values = store_values(row, assignment_id, user_id, text, request_id, now)
    store = _store_in_one if dialect == "postgresql" else _store_in_steps
    stored = yield Write(lambda: store(values))
    if stored is not None:
        submission_id, status = stored
        return _receipt(submission_id, status, row.clip_id, duplicate=False)
    # Lost a race with our own retry (or a skip): answer as the winner did.
    again = held_by((yield Run(sql.HELD, read)).first(), assignment_id, user_id)
    if again.submission_id is not None:
        return _earlier_submission(again, request_id, text)
    raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")


def _store_in_one(values: dict) -> Generator[Run, Ran, tuple[int, str] | None]:
    row = (yield Run(sql.STORE_IN_ONE, values)).first()
    return None if row is None else (row.id, row.status)


def _store_in_steps(values: dict) -> Generator[Run, Ran, tuple[int, str] | None]:
    # SQLite, under its write lock: the statements of ``STORE_IN_ONE``, one by one.
    counted = values["p_gold"] or (yield Run(sql.CLOSE_SLOT, values)).count == 1
    status = SubmissionStatus.COUNTED if counted else SubmissionStatus.LATE
    if (yield Run(sql.MARK_SUBMITTED, values)).count != 1:
        return None
    submission_id = (yield Run(sql.NEW_SUBMISSION, {**values, "p_status": status})).first().id
    if counted and values["p_price"] is not None:
        accrual = {
            "submission_id": submission_id,
            "user_id": values["p_user"],
            "clip_id": values["p_clip"],
            "amount": values["p_price"],
            "currency": values["p_currency"],
            "state": LedgerState.PENDING,
            "created_at": values["p_now"],
        }
        yield Run(sql.ACCRUE_SQLITE, accrual)
    return submission_id, status


def held_by(row: Any, assignment_id: str, user_id: int) -> Any:
    """The row of ``HELD`` for an assignment if it is this person's; NotFound otherwise, with
    the same words whether it is somebody else's or does not exist."""
    if row is None or row.user_id != user_id:
        raise NotFound(f"You hold no assignment {assignment_id}; claim a clip first.")
    return row


def check_request_id(request_id: str) -> None:
    """Refuse a ``request_id`` that cannot identify one submission across retries."""
    if not request_id or len(request_id) > 64:
        raise InvalidInput("request_id must be 1 to 64 characters, the same on every retry")


def answer_before_storing(row: Any, request_id: str, text: str) -> Receipt | None:
    """What to answer without storing anything, from the ``HELD`` row: the first receipt again
    for a retried request, a refusal (raised) for a clip already submitted or skipped, a
    request_id spent on another clip or on another text; None when the transcript is to be
    stored."""
    if row.submission_id is not None:
        return _earlier_submission(row, request_id, text)
    if row.request_used_for is not None:
        raise Conflict(f"request_id {request_id!r} was already used for another clip")
    if row.state == AssignmentState.SKIPPED:
        raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")
    return None


def store_values(
    row: Any, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
) -> dict:
    """The values that store a transcript for the held ``row``, once its text passes the
    conventions (ConventionError otherwise)."""
    price = None if row.price is None else check_amount(Decimal(row.price))
    limit = transcript_limit_chars(row.duration_s)
    if len(text) > limit:
        raise InvalidInput(
            f"This transcript is {len(text)} characters long; a {row.duration_s:.1f} s clip takes "
            f"at most {limit}. Please write only what is said in this clip."
        )
    return {
        "p_assignment": assignment_id,
        "p_item": row.work_item_id,
        "p_clip": row.clip_id,
        "p_user": user_id,
        "p_text": check_transcript(text, row.language),
        "p_request": request_id,
        "p_gold": bool(row.is_gold),
        "p_price": price,
        "p_currency": row.currency,
        "p_now": now,
    }


def _earlier_submission(row: Any, request_id: str, text: str) -> Receipt:
    if row.request_id != request_id:
        raise Conflict(
            f"You already submitted clip {row.clip_id} (receipt {row.submission_id}); "
            "the first transcript stands."
        )
    if not _same_text(row.submitted_text, text, row.language):
        raise Conflict(
            f"request_id {request_id!r} already stored a different transcript of clip "
            f"{row.clip_id} (receipt {row.submission_id}); the first transcript stands."
        )
    return _receipt(row.submission_id, row.submission_status, row.clip_id, duplicate=True)


def _same_text(stored: str, text: str, language: str) -> bool:
    # A retry sends the text as typed; what was stored is its cleaned form.
    try:
        return check_transcript(text, language) == stored
    except ConventionError:
        return False


def _receipt(submission_id: int, status: str, clip_id: str, duplicate: bool) -> Receipt:
    again = " (this request was already received)" if duplicate else ""
    if status == SubmissionStatus.COUNTED:
        message = (
            f"Saved{again}: your transcript of clip {clip_id} counts (receipt {submission_id})."
        )
    else:
        message = (
            f"Saved but NOT counted{again}: your lease on clip {clip_id} ran out and someone "
            f"else took the slot, so this transcript is kept (receipt {submission_id}) but "
            "will not be paid."
        )
    return Receipt(submission_id, status, duplicate, message)
