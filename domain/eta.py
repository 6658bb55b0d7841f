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
