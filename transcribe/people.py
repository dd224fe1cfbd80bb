"""Looking after people over a campaign: their details, new tokens and passwords, and
deactivation (which returns every lease they hold to the queue at once)."""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.languages import language_name
from crowdscribe.storage.models import Assignment, Submission, User, WorkItem
from crowdscribe.storage.states import AssignmentState, SlotState
from transcribe.users import (
    ROLES,
    QualificationRecord,
    normalise_languages,
    normalise_roles,
    qualifications,
    set_password,
    token_digest,
)


@dataclass(frozen=True)
class PersonDetails:
    """Everything a coordinator sees about one person."""

    id: int
    name: str
    display_name: str | None
    roles: tuple[str, ...]
    languages: tuple[str, ...]
    time_zone: str | None
    active: bool
    has_password: bool
    leases_held: int
    submissions: int
    qualifications: tuple[QualificationRecord, ...]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "roles": list(self.roles),
            "languages": [{"code": code, "name": language_name(code)} for code in self.languages],
            "time_zone": self.time_zone,
            "active": self.active,
            "has_password": self.has_password,
            "leases_held": self.leases_held,
            "submissions": self.submissions,
            "qualifications": [record.to_dict() for record in self.qualifications],
        }


def user_named(session: Session, name: str) -> User:
    """The ``users`` row of that name, active or not, or NotFound naming the list command."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        names = list(session.scalars(select(User.name)))
        guesses = difflib.get_close_matches(name.strip(), names, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(guesses)}? " if guesses else ""
        raise NotFound(f"no person named {name!r}; {hint}see `crowdscribe users list`")
    return user


def person_details(session: Session, name: str) -> PersonDetails:
    """A person's details, standing per language, leases held and transcripts submitted."""
    user = user_named(session, name)
    leases = session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.user_id == user.id, Assignment.state == AssignmentState.LEASED)
    )
    submitted = session.scalar(
        select(func.count()).select_from(Submission).where(Submission.user_id == user.id)
    )
    return PersonDetails(
        id=user.id,
        name=user.name,
        display_name=user.display_name,
        roles=tuple(role for role in user.roles.split(",") if role),
        languages=tuple(code for code in user.languages.split(",") if code),
        time_zone=user.time_zone,
        active=user.active,
        has_password=user.password_hash is not None,
        leases_held=leases or 0,
        submissions=submitted or 0,
        qualifications=tuple(qualifications(session, user.id)),
    )


def inactive_names(session: Session) -> set[str]:
    """Names of everyone deactivated (``users list`` marks them)."""
    return set(session.scalars(select(User.name).where(User.active.is_(False))))


def check_time_zone(value: str) -> str:
    """An IANA time zone name (``Asia/Shanghai``), else InvalidInput with the closest names."""
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        guesses = difflib.get_close_matches(name, sorted(available_timezones()), n=3)
        hint = f"; did you mean {' or '.join(guesses)}?" if guesses else " such as Asia/Shanghai"
        raise InvalidInput(f"unknown time zone {value!r}{hint}") from None
    return name


def edit_person(
    session: Session,
    name: str,
    *,
    roles: Iterable[str] | None = None,
    languages: Iterable[str] | None = None,
    display_name: str | None = None,
    time_zone: str | None = None,
) -> PersonDetails:
    """Change what is given (roles, languages, display name, time zone) after checking all of
    it, so a refused edit changes nothing. An empty display name or time zone clears it."""
    user = user_named(session, name)
    role_set = normalise_roles(roles) if roles is not None else None
    codes = normalise_languages(languages) if languages is not None else None
    zone = check_time_zone(time_zone) if time_zone else time_zone
    if display_name is not None and len(display_name.strip()) > 128:
        raise InvalidInput("a display name must be at most 128 characters")
    if role_set is not None:
        user.roles = ",".join(role for role in ROLES if role in role_set)
    if codes is not None:
        user.languages = ",".join(codes)
    if display_name is not None:
        user.display_name = display_name.strip() or None
    if time_zone is not None:
        user.time_zone = zone or None
    session.flush()
    return person_details(session, user.name)


def reset_token(session: Session, name: str) -> str:
    """Give a person a new API token, returned once; the old one stops working."""
    user = user_named(session, name)
    token = secrets.token_urlsafe(32)
    user.token_digest = token_digest(token)
    session.flush()
    return token


def set_password_for(session: Session, name: str, password: str) -> None:
    """Set a person's web sign-in password."""
    set_password(session, user_named(session, name).id, password)


def deactivate(session: Session, name: str, now: datetime) -> int:
    """Stop a person's access (token and session alike) and put every clip they hold back in
    the queue for someone else; returns how many leases went back. Their records stay."""
    user = user_named(session, name)
    if not user.active:
        raise Conflict(f"{user.name} is already deactivated")
    user.active = False
    now = utc_now(now)
    held = select(Assignment.id).where(
        Assignment.user_id == user.id, Assignment.state == AssignmentState.LEASED
    )
    session.execute(
        update(WorkItem)
        .where(WorkItem.assignment_id.in_(held), WorkItem.state == SlotState.LEASED)
        .values(state=SlotState.OPEN, assignment_id=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    returned = session.execute(
        update(Assignment)
        .where(Assignment.user_id == user.id, Assignment.state == AssignmentState.LEASED)
        .values(state=AssignmentState.EXPIRED, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.flush()
    return returned or 0


def reactivate(session: Session, name: str) -> None:
    """Let a deactivated person sign in again (with the token and password they had)."""
    user = user_named(session, name)
    if user.active:
        raise Conflict(f"{user.name} is already active")
    user.active = True
    session.flush()
