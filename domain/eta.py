"""Queue wait estimate: how long until a prospect at a given place in line reaches a rep."""

from __future__ import annotations


def estimate_wait_seconds(position: int, seats_on_shift: int, avg_handle_seconds: float) -> int:
    """About ceil(position / seats) handle times: seats serve in parallel, one "round" per handle.

    `position` is 1-based. With no seats on shift nobody serves in parallel, so each prospect
    ahead costs a full handle time (position * avg). Never negative; whole seconds.
    """
    if position <= 0 or avg_handle_seconds <= 0:
        return 0
    rounds = -(-position // seats_on_shift) if seats_on_shift > 0 else position
    return round(rounds * avg_handle_seconds)


RECHECK_DEPTH = 10  # places in line that share one recheck rate
MAX_RECHECK_SECONDS = 3600


def recheck_seconds(base_seconds: int, position: int) -> int:
    """How long a queued transfer waits before its own safety-net check of the queue.

    Seats handed over and new places reach a waiting transfer at once (by signal); the check only catches
    one that was missed. The first RECHECK_DEPTH places check every `base_seconds`; a place k lines of
    RECHECK_DEPTH further back, which no seat can reach soon, checks k times less often, and none less
    often than hourly. So 10,000 waiting cost about 3 checks a second at the default base of 120 s,
    instead of 10,000 / 120 = 83.
    """
    return min(max(MAX_RECHECK_SECONDS, base_seconds), base_seconds * max(1, position // RECHECK_DEPTH))
