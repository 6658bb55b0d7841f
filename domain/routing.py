"""Who should take a transfer: hard filters (team, language), then one ordered preference.

Skills are preferences, not requirements: a rep without the wanted skill can still help, and
refusing them would strand the prospect. `rank` is a single sort with a key function so it
stays cheap for large rep pools.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from domain.hours import is_working
from domain.reps import RepProfile, RepState
from domain.requests import Routing


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
    excluded = set(exclude)
    wanted = frozenset(routing.skills)
    skill_slots = len(wanted) + 1  # room for 0..len(wanted) matches inside one tier

    def preference(state: RepState) -> tuple:
        profile = state.profile
        # The first three criteria (preferred, free now, skills) packed into one int: a short
        # key tuple keeps the sort's comparisons cheap on large pools.
        tier = (profile.id != routing.preferred_rep_id) * 2 + (not can_take_now(state, now))
        return (
            tier * skill_slots - len(wanted.intersection(profile.skills)),
            state.active / profile.capacity,
            _idle_since(state),
            profile.id,
        )

    pool = [s for s in candidates if s.profile.id not in excluded and eligible(s.profile, routing)]
    return sorted(pool, key=preference)


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
