"""Gold clips: clips with a coordinator's reference transcript, for exams and for checking work.

References follow the same conventions as any transcript, so they are checked (and their
whitespace normalised) with ``transcribe.conventions.check_transcript`` before they are stored.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.errors import ConventionError, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, GoldClip
from transcribe.conventions import check_transcript
from transcribe.pricing import RateCard, price_clip

CSV_COLUMNS = ("clip_id", "text")


@dataclass(frozen=True)
class GoldRow:
    """One gold clip as listed for a coordinator."""

    clip_id: str
    language: str
    reference_text: str


def _priced(clip: Clip, card: RateCard | None) -> None:
    # A gold clip mixed into work pays like any clip, so it needs a price.
    if card is not None and clip.price is None:
        clip.price = price_clip(clip.duration_s, clip.language, clip.speaker_group, card)
        clip.currency = card.currency


def add_gold(session: Session, clip_id: str, text: str, card: RateCard | None = None) -> str:
    """Make a clip gold with this reference (replacing an earlier one); returns the stored text."""
    clip = session.get(Clip, clip_id)
    if clip is None:
        raise NotFound(f"there is no clip {clip_id}; see `crowdscribe clips`")
    reference = check_transcript(text, clip.language)
    gold = session.get(GoldClip, clip_id)
    if gold is None:
        session.add(GoldClip(clip_id=clip_id, reference_text=reference))
    else:
        gold.reference_text = reference
    _priced(clip, card)
    session.flush()
    return reference


def import_gold_csv(session: Session, path: Path, card: RateCard | None = None) -> int:
    """Add every row of a ``clip_id,text`` CSV as gold, or none: every bad row is reported."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = tuple(name.strip() for name in reader.fieldnames or ())
            if not set(CSV_COLUMNS) <= set(header):
                raise InvalidInput(
                    f"{path}: the first line must name the columns {','.join(CSV_COLUMNS)} "
                    f"(found {','.join(header) or 'nothing'})"
                )
            rows = [
                (reader.line_num, {key.strip(): value for key, value in row.items() if key})
                for row in reader
            ]
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    accepted, problems = _checked_rows(session, rows)
    if problems:
        listed = "\n".join(problems)
        raise InvalidInput(f"{path}: nothing imported; fix these rows and retry:\n{listed}")
    for clip_id, reference in accepted:
        add_gold(session, clip_id, reference, card)
    return len(accepted)


def _checked_rows(session: Session, rows: list[tuple[int, dict]]):
    ids = [(row.get("clip_id") or "").strip() for _, row in rows]
    languages = dict(session.execute(select(Clip.id, Clip.language).where(Clip.id.in_(ids))).all())
    accepted: list[tuple[str, str]] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for (line, row), clip_id in zip(rows, ids, strict=True):
        text = row.get("text") or ""
        if not clip_id:
            problems.append(f"line {line}: clip_id is empty")
        elif clip_id in first_line:
            problems.append(f"line {line}: clip {clip_id} is already on line {first_line[clip_id]}")
        elif clip_id not in languages:
            problems.append(f"line {line}: there is no clip {clip_id}")
        else:
            first_line[clip_id] = line
            try:
                accepted.append((clip_id, check_transcript(text, languages[clip_id])))
            except ConventionError as error:
                details = "; ".join(
                    f"at {problem.start}: {problem.message}" for problem in error.problems
                )
                problems.append(f"line {line}: clip {clip_id}: {details}")
    if not rows:
        problems.append("the file has no rows under its header")
    return accepted, problems


def gold_rows(session: Session, language: str | None = None) -> list[GoldRow]:
    """Every gold clip (optionally of one language) with its reference, by clip id."""
    query = select(GoldClip.clip_id, Clip.language, GoldClip.reference_text).join(
        Clip, Clip.id == GoldClip.clip_id
    )
    if language is not None:
        query = query.where(Clip.language == language)
    return [GoldRow(*row) for row in session.execute(query.order_by(GoldClip.clip_id))]
