"""Where a campaign stands, for the coordinator's dashboard and ``crowdscribe status``: clips by
state, progress and throughput per day, spend against budget with a projection to the end,
agreement and disputes per language, the reviewers' backlog and paused people.

``read_campaign`` reads the facts from the database; ``campaign_status`` turns them into the
figures with no database and no clock, so both pages and the CLI show the same numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc
from crowdscribe.storage.models import Clip, Dispute, LedgerEntry, Submission
from crowdscribe.storage.states import ClipStatus, DisputeState, SubmissionStatus
from review.progress import paused_people
from transcribe.pricing import CENT, RateCard, price_clip
from transcribe.projects import project_budgets
from transcribe.stuck import stuck_clips

FINAL_STATUSES = (ClipStatus.AGREED, ClipStatus.RESOLVED, ClipStatus.UNUSABLE)
# Days shown in the per-day figures, and the days whose spend sets the projection's pace.
DAYS_SHOWN = 14
PACE_DAYS = 7


class DayProgress(NamedTuple):
    """Clips final by the end of ``day``."""

    day: date
    final_clips: int


class DayThroughput(NamedTuple):
    """Transcripts submitted on ``day`` and the minutes of audio they covered."""

    day: date
    transcripts: int
    audio_min: float


class DaySpend(NamedTuple):
    """Money committed by the end of ``day``."""

    day: date
    spent: Decimal


@dataclass(frozen=True)
class ClipFact:
    """What the figures need of one clip."""

    project: str
    language: str
    speaker_group: str
    status: str
    duration_s: float
    price: Decimal | None
    overlap: int | None
    counted: int
    created_at: datetime
    decided_at: datetime | None
    agreement_error: float | None
    disputed: bool


@dataclass(frozen=True)
class CampaignFacts:
    """Rows read from the database, as plain values."""

    clips: list[ClipFact]
    spend: list[tuple[str, str, Decimal, datetime]]  # project, currency, amount, created_at
    submissions: list[tuple[datetime, float]]  # created_at, clip duration_s
    open_disputes: list[tuple[str, datetime]]  # language, created_at
    paused: list[dict[str, Any]]
    stuck: list[dict[str, Any]] = field(default_factory=list)  # transcribe.stuck.stuck_clips


@dataclass(frozen=True)
class Spend:
    """Money committed in one project and currency, the budget, and where it is heading."""

    project: str
    currency: str
    spent: Decimal
    remaining_cost: Decimal
    projected_total: Decimal
    budget: Decimal | None
    per_day: Decimal
    projected_end: date | None
    cumulative: list[DaySpend]

    @property
    def over_budget(self) -> bool:
        """Whether the projection ends above the budget."""
        return self.budget is not None and self.projected_total > self.budget


@dataclass(frozen=True)
class LanguageQuality:
    """Agreement without review, and disputes, among a language's clips that got that far."""

    language: str
    decided: int
    agreed: int
    disputed: int
    agreement_rate: float | None
    dispute_rate: float | None
    mean_agreement_error: float | None


@dataclass(frozen=True)
class CampaignStatus:
    """Every figure of the dashboard."""

    as_of: datetime
    clips_by_state: dict[str, int]
    audio_hours: float
    final_hours: float
    progress: list[DayProgress]
    throughput: list[DayThroughput]
    spend: list[Spend]
    languages: list[LanguageQuality]
    backlog_open: int
    backlog_oldest_h: float | None
    backlog_by_language: dict[str, int]
    paused: list[dict[str, Any]] = field(default_factory=list)
    # Clips no one will finish (withdrawn, or published with nobody left to take them), by kind.
    stuck_by_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values: money as strings, days as ISO dates."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return _plain(value._asdict())
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def days_until(now: datetime, days: int = DAYS_SHOWN) -> list[date]:
    """The last ``days`` UTC days up to and including today."""
    today = as_utc(now).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def progress_by_day(clips: list[ClipFact], days: list[date]) -> list[DayProgress]:
    """Final clips (agreed, resolved or unusable) by the end of each day."""
    decided = Counter(
        as_utc(clip.decided_at).date()
        for clip in clips
        if clip.status in FINAL_STATUSES and clip.decided_at is not None
    )
    before = sum(count for day, count in decided.items() if day < days[0])
    points = []
    for day in days:
        before += decided.get(day, 0)
        points.append(DayProgress(day, before))
    return points


def throughput_by_day(
    submissions: list[tuple[datetime, float]], days: list[date]
) -> list[DayThroughput]:
    """Transcripts submitted and minutes of audio they covered, per day."""
    count: Counter[date] = Counter()
    minutes: dict[date, float] = defaultdict(float)
    for created_at, duration_s in submissions:
        day = as_utc(created_at).date()
        count[day] += 1
        minutes[day] += duration_s / 60
    return [DayThroughput(day, count.get(day, 0), minutes.get(day, 0.0)) for day in days]


def remaining_cost(clip: ClipFact, card: RateCard, default_overlap: int) -> tuple[Decimal, int]:
    """What a clip's transcriptions still to come will cost, and how many there are: published
    clips' open slots at their price; collected clips at the card's price and default overlap."""
    if clip.status == ClipStatus.PUBLISHED and clip.price is not None:
        slots = max((clip.overlap or default_overlap) - clip.counted, 0)
        return Decimal(clip.price) * slots, slots
    if clip.status in (ClipStatus.COLLECTED, ClipStatus.HELD):
        price = price_clip(clip.duration_s, clip.language, clip.speaker_group, card)
        return price * default_overlap, default_overlap
    return Decimal(0), 0


def spend_status(
    facts: CampaignFacts,
    *,
    budgets: dict[tuple[str, str], Decimal],
    card: RateCard,
    default_overlap: int,
    days: list[date],
) -> list[Spend]:
    """Spend per project and currency against its budget, projected to the end at the pace of
    the last ``PACE_DAYS`` days."""
    spent: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    by_day: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for project, currency, amount, created_at in facts.spend:
        spent[(project, currency)] += Decimal(amount)
        by_day[(project, currency)][as_utc(created_at).date()] += Decimal(amount)
    remaining: dict[str, Decimal] = defaultdict(Decimal)
    for clip in facts.clips:
        remaining[clip.project] += remaining_cost(clip, card, default_overlap)[0]
    keys = set(spent) | {(project, card.currency) for project in remaining if remaining[project]}
    result = []
    for project, currency in sorted(keys):
        total = spent[(project, currency)]
        daily = by_day[(project, currency)]
        left = remaining[project] if currency == card.currency else Decimal(0)
        recent = sum((daily.get(day, Decimal(0)) for day in days[-PACE_DAYS:]), Decimal(0))
        per_day = recent / PACE_DAYS
        end = None
        if left == 0:
            end = days[-1]
        elif per_day > 0:
            end = days[-1] + timedelta(days=int((left / per_day).to_integral_value()) + 1)
        running = sum((a for day, a in daily.items() if day < days[0]), Decimal(0))
        cumulative = []
        for day in days:
            running += daily.get(day, Decimal(0))
            cumulative.append(DaySpend(day, _cents(running)))
        result.append(
            Spend(
                project=project,
                currency=currency,
                spent=_cents(total),
                remaining_cost=_cents(left),
                projected_total=_cents(total + left),
                budget=budgets.get((project, currency)),
                per_day=_cents(per_day),
                projected_end=end,
                cumulative=cumulative,
            )
        )
    return result


def language_quality(clips: list[ClipFact]) -> list[LanguageQuality]:
    """Per language: of clips that reached agreement or a dispute, the share agreed without
    review and the share disputed, and the mean agreement error of the agreed."""
    rows = []
    by_language: dict[str, list[ClipFact]] = defaultdict(list)
    for clip in clips:
        by_language[clip.language].append(clip)
    for language, members in sorted(by_language.items()):
        agreed = [c for c in members if c.status == ClipStatus.AGREED and not c.disputed]
        disputed = [c for c in members if c.disputed]
        decided = len(agreed) + len(disputed)
        errors = [c.agreement_error for c in agreed if c.agreement_error is not None]
        rows.append(
            LanguageQuality(
                language=language,
                decided=decided,
                agreed=len(agreed),
                disputed=len(disputed),
                agreement_rate=len(agreed) / decided if decided else None,
                dispute_rate=len(disputed) / decided if decided else None,
                mean_agreement_error=sum(errors) / len(errors) if errors else None,
            )
        )
    return rows


def campaign_status(
    facts: CampaignFacts,
    *,
    now: datetime,
    budgets: dict[tuple[str, str], Decimal],
    card: RateCard,
    default_overlap: int,
) -> CampaignStatus:
    """All the dashboard's figures from ``facts`` as of ``now``; ``budgets`` by (project,
    currency)."""
    days = days_until(now)
    states = Counter(clip.status for clip in facts.clips)
    ordered = {s: states[s] for s in ClipStatus if states[s]}
    ordered.update({s: n for s, n in sorted(states.items()) if s not in ordered})
    oldest = min((created for _language, created in facts.open_disputes), default=None)
    return CampaignStatus(
        as_of=as_utc(now),
        clips_by_state=ordered,
        audio_hours=sum(clip.duration_s for clip in facts.clips) / 3600,
        final_hours=sum(c.duration_s for c in facts.clips if c.status in FINAL_STATUSES) / 3600,
        progress=progress_by_day(facts.clips, days),
        throughput=throughput_by_day(facts.submissions, days),
        spend=spend_status(
            facts, budgets=budgets, card=card, default_overlap=default_overlap, days=days
        ),
        languages=language_quality(facts.clips),
        backlog_open=len(facts.open_disputes),
        backlog_oldest_h=(
            (as_utc(now) - as_utc(oldest)).total_seconds() / 3600 if oldest else None
        ),
        backlog_by_language=dict(sorted(Counter(lang for lang, _ in facts.open_disputes).items())),
        paused=facts.paused,
        stuck_by_kind=dict(sorted(Counter(row["kind"] for row in facts.stuck).items())),
    )


def read_campaign(session: Session, since: datetime, now: datetime) -> CampaignFacts:
    """The facts ``campaign_status`` needs as of ``now``; submissions from ``since`` on (the
    days shown)."""
    counted = (
        select(Submission.clip_id, func.count().label("n"))
        .where(Submission.status == SubmissionStatus.COUNTED, Submission.is_gold.is_(False))
        .group_by(Submission.clip_id)
        .subquery()
    )
    disputed = select(Dispute.clip_id).subquery()
    clips = [
        ClipFact(*row[:7], row[7] or 0, *row[8:11], row[11] is not None)
        for row in session.execute(
            select(
                Clip.project,
                Clip.language,
                Clip.speaker_group,
                Clip.status,
                Clip.duration_s,
                Clip.price,
                Clip.overlap,
                counted.c.n,
                Clip.created_at,
                Clip.decided_at,
                Clip.agreement_error,
                disputed.c.clip_id,
            )
            .outerjoin(counted, counted.c.clip_id == Clip.id)
            .outerjoin(disputed, disputed.c.clip_id == Clip.id)
        )
    ]
    spend = [
        tuple(row)
        for row in session.execute(
            select(
                Clip.project, LedgerEntry.currency, LedgerEntry.amount, LedgerEntry.created_at
            ).join(Clip, Clip.id == LedgerEntry.clip_id)
        )
    ]
    submissions = [
        tuple(row)
        for row in session.execute(
            select(Submission.created_at, Clip.duration_s)
            .join(Clip, Clip.id == Submission.clip_id)
            .where(Submission.created_at >= since, Submission.is_gold.is_(False))
        )
    ]
    open_disputes = [
        tuple(row)
        for row in session.execute(
            select(Clip.language, Dispute.created_at)
            .join(Clip, Clip.id == Dispute.clip_id)
            .where(Dispute.state == DisputeState.OPEN)
        )
    ]
    stuck = [clip.to_dict() for clip in stuck_clips(session, now)]
    return CampaignFacts(clips, spend, submissions, open_disputes, paused_people(session), stuck)


def status_of_campaign(
    session: Session,
    *,
    now: datetime,
    card: RateCard,
    default_overlap: int,
) -> CampaignStatus:
    """``read_campaign`` then ``campaign_status`` against the projects' budgets: what the page
    and the CLI call."""
    since = datetime.combine(days_until(now)[0], datetime.min.time(), tzinfo=as_utc(now).tzinfo)
    return campaign_status(
        read_campaign(session, since, now),
        now=now,
        budgets=project_budgets(session, card.currency),
        card=card,
        default_overlap=default_overlap,
    )
