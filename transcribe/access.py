"""Who may sign in, and when access ends: throttled password and token guessing, and sessions
that end everywhere at once when a person logs out or is revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc
from crowdscribe.storage.models import LoginFailure, User

# Failures counted over this window; a person gets a few tries, an address (a shared campus
# network, say) more.
WINDOW_S = 15 * 60.0
NAME_LIMIT = 5
ADDRESS_LIMIT = 30


@dataclass(frozen=True)
class Throttle:
    """Whether sign-in is refused for now, and for how many more seconds."""

    refused: bool
    retry_after_s: float = 0.0


def throttle_for(failure_times: list[datetime], limit: int, now: datetime) -> Throttle:
    """Refused while ``limit`` or more failures fall inside the window ending ``now``; open
    again when the oldest of the last ``limit`` leaves it."""
    recent = sorted(time for time in failure_times if (now - time).total_seconds() < WINDOW_S)
    if len(recent) < limit:
        return Throttle(refused=False)
    oldest_counted = recent[-limit]
    return Throttle(True, WINDOW_S - (now - oldest_counted).total_seconds())


def _keys(name: str, address: str) -> dict[str, int]:
    keys = {f"address:{address}": ADDRESS_LIMIT}
    if name:
        keys[f"name:{name.strip().lower()[:150]}"] = NAME_LIMIT
    return keys


def sign_in_throttle(session: Session, name: str, address: str, now: datetime) -> Throttle:
    """The strictest throttle on this name and this address."""
    since = now - timedelta(seconds=WINDOW_S)
    worst = Throttle(refused=False)
    for key, limit in _keys(name, address).items():
        times = session.scalars(
            select(LoginFailure.failed_at).where(
                LoginFailure.key == key, LoginFailure.failed_at > since
            )
        ).all()
        throttle = throttle_for([as_utc(time) for time in times], limit, now)
        if throttle.retry_after_s > worst.retry_after_s:
            worst = throttle
    return worst


def record_failure(session: Session, name: str, address: str, now: datetime) -> None:
    """Count a failed sign-in against the name and the address; forget failures past the window."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at < now - timedelta(seconds=WINDOW_S))
    )
    session.add_all(LoginFailure(key=key, failed_at=now) for key in _keys(name, address))


def forget_failures(session: Session, name: str) -> None:
    """A successful sign-in clears that name's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == f"name:{name.strip().lower()}"))


def end_sessions(session: Session, user_id: int) -> None:
    """End every signed-in session of this person, on every browser."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_version=func.coalesce(User.session_version, 0) + 1)
    )
