"""Who should take a transfer: hard filters (team, language), then one ordered preference.

Skills are preferences, not requirements: a rep without the wanted skill can still help, and
refusing them would strand the prospect. `rank` is a single sort with a key function so it
stays cheap for large rep pools; `best` is its first element without the sort, and `ShiftClock`
reads the wall clock once per time zone so thousands of reps' hours are checked cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.hours import is_working
from domain.reps import WEEKDAYS, RepProfile, RepState
from domain.requests import Routing


class ShiftClock:
    """`is_working` for many reps at one instant: the local weekday and "HH:MM" are read once per zone.

    Working hours are validated "HH:MM" (or "24:00") strings, zero-padded, so comparing them as strings
    is comparing times; and since every bound is a whole minute, a reading truncated to the minute
    falls inside a span exactly when the full instant does.
    """

    __slots__ = ("now", "_readings", "_working")

    def __init__(self, now: datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("a time zone aware datetime is required")
        self.now = now
        self._readings: dict[str, tuple[str, str]] = {}
        # id(profile) -> (profile, working?): a decision asks about the same rep several times (reading,
        # filtering, ranking). Holding the profile keeps its id from being reused by another object.
        self._working: dict[int, tuple[RepProfile, bool]] = {}

    def _reading(self, timezone: str) -> tuple[str, str]:
        local = self.now.astimezone(ZoneInfo(timezone))
        reading = self._readings[timezone] = (WEEKDAYS[local.weekday()], f"{local.hour:02}:{local.minute:02}")
        return reading

    def working(self, profile: RepProfile) -> bool:
        known = self._working.get(id(profile))
        if known is None:
            known = self._working[id(profile)] = (profile, self.working_hours(profile.working_hours, profile.timezone))
        return known[1]

    def record_working(self, profile: RepProfile) -> None:
        """Note that `profile` is working now, as a caller found once for everyone with the same hours."""
        self._working[id(profile)] = (profile, True)

    def working_hours(self, hours: Mapping[str, Sequence[Sequence[str]]], timezone: str) -> bool:
        day, clock = self._readings.get(timezone) or self._reading(timezone)
        return any(start <= clock < end for start, end in hours.get(day, ()))

    def on_shift(self, state: RepState) -> bool:
        return state.presence != "offline" and self.working(state.profile)

    def can_take_now(self, state: RepState) -> bool:
        return state.presence == "available" and state.active < state.profile.capacity and self.working(state.profile)


def eligible(profile: RepProfile, routing: Routing) -> bool:
    """Team and language are hard requirements when the routing names them."""
    if routing.team and profile.team != routing.team:
        return False
    return not routing.language or routing.language in profile.languages


def on_shift(state: RepState, now: datetime) -> bool:
    return state.presence != "offline" and is_working(state.profile.working_hours, state.profile.timezone, now)


def can_take_now(state: RepState, now: datetime) -> bool:
    return state.presence == "available" and state.free_seats > 0 and on_shift(state, now)


def _idle_since(state: RepState) -> float:
    """Timestamp of the last assignment; never assigned counts as idle the longest."""
    last = state.last_assigned_at
    if last is None:
        return float("-inf")
    if last.tzinfo is None:  # stored naive means UTC; never the machine's local zone
        last = last.replace(tzinfo=UTC)
    return last.timestamp()


def rank(
    candidates: Sequence[RepState], routing: Routing, now: datetime, exclude: Collection[str] = ()
) -> list[RepState]:
    """Eligible reps not in `exclude`, best first.

    Order: the preferred rep, then reps who can take it now, more matching skills, least loaded
    (active / capacity), longest idle, id. The preferred rep leads even when busy; the caller
    decides whether to wait for them or take the first rep for whom can_take_now holds.
    """
    return sorted(_pool(candidates, routing, exclude), key=_preference(routing, ShiftClock(now)))


def best(
    candidates: Sequence[RepState], routing: Routing, clock: ShiftClock, exclude: Collection[str] = ()
) -> RepState | None:
    """`rank(...)[0]` (or None) without sorting: the same key, so the same rep."""
    return min(_pool(candidates, routing, exclude), key=_preference(routing, clock), default=None)


def best_free(
    batches: Iterable[Iterable[RepState]], routing: Routing, clock: ShiftClock, exclude: Collection[str] = ()
) -> RepState | None:
    """The best rep who can take the transfer now, `best` among them, reading `batches` only as far as needed.

    `batches` must yield the preferred rep (if any) first, then reps in ascending (load ratio, idle
    since, id) order, the tail of rank's key. Then once a rep who can take it now has every wanted
    skill, no later rep can rank above them, and the rest is never read.
    """
    excluded = set(exclude)
    lead, key = _lead(routing, clock), _preference(routing, clock)
    unbeatable = 2 * (len(set(routing.skills)) + 1) - len(set(routing.skills))  # not preferred, every skill
    chosen, chosen_key = None, None
    for batch in batches:
        for state in batch:
            if state.profile.id in excluded or not eligible(state.profile, routing) or not clock.can_take_now(state):
                continue
            if chosen_key is not None and lead(state) > chosen_key[0]:
                continue  # behind on the first criteria: its tie-breaks cannot matter (most reps of a long read)
            state_key = key(state)
            if chosen_key is None or state_key < chosen_key:
                chosen, chosen_key = state, state_key
        if chosen_key is not None and chosen_key[0] <= unbeatable:
            break
    return chosen


def _pool(candidates: Sequence[RepState], routing: Routing, exclude: Collection[str]) -> list[RepState]:
    excluded = set(exclude)
    return [s for s in candidates if s.profile.id not in excluded and eligible(s.profile, routing)]


def _preference(routing: Routing, clock: ShiftClock) -> Callable[[RepState], tuple]:
    lead = _lead(routing, clock)
    never = float("-inf")

    def preference(state: RepState) -> tuple:
        idle = never if state.last_assigned_at is None else _idle_since(state)
        return (lead(state), state.active / state.profile.capacity, idle, state.profile.id)

    return preference


def _lead(routing: Routing, clock: ShiftClock) -> Callable[[RepState], int]:
    """The first three criteria (preferred, free now, skills) packed into one int: a short key tuple
    keeps the sort's comparisons cheap on large pools."""
    wanted = frozenset(routing.skills)
    skill_slots = len(wanted) + 1  # room for 0..len(wanted) matches inside one tier
    preferred = routing.preferred_rep_id
    working = clock.working

    def lead(state: RepState) -> int:
        profile = state.profile
        free_now = state.presence == "available" and state.active < profile.capacity and working(profile)  # inlined
        tier = (profile.id != preferred) * 2 + (not free_now)
        matched = len(wanted.intersection(profile.skills)) if wanted else 0
        return tier * skill_slots - matched

    return lead


def rank_reasons(state: RepState, routing: Routing, now: datetime) -> list[str]:
    """Short, human reasons for where a rep landed in `rank`, for logs and the ops timeline."""
    profile = state.profile
    reasons = []
    if routing.preferred_rep_id and profile.id == routing.preferred_rep_id:
        reasons.append("preferred rep")
    if can_take_now(state, now):
        reasons.append("available now")
    elif on_shift(state, now):
        reasons.append(f"on shift, {state.presence}" if state.presence != "available" else "on shift, no free seat")
    else:
        reasons.append("off shift")
    if routing.team and profile.team == routing.team:
        reasons.append(f"team: {routing.team}")
    if routing.language and routing.language in profile.languages:
        reasons.append(f"speaks {routing.language}")
    matched = [skill for skill in routing.skills if skill in profile.skills]
    if matched:
        reasons.append("skills: " + ", ".join(matched))
    reasons.append(f"load {state.active}/{profile.capacity}")
    if state.last_assigned_at is None:
        reasons.append("never assigned")
    else:
        idle_minutes = max(0, int((now.timestamp() - _idle_since(state)) // 60))
        reasons.append(f"idle {idle_minutes} min")
    return reasons
