"""Projects: a campaign's name, overlap, rate card and overrides, agreement policy, deadline,
budget and time zone. Every command naming a project refuses names that are not here."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.languages import check_language, check_speaker_group
from crowdscribe.settings import MIN_DECIDING_OVERLAP
from crowdscribe.storage.models import Clip, Project, Recording
from transcribe.people import check_time_zone
from transcribe.pricing import ANY, CENT, Rate, RateCard, load_rate_card

# Scripts a project's exported Chinese text may be written in (review.export converts to them).
CHINESE_SCRIPTS = ("simplified", "traditional")
PROJECT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Collecting without --project files clips here; it is created on first use.
DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class ProjectRecord:
    """One project as stored; ``budget`` in ``budget_currency`` (exact), deadline in UTC."""

    name: str
    overlap: int
    rates_file: str | None
    rate_overrides: tuple[Rate, ...]
    policy_file: str | None
    deadline: datetime | None
    budget: Decimal | None
    budget_currency: str | None
    time_zone: str
    script: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "overlap": self.overlap,
            "rates_file": self.rates_file,
            "rate_overrides": [rate.to_dict() for rate in self.rate_overrides],
            "policy_file": self.policy_file,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "budget": None if self.budget is None else str(self.budget.quantize(CENT)),
            "budget_currency": self.budget_currency,
            "time_zone": self.time_zone,
            "script": self.script,
        }

    def rate_card(self, default_rates_file: Path | None) -> RateCard:
        """The card this project prices with: its own file (else the settings' one), with its
        overrides taking precedence over the card's rate for the same language and group."""
        card = load_rate_card(Path(self.rates_file) if self.rates_file else default_rates_file)
        if not self.rate_overrides:
            return card
        keys = {(rate.language, rate.speaker_group) for rate in self.rate_overrides}
        kept = tuple(r for r in card.rates if (r.language, r.speaker_group) not in keys)
        return replace(card, rates=self.rate_overrides + kept)


def parse_rate_override(text: str) -> Rate:
    """``LANGUAGE[:GROUP]=AMOUNT[/MINUTES]`` (``yue:child=9/3``: 9 per 3 minutes), checked."""
    key, sep, price = text.partition("=")
    if not sep:
        raise InvalidInput(f"rate {text!r} must look like yue:child=9/3 (amount per minutes)")
    language, _, group = key.partition(":")
    amount, _, minutes = price.partition("/")
    try:
        amount_value, minutes_value = Decimal(amount.strip()), Decimal(minutes.strip() or "1")
    except InvalidOperation:
        raise InvalidInput(f"rate {text!r}: amount and minutes must be numbers") from None
    if not amount_value.is_finite() or amount_value < 0 or minutes_value <= 0:
        raise InvalidInput(f"rate {text!r}: amount must be 0 or more, minutes more than 0")
    return Rate(
        check_language(language),
        check_speaker_group(group) if group.strip() not in ("", ANY) else ANY,
        amount_value,
        minutes_value,
    )


def _record(row: Project) -> ProjectRecord:
    overrides = tuple(
        Rate(r["language"], r["speaker_group"], Decimal(r["amount"]), Decimal(r["minutes"]))
        for r in row.rate_overrides or ()
    )
    return ProjectRecord(
        name=row.name,
        overlap=row.overlap,
        rates_file=row.rates_file,
        rate_overrides=overrides,
        policy_file=row.policy_file,
        deadline=row.deadline,
        budget=None if row.budget is None else Decimal(row.budget),
        budget_currency=row.budget_currency,
        time_zone=row.time_zone,
        script=row.script,
    )


def create_project(
    session: Session,
    name: str,
    *,
    overlap: int,
    max_overlap: int,
    rates_file: Path | None = None,
    rate_overrides: tuple[Rate, ...] = (),
    policy_file: Path | None = None,
    deadline: datetime | None = None,
    budget: Decimal | None = None,
    budget_currency: str | None = None,
    time_zone: str = "UTC",
    script: str | None = None,
) -> ProjectRecord:
    """Add a project after checking every field (files must exist and load; the agreement
    policy's values are checked by review.project_policies.check_policy_file before this)."""
    if not PROJECT_PATTERN.fullmatch(name):
        raise InvalidInput(
            f"project {name!r} must be letters, digits, '-', '_' or '.' (at most 64)"
        )
    _check_fields(overlap, max_overlap, budget, script, rates_file, policy_file)
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"project {name!r} already exists; see `crowdscribe projects show {name}`")
    row = Project(
        name=name,
        overlap=overlap,
        rates_file=str(Path(rates_file).resolve()) if rates_file else None,
        rate_overrides=[_stored_rate(rate) for rate in rate_overrides] or None,
        policy_file=str(Path(policy_file).resolve()) if policy_file else None,
        deadline=deadline,
        budget=budget,
        budget_currency=budget_currency.upper() if budget_currency else None,
        time_zone=check_time_zone(time_zone),
        script=script,
    )
    session.add(row)
    session.flush()
    return _record(row)


def _check_fields(
    overlap: int | None,
    max_overlap: int,
    budget: Decimal | None,
    script: str | None,
    rates_file: Path | None,
    policy_file: Path | None,
) -> None:
    if overlap is not None:
        check_overlap(overlap, max_overlap)
    if budget is not None and (not budget.is_finite() or budget < 0):
        raise InvalidInput(f"a budget must be 0 or more, not {budget}")
    if script is not None and script not in CHINESE_SCRIPTS:
        raise InvalidInput(f"script must be one of {', '.join(CHINESE_SCRIPTS)}, not {script!r}")
    for path in (rates_file, policy_file):
        if path is not None and not Path(path).is_file():
            raise NotFound(f"{path} does not exist")
    if rates_file is not None:
        load_rate_card(Path(rates_file))


def edit_project(
    session: Session,
    name: str,
    *,
    max_overlap: int,
    overlap: int | None = None,
    rates_file: Path | None = None,
    rate_overrides: tuple[Rate, ...] = (),
    policy_file: Path | None = None,
    deadline: datetime | None = None,
    budget: Decimal | None = None,
    budget_currency: str | None = None,
    time_zone: str | None = None,
    script: str | None = None,
) -> ProjectRecord:
    """Change the fields given (None: unchanged), all checked before any is stored. A rate
    override replaces the project's override for the same language and group. Clips already
    published keep their price; the new overlap and rates apply to the next dispatch."""
    _check_fields(overlap, max_overlap, budget, script, rates_file, policy_file)
    zone = check_time_zone(time_zone) if time_zone is not None else None
    get_project(session, name)  # refuses an unknown name with the closest ones
    row = session.scalar(select(Project).where(Project.name == name))
    if overlap is not None:
        row.overlap = overlap
    if rates_file is not None:
        row.rates_file = str(Path(rates_file).resolve())
    if rate_overrides:
        keys = {(rate.language, rate.speaker_group) for rate in rate_overrides}
        kept = [
            r for r in row.rate_overrides or () if (r["language"], r["speaker_group"]) not in keys
        ]
        row.rate_overrides = [_stored_rate(rate) for rate in rate_overrides] + kept
    if policy_file is not None:
        row.policy_file = str(Path(policy_file).resolve())
    if deadline is not None:
        row.deadline = deadline
    if budget is not None:
        row.budget = budget
    if budget_currency is not None:
        row.budget_currency = budget_currency.upper()
    if zone is not None:
        row.time_zone = zone
    if script is not None:
        row.script = script
    session.flush()
    return _record(row)


def _stored_rate(rate: Rate) -> dict[str, str]:
    return {
        "language": rate.language,
        "speaker_group": rate.speaker_group,
        "amount": str(rate.amount),
        "minutes": str(rate.minutes),
    }


def check_overlap(overlap: int, max_overlap: int) -> int:
    """``overlap`` if it is 1 to ``max_overlap`` independent transcriptions and the limit lets
    two of them agree, else InvalidInput: a project whose clips can never reach an agreeing
    majority would pay for every clip and send all of them to a reviewer."""
    if max_overlap < MIN_DECIDING_OVERLAP:
        raise InvalidInput(
            f"an overlap limit of {max_overlap} can never decide a clip: agreement needs "
            f"{MIN_DECIDING_OVERLAP} transcripts that agree (raise CROWDSCRIBE_MAX_OVERLAP)"
        )
    if not 1 <= overlap <= max_overlap:
        raise InvalidInput(f"overlap must be between 1 and {max_overlap}, not {overlap}")
    return overlap


def list_projects(session: Session) -> list[ProjectRecord]:
    """Every project by name."""
    return [_record(row) for row in session.scalars(select(Project).order_by(Project.name))]


def project_budgets(session: Session, card_currency: str) -> dict[tuple[str, str], Decimal]:
    """Each budgeted project's budget, by (project, currency); a budget stored without a
    currency is in the card's."""
    rows = session.execute(
        select(Project.name, Project.budget, Project.budget_currency).where(
            Project.budget.is_not(None)
        )
    )
    return {
        (name, currency or card_currency): Decimal(budget).quantize(CENT)
        for name, budget, currency in rows
    }


def find_project(session: Session, name: str) -> ProjectRecord | None:
    """The project of that name, or None (flows and scripts may name clips' projects freely)."""
    row = session.scalar(select(Project).where(Project.name == name))
    return None if row is None else _record(row)


def get_project(session: Session, name: str) -> ProjectRecord:
    """The project of that name; NotFound with the closest names otherwise. ``default`` is
    created on first use, so collecting without --project always has somewhere to go, and so
    is a name clips were stored under without a record (by a flow run directly)."""
    row = session.scalar(select(Project).where(Project.name == name))
    if row is None and (name == DEFAULT_PROJECT or _named_by_clips(session, name)):
        row = Project(name=name, overlap=2, time_zone="UTC")
        session.add(row)
        session.flush()
    if row is None:
        known = list(session.scalars(select(Project.name).order_by(Project.name)))
        guesses = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(guesses)}? " if guesses else ""
        raise NotFound(
            f"no project named {name!r}; {hint}create it with "
            f"`crowdscribe projects create {name}` or see `crowdscribe projects list`"
        )
    return _record(row)


def _named_by_clips(session: Session, name: str) -> bool:
    used = select(Recording.id).where(Recording.project == name).limit(1)
    return (
        session.scalar(used) is not None
        or session.scalar(select(Clip.id).where(Clip.project == name).limit(1)) is not None
    )
