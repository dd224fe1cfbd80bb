"""What publishing would do, before it does it: clips, audio hours, slots and projected cost per
project, each priced with its own project's rate card and overlap (``dispatch --dry-run``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, GoldClip
from crowdscribe.storage.states import ClipStatus
from transcribe.pricing import RateCard, load_rate_card, price_clip
from transcribe.projects import find_project


@dataclass(frozen=True)
class ProjectTerms:
    """How one project's clips are published: its card and its overlap."""

    project: str
    card: RateCard
    overlap: int


@dataclass(frozen=True)
class PublishPlan:
    """What publishing one project's collected clips would create and cost."""

    project: str
    clips: int
    audio_s: float
    slots: int
    overlap: int
    currency: str
    cost: Decimal
    by_language: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "project": self.project,
            "clips": self.clips,
            "audio_hours": round(self.audio_s / 3600, 3),
            "slots": self.slots,
            "overlap": self.overlap,
            "currency": self.currency,
            "projected_cost": str(self.cost),
            "by_language": self.by_language,
        }


def projects_to_publish(session: Session, project: str | None) -> list[str]:
    """``[project]``, or every project with collected clips waiting, by name."""
    if project is not None:
        return [project]
    waiting = select(Clip.project).where(Clip.status == ClipStatus.COLLECTED).distinct()
    return sorted(session.scalars(waiting))


def project_terms(
    session: Session,
    project: str,
    *,
    overlap: int | None,
    default_overlap: int,
    rates_file: Path | None,
) -> ProjectTerms:
    """The card and overlap ``project`` publishes with: its own record's when it has one, the
    settings' otherwise; an ``overlap`` given on the command line wins."""
    record = find_project(session, project)
    if record is None:
        return ProjectTerms(project, load_rate_card(rates_file), overlap or default_overlap)
    return ProjectTerms(project, record.rate_card(rates_file), overlap or record.overlap)


def plan_publishing(session: Session, terms: ProjectTerms) -> PublishPlan:
    """Price every collected, non-gold clip of the project as publishing would, and count."""
    gold = select(GoldClip.clip_id)
    rows = session.execute(
        select(Clip.duration_s, Clip.language, Clip.speaker_group).where(
            Clip.status == ClipStatus.COLLECTED, Clip.project == terms.project, Clip.id.not_in(gold)
        )
    ).all()
    cost, audio_s = Decimal("0.00"), 0.0
    by_language: dict[str, int] = defaultdict(int)
    for duration_s, language, group in rows:
        cost += price_clip(duration_s, language, group, terms.card) * terms.overlap
        audio_s += duration_s
        by_language[language] += 1
    return PublishPlan(
        project=terms.project,
        clips=len(rows),
        audio_s=audio_s,
        slots=len(rows) * terms.overlap,
        overlap=terms.overlap,
        currency=terms.card.currency,
        cost=cost,
        by_language=dict(sorted(by_language.items())),
    )
