"""Working hours: is a rep working at an instant, and when do they next start.

Hours are wall-clock spans in the rep's own time zone (RepProfile.working_hours), so every
comparison happens in local time; instants go in and out through zoneinfo, which keeps DST
changes right. "24:00" as an end means the end of that day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.reps import WEEKDAYS

Hours = Mapping[str, Sequence[Sequence[str]]]

# Enough to reach the same weekday next week from any starting point.
SEARCH_DAYS = 8


@lru_cache(maxsize=512)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


@lru_cache(maxsize=2048)
def _clock(value: str) -> timedelta:
    """'09:30' -> 9h30m after midnight; '24:00' -> 24h, the end of the day."""
    hour, minute = value.split(":")
    return timedelta(hours=int(hour), minutes=int(minute))


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time zone aware datetime is required")


def is_working(hours: Hours, tz: str, at: datetime) -> bool:
    """True when the wall clock in `tz` at instant `at` falls inside one of that weekday's spans."""
    _require_aware(at)
    local = at.astimezone(_zone(tz))
    since_midnight = timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    spans = hours.get(WEEKDAYS[local.weekday()], ())
    return any(_clock(start) <= since_midnight < _clock(end) for start, end in spans)


def next_opening(hours: Hours, tz: str, after: datetime) -> datetime | None:
    """The first instant >= `after` at which the rep is working, in UTC.

    `after` itself when working now; None when no span starts within SEARCH_DAYS (e.g. no hours).
    """
    if is_working(hours, tz, after):
        return after.astimezone(UTC)
    zone = _zone(tz)
    first_day = after.astimezone(zone).date()
    for offset in range(SEARCH_DAYS + 1):
        day = first_day + timedelta(days=offset)
        for start in sorted({_clock(start) for start, _ in hours.get(WEEKDAYS[day.weekday()], ())}):
            opening = _first_instant_at(day, start, zone)
            # A span that began before `after` is already over (we are not working), and a span
            # lying wholly inside a spring-forward gap never happens at all.
            if opening >= after and is_working(hours, tz, opening):
                return opening
    return None


def _first_instant_at(day: date, since_midnight: timedelta, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock on `day` reads at least `since_midnight`."""
    wall = datetime(day.year, day.month, day.day) + since_midnight
    instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the earlier of a repeated time
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # The clocks jumped over `wall`: the first instant past it is the jump itself, which lies
    # between the readings of `wall` with the offset after (fold=1) and before (fold=0) the jump.
    before_jump = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _offset_change(before_jump, instant, zone)


def _offset_change(earlier: datetime, later: datetime, zone: ZoneInfo) -> datetime:
    """Bisect, to the second, for the instant in (earlier, later] where the UTC offset changes."""
    new_offset = later.astimezone(zone).utcoffset()
    low, high = int(earlier.timestamp()), int(later.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
