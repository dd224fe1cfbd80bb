"""Standing among peers: weekly and monthly rankings per language by earnings and accuracy, and
teams whose leader invites members and follows their work.

Privacy: a person appears on a leaderboard (under the display name they chose) only after
opting in; nobody else's money is shown otherwise. Joining a team is consent for its leader to
see one's clips, accuracy and earnings; the team ranking shows no money at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, LedgerEntry, Submission, Team, TeamMember, User
from crowdscribe.storage.states import SubmissionStatus
from transcribe.tracked_error import tracked_error_rate

PERIODS = ("week", "month")
MAX_NAME_CHARS = 32
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PersonTotals:
    """One person's work in a language over a period."""

    user_id: int
    name: str
    clips: int
    earned: Decimal
    currency: str | None
    error_rate: float | None

    @property
    def accuracy(self) -> float | None:
        """1 - mean error rate against final texts, or None when nothing was checked yet."""
        return None if self.error_rate is None else max(0.0, 1.0 - self.error_rate)


@dataclass(frozen=True)
class Ranked:
    """A place in a ranking."""

    rank: int
    totals: PersonTotals

    def to_dict(self) -> dict:
        totals = self.totals
        return {
            "rank": self.rank,
            "name": totals.name,
            "clips": totals.clips,
            "earned": str(totals.earned),
            "currency": totals.currency,
            "accuracy": totals.accuracy,
        }


@dataclass(frozen=True)
class Leaderboard:
    """The opted-in people ranked, and where the viewer stands (shown only to them)."""

    language: str
    period: str
    since: datetime
    rows: tuple[Ranked, ...]
    viewer: Ranked | None

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "period": self.period,
            "since": self.since.isoformat(),
            "rows": [row.to_dict() for row in self.rows],
            "you": None if self.viewer is None else self.viewer.to_dict(),
        }


def period_start(period: str, now: datetime, zone: tzinfo) -> datetime:
    """Start of the current week (Monday) or month at midnight in ``zone`` (the reader's), as
    UTC: for Asia/Shanghai a week starts at 16:00 UTC on Sunday."""
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    day = moment.astimezone(zone).date()
    first = day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)
    # Built from the date, not by subtracting days from a datetime: a DST change in between
    # moves the offset, and midnight must stay midnight.
    return datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)


def rank(totals: list[PersonTotals]) -> list[Ranked]:
    """Ranked by earnings, then accuracy, then clips; equal figures share a place."""

    def key(t: PersonTotals) -> tuple:
        return (-t.earned, -(t.accuracy or 0.0), -t.clips)

    ordered = sorted(totals, key=lambda t: (*key(t), t.name))
    ranked: list[Ranked] = []
    for index, totals_row in enumerate(ordered):
        same = ranked and key(ranked[-1].totals) == key(totals_row)
        ranked.append(Ranked(ranked[-1].rank if same else index + 1, totals_row))
    return ranked


def person_totals(
    session: Session, user_ids: list[int] | None, language: str | None, since: datetime
) -> dict[int, PersonTotals]:
    """Clips, earnings and mean error per person (all, or ``user_ids``) since ``since``."""
    earned = (
        select(LedgerEntry.user_id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .join(Clip, Clip.id == LedgerEntry.clip_id)
        .where(LedgerEntry.created_at >= since)
        .group_by(LedgerEntry.user_id, LedgerEntry.currency)
    )
    work = (
        select(
            Submission.user_id,
            func.count(Submission.id),
            func.avg(tracked_error_rate()),
        )
        .join(Clip, Clip.id == Submission.clip_id)
        .where(Submission.created_at >= since, Submission.status == SubmissionStatus.COUNTED)
        .group_by(Submission.user_id)
    )
    if language is not None:
        earned = earned.where(Clip.language == language)
        work = work.where(Clip.language == language)
    if user_ids is not None:
        earned = earned.where(LedgerEntry.user_id.in_(user_ids))
        work = work.where(Submission.user_id.in_(user_ids))
    money: dict[int, tuple[str, Decimal]] = {}
    for user_id, currency, amount in session.execute(earned):
        if user_id not in money or Decimal(amount) > money[user_id][1]:
            money[user_id] = (currency, Decimal(amount).quantize(Decimal("0.01")))
    counts = {user_id: (count, rate) for user_id, count, rate in session.execute(work)}
    ids = set(money) | set(counts)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    totals = {}
    for user_id in ids:
        clips, rate = counts.get(user_id, (0, None))
        currency, amount = money.get(user_id, (None, ZERO))
        error_rate = None if rate is None else float(rate)
        totals[user_id] = PersonTotals(user_id, names[user_id], clips, amount, currency, error_rate)
    return totals


def leaderboard(
    session: Session,
    *,
    language: str,
    period: str,
    now: datetime,
    viewer_id: int | None = None,
    zone: tzinfo,
) -> Leaderboard:
    """The ranking of opted-in people in ``language`` this week or month (begun at midnight in
    ``zone``, the reader's); the viewer's own place is added for them alone when they have not
    opted in."""
    since = period_start(period, now, zone)
    shown = dict(
        session.execute(
            select(User.id, User.display_name).where(User.on_leaderboard.is_(True))
        ).all()
    )
    wanted = [*shown, *([viewer_id] if viewer_id is not None else [])]
    totals = person_totals(session, wanted, language.strip().lower(), since)
    public = [
        PersonTotals(
            t.user_id, shown[t.user_id] or t.name, t.clips, t.earned, t.currency, t.error_rate
        )
        for t in totals.values()
        if t.user_id in shown
    ]
    rows = rank(public)
    viewer = next((row for row in rows if row.totals.user_id == viewer_id), None)
    if viewer is None and viewer_id in totals:
        with_viewer = rank([*public, totals[viewer_id]])
        viewer = next(row for row in with_viewer if row.totals.user_id == viewer_id)
    return Leaderboard(language, period, since, tuple(rows), viewer)


def set_leaderboard_choice(
    session: Session, user_id: int, *, show: bool, display_name: str | None
) -> None:
    """Opt in (with a display name, the account name if none) or out of the leaderboards."""
    name = (display_name or "").strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Keep the display name to {MAX_NAME_CHARS} characters.")
    user = session.get(User, user_id)
    user.on_leaderboard = show
    user.display_name = name or None
    session.flush()


@dataclass(frozen=True)
class TeamView:
    """A team as one person sees it: the leader also sees the invite code and each member."""

    id: int
    name: str
    leader: str
    is_leader: bool
    invite_code: str | None
    members: tuple[PersonTotals, ...]  # empty unless the viewer leads the team
    member_count: int

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "leader": self.leader,
            "is_leader": self.is_leader,
            "invite_code": self.invite_code,
            "member_count": self.member_count,
            "members": [
                {
                    "name": m.name,
                    "clips": m.clips,
                    "earned": str(m.earned),
                    "currency": m.currency,
                    "accuracy": m.accuracy,
                }
                for m in self.members
            ],
        }


def _membership(session: Session, user_id: int) -> TeamMember | None:
    return session.scalar(select(TeamMember).where(TeamMember.user_id == user_id))


def create_team(session: Session, leader_id: int, name: str, now: datetime) -> Team:
    """A new team led by ``leader_id`` (who becomes its first member), with an invite code."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Give the team a name of 1 to {MAX_NAME_CHARS} characters.")
    if _membership(session, leader_id) is not None:
        raise Conflict("You are already in a team; leave it before starting another.")
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict(f"A team called {name} already exists; choose another name.")
    team = Team(
        name=name, leader_id=leader_id, invite_code=secrets.token_urlsafe(9), created_at=now
    )
    session.add(team)
    session.flush()
    session.add(TeamMember(team_id=team.id, user_id=leader_id, joined_at=now))
    session.flush()
    return team


def join_team(session: Session, user_id: int, invite_code: str, now: datetime) -> Team:
    """Join the team whose invite code this is; its leader then sees one's work and pay."""
    team = session.scalar(select(Team).where(Team.invite_code == invite_code.strip()))
    if team is None:
        raise NotFound("That invite code belongs to no team; ask the leader for a new link.")
    if _membership(session, user_id) is not None:
        raise Conflict("You are already in a team; leave it before joining another.")
    session.add(TeamMember(team_id=team.id, user_id=user_id, joined_at=now))
    session.flush()
    return team


def leave_team(session: Session, user_id: int) -> None:
    """Leave one's team; the leader cannot leave the team they lead."""
    membership = _membership(session, user_id)
    if membership is None:
        raise NotFound("You are not in a team.")
    team = session.get(Team, membership.team_id)
    if team.leader_id == user_id:
        raise Forbidden("A leader cannot leave their own team.")
    session.delete(membership)
    session.flush()


def team_view(
    session: Session, user_id: int, *, period: str, now: datetime, zone: tzinfo
) -> TeamView | None:
    """The viewer's team, with members' figures for the period (begun at midnight in ``zone``)
    if the viewer leads it."""
    membership = _membership(session, user_id)
    if membership is None:
        return None
    team = session.get(Team, membership.team_id)
    member_ids = list(
        session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
    )
    is_leader = team.leader_id == user_id
    members: tuple[PersonTotals, ...] = ()
    if is_leader:
        totals = person_totals(session, member_ids, None, period_start(period, now, zone))
        names = dict(
            session.execute(select(User.id, User.name).where(User.id.in_(member_ids))).all()
        )
        members = tuple(
            totals.get(uid, PersonTotals(uid, names[uid], 0, ZERO, None, None))
            for uid in sorted(member_ids, key=lambda uid: names[uid])
        )
    return TeamView(
        id=team.id,
        name=team.name,
        leader=session.get(User, team.leader_id).name,
        is_leader=is_leader,
        invite_code=team.invite_code if is_leader else None,
        members=members,
        member_count=len(member_ids),
    )


@dataclass(frozen=True)
class TeamRow:
    """A team's place in the ranking: work done and accuracy, never money."""

    rank: int
    name: str
    members: int
    clips: int
    accuracy: float | None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "name": self.name,
            "members": self.members,
            "clips": self.clips,
            "accuracy": self.accuracy,
        }


def team_ranking(
    session: Session,
    *,
    period: str,
    now: datetime,
    language: str | None = None,
    zone: tzinfo,
) -> list[TeamRow]:
    """Teams ranked by clips transcribed in the period (begun at midnight in ``zone``), then
    accuracy."""
    since = period_start(period, now, zone)
    members: dict[int, list[int]] = {}
    for team_id, user_id in session.execute(select(TeamMember.team_id, TeamMember.user_id)):
        members.setdefault(team_id, []).append(user_id)
    totals = person_totals(session, None, language, since)
    scored = []
    for team in session.scalars(select(Team)):
        rows = [totals[uid] for uid in members.get(team.id, []) if uid in totals]
        clips = sum(row.clips for row in rows)
        checked = [row.accuracy for row in rows if row.accuracy is not None]
        accuracy = sum(checked) / len(checked) if checked else None
        scored.append((team.name, len(members.get(team.id, [])), clips, accuracy))
    scored.sort(key=lambda t: (-t[2], -(t[3] or 0.0), t[0]))
    return [TeamRow(i + 1, *row) for i, row in enumerate(scored)]
