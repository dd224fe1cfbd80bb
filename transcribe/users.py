"""People and access: roles, languages, API tokens, passwords and language qualifications.

Tokens are random 256-bit strings shown once; only their SHA-256 digest is stored (indexed, so a
request is authenticated with one lookup). Passwords are stored only as argon2 hashes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, bindparam, literal, select
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.languages import check_languages
from crowdscribe.storage.models import Qualification, User
from crowdscribe.storage.states import QualificationStatus

ROLES = ("coordinator", "transcriber", "reviewer")
QUALIFIED = QualificationStatus.QUALIFIED
PAUSED = QualificationStatus.PAUSED

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong
    password. Made on first use: hashing is slow on purpose and every command imports us."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Person:
    """Who is acting: id, unique name, roles and the languages they work in."""

    id: int
    name: str
    roles: frozenset[str]
    languages: tuple[str, ...]
    locale: str | None = None  # saved reading language; None: the browser's
    time_zone: str | None = None  # saved IANA zone; None: the project's default

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class QualificationRecord:
    """A person's standing in one language: ``qualified``, or ``paused`` with a reason."""

    language: str
    status: str
    reason: str | None
    since: datetime

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
            "since": self.since.isoformat(),
        }


def token_digest(token: str) -> str:
    """The stored form of an API token: SHA-256 hex (tokens carry 256 bits, so no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """Registered language codes, de-duplicated in order; commas inside are split, and anything
    not in the registry (``crowdscribe.languages``) is refused with a "did you mean" hint."""
    return check_languages(languages)


def normalise_roles(roles: Iterable[str]) -> frozenset[str]:
    """Roles from a list that may hold comma lists; refuses anything not in ``ROLES``."""
    found = {role.strip().lower() for item in roles for role in str(item).split(",")}
    found.discard("")
    unknown = sorted(found - set(ROLES))
    if unknown:
        raise InvalidInput(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLES)}")
    if not found:
        raise InvalidInput(f"a person needs at least one role: {', '.join(ROLES)}")
    return frozenset(found)


def person_from_row(user: User) -> Person:
    """The ``Person`` record for a ``users`` row (or a row of its id, name, roles, languages,
    locale and time zone)."""
    return Person(
        id=user.id,
        name=user.name,
        roles=frozenset(role for role in user.roles.split(",") if role),
        languages=tuple(code for code in user.languages.split(",") if code),
        locale=user.locale,
        time_zone=user.time_zone,
    )


def create_user(
    session: Session,
    name: str,
    roles: Iterable[str],
    languages: Iterable[str],
    qualified: Iterable[str] = (),
    password: str | None = None,
) -> tuple[Person, str]:
    """Add a person and return them with their API token; the token is never retrievable again."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInput("a name must be 1 to 64 characters")
    role_set = normalise_roles(roles)
    codes = normalise_languages(languages)
    qualified_codes = normalise_languages(qualified)
    outside = [code for code in qualified_codes if code not in codes]
    if outside:
        raise InvalidInput(
            f"cannot qualify {name} in {', '.join(outside)}: not among their languages "
            f"({', '.join(codes) or 'none'}); add it with --languages"
        )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"a person named {name!r} already exists; pick another name")
    token = secrets.token_urlsafe(32)
    user = User(
        name=name,
        roles=",".join(role for role in ROLES if role in role_set),
        languages=",".join(codes),
        password_hash=_hasher.hash(password) if password else None,
        token_digest=token_digest(token),
        active=True,
    )
    session.add(user)
    session.flush()
    for code in qualified_codes:
        set_qualified(session, user.id, code)
    return person_from_row(user), token


def get_person(session: Session, user_id: int) -> Person:
    """The active person with that id, or NotFound."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"no active person with id {user_id}")
    return person_from_row(user)


def person_by_name(session: Session, name: str) -> Person:
    """The active person with that name, or NotFound naming it."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None or not user.active:
        raise NotFound(f"no active person named {name!r}; see `crowdscribe users list`")
    return person_from_row(user)


# Built once: every API request authenticates (plain columns, no ORM identity map); the web
# server on PostgreSQL sends it on its async connections (``dispatch.async_runner``).
BY_TOKEN = select(
    User.id, User.name, User.roles, User.languages, User.locale, User.time_zone
).where(User.token_digest == bindparam("p_digest"), User.active.is_(True))


def holds_role(roles: ColumnElement[str], role: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL: the comma-separated ``roles`` include ``role``, as ``Person.roles`` would (no role
    in ``ROLES`` holds a LIKE wildcard)."""
    return (literal(",") + roles + literal(",")).like(literal("%,") + role + literal(",%"))


def authenticate_token(session: Session, token: str) -> Person | None:
    """The active person holding this API token, or None: one indexed lookup by digest."""
    if not token:
        return None
    row = session.execute(BY_TOKEN, {"p_digest": token_digest(token)}).first()
    return None if row is None else person_from_row(row)


def authenticate_password(session: Session, name: str, password: str) -> Person | None:
    """The active person if the password matches; unknown names take as long as wrong passwords."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None or not user.active:
        return None
    return person_from_row(user)


def set_password(session: Session, user_id: int, password: str) -> None:
    """Replace a person's password (stored as an argon2 hash)."""
    if not password:
        raise InvalidInput("a password cannot be empty")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no person with id {user_id}")
    user.password_hash = _hasher.hash(password)


def qualified_languages(session: Session, user_id: int) -> list[str]:
    """Languages the person may do paid work in now (qualified, not paused), sorted."""
    rows = session.scalars(
        select(Qualification.language).where(
            Qualification.user_id == user_id, Qualification.status == QUALIFIED
        )
    )
    return sorted(rows)


def qualifications(session: Session, user_id: int) -> list[QualificationRecord]:
    """Every qualification record of a person, qualified and paused, by language."""
    rows = session.scalars(
        select(Qualification)
        .where(Qualification.user_id == user_id)
        .order_by(Qualification.language)
    )
    return [
        QualificationRecord(row.language, row.status, row.reason, as_utc(row.since)) for row in rows
    ]


def _record(session: Session, user_id: int, language: str) -> Qualification | None:
    return session.scalar(
        select(Qualification).where(
            Qualification.user_id == user_id, Qualification.language == language
        )
    )


def set_qualified(
    session: Session, user_id: int, language: str, now: datetime | None = None
) -> None:
    """Record that a person may work in a language (after an exam pass); clears any pause."""
    language = language.strip().lower()
    now = utc_now(now)
    row = _record(session, user_id, language)
    if row is None:
        session.add(Qualification(user_id=user_id, language=language, status=QUALIFIED, since=now))
    else:
        row.status, row.reason, row.since = QUALIFIED, None, now
    session.flush()


def pause_language(
    session: Session, user_id: int, language: str, reason: str, now: datetime | None = None
) -> None:
    """Stop a person's paid work in a language until they pass the exam again."""
    if not reason.strip():
        raise InvalidInput("a pause needs a reason the person can read")
    language = language.strip().lower()
    now = utc_now(now)
    row = _record(session, user_id, language)
    if row is None:
        session.add(
            Qualification(
                user_id=user_id, language=language, status=PAUSED, reason=reason, since=now
            )
        )
    else:
        row.status, row.reason, row.since = PAUSED, reason, now
    session.flush()


def list_people(session: Session) -> list[tuple[Person, list[QualificationRecord]]]:
    """Every person with their qualification records, by name (for ``crowdscribe users list``)."""
    users = session.scalars(select(User).order_by(User.name)).all()
    records: dict[int, list[QualificationRecord]] = {user.id: [] for user in users}
    for row in session.scalars(select(Qualification).order_by(Qualification.language)):
        records.setdefault(row.user_id, []).append(
            QualificationRecord(row.language, row.status, row.reason, as_utc(row.since))
        )
    return [(person_from_row(user), records[user.id]) for user in users]
