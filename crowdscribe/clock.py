"""The one clock: the edges read the time here and hand ``now`` to the rules, always in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime: a naive one (SQLite hands those back) is taken as
    UTC, an aware one in another zone is converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_now(now: datetime | None = None) -> datetime:
    """The current time in UTC, or ``now`` (when a caller passes one) made UTC by ``as_utc``."""
    return datetime.now(UTC) if now is None else as_utc(now)
