"""The qualification exam: before paid work in a language a person transcribes a few gold clips.

They pass when their overall error rate is under the threshold. Overall means pooled: total
edits over total reference units (words, or characters for Chinese) across the exam, so a long
clip weighs more than a short one; if every reference is empty it is the mean of the clip rates.
A pass records a ``qualified`` qualification (and clears a pause); a fail allows a retake only
after ``Settings.exam_cooldown_s``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage.models import Clip, ExamAnswer, ExamAttempt, GoldClip, User
from review.agreement import Alignment, align
from transcribe.conventions import check_transcript
from transcribe.users import qualified_languages, set_qualified


@dataclass(frozen=True)
class ExamClip:
    """One clip to transcribe in an exam (its reference stays hidden until the end)."""

    clip_id: str
    duration_s: float
    audio_path: str
    answered: bool


@dataclass(frozen=True)
class ExamPaper:
    """An open exam: which clips, and the bar to pass."""

    attempt_id: int
    language: str
    threshold: float
    clips: tuple[ExamClip, ...]


@dataclass(frozen=True)
class AnswerResult:
    """One answer against its reference, with the alignment that shows each mistake."""

    clip_id: str
    answer: str
    reference: str
    error_rate: float
    alignment: Alignment


@dataclass(frozen=True)
class ExamResult:
    """How an exam went: the overall rate, the bar, and every answer word by word."""

    attempt_id: int
    language: str
    error_rate: float
    threshold: float
    passed: bool
    finished_at: datetime
    retake_at: datetime | None
    answers: tuple[AnswerResult, ...]


def start_exam(
    session: Session, user_id: int, language: str, *, settings: Settings, now: datetime
) -> ExamPaper:
    """Open an exam in a language (or return the one already open) with random gold clips."""
    now = utc_now(now)
    language = language.strip().lower()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"there is no person with id {user_id}")
    if language not in user.languages.split(","):
        raise Forbidden(
            f"You are not assigned to work in {language}; ask your coordinator to add it."
        )
    if language in qualified_languages(session, user_id):
        raise Conflict(f"You are already qualified in {language}; no exam needed.")
    open_attempt = session.scalar(_open_attempts(user_id).where(ExamAttempt.language == language))
    if open_attempt is not None:
        return _paper(session, open_attempt)
    last_fail = session.scalar(
        select(func.max(ExamAttempt.finished_at)).where(
            ExamAttempt.user_id == user_id,
            ExamAttempt.language == language,
            ExamAttempt.passed.is_(False),
        )
    )
    if last_fail is not None:
        retake_at = as_utc(last_fail) + timedelta(seconds=settings.exam_cooldown_s)
        if retake_at > now:
            raise Conflict(
                f"You can retake the {language} exam from {retake_at:%Y-%m-%d %H:%M} UTC."
            )
    gold = session.scalars(
        select(GoldClip.clip_id)
        .join(Clip, Clip.id == GoldClip.clip_id)
        .where(Clip.language == language)
        .order_by(GoldClip.clip_id)
    ).all()
    if len(gold) < settings.exam_clips:
        raise Conflict(
            f"The {language} exam needs {settings.exam_clips} gold clips and only {len(gold)} "
            f"exist; a coordinator can add more with `crowdscribe gold add`."
        )
    unseen = sorted(set(gold) - _seen_exam_clips(session, user_id, language))
    if len(unseen) < settings.exam_clips:
        raise Conflict(
            f"You have already seen every {language} exam clip there is; a retake needs new "
            "ones, so ask your coordinator."
        )
    attempt = ExamAttempt(
        user_id=user_id,
        language=language,
        clip_ids=random.sample(unseen, settings.exam_clips),
        threshold=settings.exam_threshold,
        started_at=now,
    )
    session.add(attempt)
    session.flush()
    return _paper(session, attempt)


def _seen_exam_clips(session: Session, user_id: int, language: str) -> set[str]:
    """Gold clips this person was given in earlier exams in ``language``: a retake never
    repeats one, so failing once cannot teach the answers."""
    earlier = session.scalars(
        select(ExamAttempt.clip_ids).where(
            ExamAttempt.user_id == user_id, ExamAttempt.language == language
        )
    ).all()
    return {clip_id for clip_ids in earlier for clip_id in clip_ids}


def _open_attempts(user_id: int):
    return select(ExamAttempt).where(
        ExamAttempt.user_id == user_id, ExamAttempt.finished_at.is_(None)
    )


def _paper(session: Session, attempt: ExamAttempt) -> ExamPaper:
    clips = {
        clip.id: clip for clip in session.scalars(select(Clip).where(Clip.id.in_(attempt.clip_ids)))
    }
    answered = set(
        session.scalars(select(ExamAnswer.clip_id).where(ExamAnswer.attempt_id == attempt.id))
    )
    return ExamPaper(
        attempt_id=attempt.id,
        language=attempt.language,
        threshold=attempt.threshold,
        clips=tuple(
            ExamClip(
                clip_id=clip_id,
                duration_s=clips[clip_id].duration_s,
                audio_path=clips[clip_id].audio_path,
                answered=clip_id in answered,
            )
            for clip_id in attempt.clip_ids
        ),
    )


def _attempt(session: Session, user_id: int, attempt_id: int, *, open_only: bool) -> ExamAttempt:
    attempt = session.get(ExamAttempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        raise NotFound(f"You have no exam {attempt_id}.")
    if open_only and attempt.finished_at is not None:
        raise Conflict(f"Exam {attempt_id} is finished; start a new one to try again.")
    return attempt


def exam_paper(session: Session, user_id: int, attempt_id: int) -> ExamPaper:
    """The clips of one of the person's exams and which of them are answered."""
    return _paper(session, _attempt(session, user_id, attempt_id, open_only=False))


def open_exam(session: Session, user_id: int, language: str) -> ExamPaper | None:
    """The person's unfinished exam in a language, if any."""
    attempt = session.scalar(
        _open_attempts(user_id).where(ExamAttempt.language == language.strip().lower())
    )
    return None if attempt is None else _paper(session, attempt)


def answer_exam(session: Session, user_id: int, attempt_id: int, clip_id: str, text: str) -> None:
    """Store (or replace) the person's transcript of one exam clip; it must follow the
    conventions like any paid transcript."""
    attempt = _attempt(session, user_id, attempt_id, open_only=True)
    if clip_id not in attempt.clip_ids:
        raise Forbidden(f"Clip {clip_id} is not part of exam {attempt_id}.")
    clean = check_transcript(text, attempt.language)
    reference = session.get(GoldClip, clip_id).reference_text
    rate = align(reference, clean, attempt.language).error_rate
    answer = session.scalar(
        select(ExamAnswer).where(ExamAnswer.attempt_id == attempt_id, ExamAnswer.clip_id == clip_id)
    )
    if answer is None:
        session.add(ExamAnswer(attempt_id=attempt_id, clip_id=clip_id, text=clean, error_rate=rate))
    else:
        answer.text, answer.error_rate = clean, rate
    session.flush()


def finish_exam(
    session: Session, user_id: int, attempt_id: int, now: datetime, cooldown_s: float = 3600.0
) -> ExamResult:
    """Score a complete exam; a pass qualifies the person in the language at once."""
    now = utc_now(now)
    attempt = _attempt(session, user_id, attempt_id, open_only=True)
    answered = set(
        session.scalars(select(ExamAnswer.clip_id).where(ExamAnswer.attempt_id == attempt_id))
    )
    missing = [clip_id for clip_id in attempt.clip_ids if clip_id not in answered]
    if missing:
        raise InvalidInput(
            f"Answer every clip before finishing: {len(missing)} of {len(attempt.clip_ids)} "
            f"still open ({', '.join(missing)})."
        )
    answers = _answer_results(session, attempt)
    attempt.error_rate = overall_error_rate(answers)
    attempt.passed = attempt.error_rate < attempt.threshold
    attempt.finished_at = now
    if attempt.passed:
        set_qualified(session, user_id, attempt.language, now)
    session.flush()
    return _result(attempt, answers, cooldown_s)


def exam_result(
    session: Session, user_id: int, attempt_id: int, cooldown_s: float = 3600.0
) -> ExamResult:
    """A finished exam's result again, answer by answer (for the results page)."""
    attempt = _attempt(session, user_id, attempt_id, open_only=False)
    if attempt.finished_at is None:
        raise Conflict(f"Exam {attempt_id} is not finished yet.")
    return _result(attempt, _answer_results(session, attempt), cooldown_s)


def _answer_results(session: Session, attempt: ExamAttempt) -> tuple[AnswerResult, ...]:
    rows = session.execute(
        select(ExamAnswer.clip_id, ExamAnswer.text, GoldClip.reference_text)
        .join(GoldClip, GoldClip.clip_id == ExamAnswer.clip_id)
        .where(ExamAnswer.attempt_id == attempt.id)
    ).all()
    by_clip = {clip_id: (text, reference) for clip_id, text, reference in rows}
    results = []
    for clip_id in attempt.clip_ids:
        text, reference = by_clip[clip_id]
        alignment = align(reference, text, attempt.language)
        results.append(AnswerResult(clip_id, text, reference, alignment.error_rate, alignment))
    return tuple(results)


def overall_error_rate(answers: tuple[AnswerResult, ...]) -> float:
    """Total edits over total reference units (pooled, so long clips weigh more); the mean
    rate if every reference is empty."""
    units = sum(len(answer.alignment.reference_tokens) for answer in answers)
    if units == 0:
        return sum(answer.error_rate for answer in answers) / max(len(answers), 1)
    return sum(_edits(answer.alignment) for answer in answers) / units


def _edits(alignment: Alignment) -> float:
    # Words typed over an empty reference ([no-speech]) are all insertions.
    if not alignment.reference_tokens:
        return float(len(alignment.hypothesis_tokens))
    return alignment.error_rate * len(alignment.reference_tokens)


def _result(attempt: ExamAttempt, answers: tuple[AnswerResult, ...], cooldown_s: float):
    finished = as_utc(attempt.finished_at)
    retake_at = None if attempt.passed else finished + timedelta(seconds=cooldown_s)
    return ExamResult(
        attempt_id=attempt.id,
        language=attempt.language,
        error_rate=attempt.error_rate,
        threshold=attempt.threshold,
        passed=bool(attempt.passed),
        finished_at=finished,
        retake_at=retake_at,
        answers=answers,
    )


HIDDEN_WORD = "?"
MISSED_WORD = "…"


def hide_reference(chunks: list[dict]) -> list[dict]:
    """Alignment chunks with the reference's words hidden: a person learns where they wrote a
    wrong, extra or missing word, and what they wrote, but not what the gold text says."""
    hidden = []
    for chunk in chunks:
        reference = chunk["reference"]
        if chunk["type"] == "equal":
            reference = chunk["hypothesis"]
        elif chunk["type"] == "substitute":
            reference = [HIDDEN_WORD] * len(reference)
        elif chunk["type"] == "delete":
            reference = [MISSED_WORD] * len(reference)
        hidden.append({**chunk, "reference": reference})
    return hidden


def exam_clip_path(session: Session, user_id: int, attempt_id: int, clip_id: str) -> str:
    """The audio path of a clip in the person's open exam; Forbidden for any other clip."""
    attempt = _attempt(session, user_id, attempt_id, open_only=True)
    if clip_id not in attempt.clip_ids:
        raise Forbidden(f"Clip {clip_id} is not part of your exam {attempt_id}.")
    return session.scalar(select(Clip.audio_path).where(Clip.id == clip_id))
