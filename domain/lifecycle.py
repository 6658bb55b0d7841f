"""The transfer's lifecycle: its states, its branches, the moves between states and what each side may do.

The seed's flow as data: `workflows/transfer.py` runs one phase per state and may only move along
`TRANSITIONS`; the update validators refuse any action these tables do not allow in the current state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

ProspectActionName = Literal["note", "proceed", "wait", "callback", "email", "replied", "left"]
RepActionName = Literal["accept", "decline", "defer", "schedule_callback", "ack", "outcome"]


class Status(StrEnum):
    REQUESTED = "requested"
    PREPARING = "preparing"  # the bot introduces the rep and asks for anything to pass on
    CHECKING = "checking"  # looking for a seat with the best rep who can take it now
    OFFERED = "offered"  # a rep has the offer and its countdown
    CONNECTING = "connecting"  # the rep accepted; waiting for them to take over
    CONNECTED = "connected"
    COMPLETED = "completed"  # the outcome is in; waiting for feedback
    QUEUED = "queued"
    AFTER_HOURS = "after_hours"
    RECOVERING = "recovering"  # the transfer failed: apology, and a follow-up is agreed
    CALLBACK_SCHEDULED = "callback_scheduled"
    EMAIL_FOLLOW_UP = "email_follow_up"
    ASYNC_FOLLOW_UP = "async_follow_up"
    ABANDONED = "abandoned"  # the prospect left the queue
    CANCELLED = "cancelled"  # the prospect left before a rep took over


class Branch(StrEnum):
    """Which way the transfer went, for metrics and ops."""

    IMMEDIATE = "immediate"
    QUEUED = "queued"
    CALLBACK = "callback"
    EMAIL = "email"
    ASYNC = "async"
    FAILED = "failed"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({Status.COMPLETED, Status.ABANDONED, Status.CANCELLED})
FOLLOW_UP_STATUSES = frozenset({Status.CALLBACK_SCHEDULED, Status.EMAIL_FOLLOW_UP, Status.ASYNC_FOLLOW_UP})
_FOLLOW_UP_BRANCH = {
    Status.CALLBACK_SCHEDULED: Branch.CALLBACK,
    Status.EMAIL_FOLLOW_UP: Branch.EMAIL,
    Status.ASYNC_FOLLOW_UP: Branch.ASYNC,
}
FollowUpKind = Literal["callback", "email", "after_hours"]
# What each follow-up is on its owner's calendar: a call agreed with the prospect (an event at its time), an e-mail
# to write, or a follow-up at the owner's next opening (tasks due then).
FOLLOW_UP_KINDS: dict[Status, FollowUpKind] = {
    Status.CALLBACK_SCHEDULED: "callback",
    Status.EMAIL_FOLLOW_UP: "email",
    Status.ASYNC_FOLLOW_UP: "after_hours",
}

# Where each state may lead. A final state leads nowhere: the transfer closes.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.REQUESTED: frozenset({Status.PREPARING, Status.AFTER_HOURS, Status.ASYNC_FOLLOW_UP}),
    Status.PREPARING: frozenset({Status.CHECKING, Status.CANCELLED}),
    Status.CHECKING: frozenset({Status.OFFERED, Status.QUEUED, Status.AFTER_HOURS, Status.ASYNC_FOLLOW_UP}),
    Status.OFFERED: frozenset({
        Status.CONNECTING,  # accepted
        Status.CHECKING,  # declined or lapsed: the next best rep
        Status.OFFERED,  # deferred to a named colleague who has a free seat
        Status.CALLBACK_SCHEDULED,  # the rep scheduled a callback instead
        Status.RECOVERING,  # the alert could not be delivered
        Status.CANCELLED,
    }),
    Status.CONNECTING: frozenset({Status.CONNECTED, Status.RECOVERING, Status.CHECKING, Status.CANCELLED}),
    Status.CONNECTED: frozenset({Status.COMPLETED}),
    Status.QUEUED: frozenset({Status.OFFERED, Status.CALLBACK_SCHEDULED, Status.EMAIL_FOLLOW_UP, Status.ABANDONED}),
    Status.AFTER_HOURS: frozenset({Status.ASYNC_FOLLOW_UP}),
    Status.RECOVERING: frozenset({Status.CALLBACK_SCHEDULED, Status.EMAIL_FOLLOW_UP}),
    **{
        # The owner reached the prospect early; the due time came (routed again); or nobody can take it yet.
        status: frozenset({Status.CONNECTED, Status.CHECKING, status})
        for status in FOLLOW_UP_STATUSES
    },
    **{status: frozenset() for status in FINAL_STATUSES},
}

PROSPECT_ACTIONS: dict[Status, frozenset[ProspectActionName]] = {
    Status.PREPARING: frozenset({"note", "proceed", "left"}),
    Status.CHECKING: frozenset({"note", "left"}),
    Status.OFFERED: frozenset({"note", "left"}),
    Status.CONNECTING: frozenset({"note", "replied", "left"}),
    Status.CONNECTED: frozenset({"replied", "left"}),
    Status.QUEUED: frozenset({"note", "wait", "callback", "email", "left"}),
    Status.AFTER_HOURS: frozenset({"note", "callback", "email", "left"}),
    Status.RECOVERING: frozenset({"note", "callback", "email", "left"}),
    **{status: frozenset({"note", "left"}) for status in FOLLOW_UP_STATUSES},
}
REP_ACTIONS: dict[Status, frozenset[RepActionName]] = {
    Status.OFFERED: frozenset({"accept", "decline", "defer", "schedule_callback"}),
    Status.CONNECTING: frozenset({"ack"}),
    Status.CONNECTED: frozenset({"outcome"}),
    **{status: frozenset({"ack"}) for status in FOLLOW_UP_STATUSES},  # the follow-up's owner took over early
}


class IllegalTransition(RuntimeError):
    """A bug, not bad input: the workflow tried a move the lifecycle does not have."""


class ActionRefused(ValueError):
    """An action the transfer cannot take in its state; the reason is shown to the caller."""


class NotTheOwner(ActionRefused):
    """An action by a bot key that did not start the transfer, or by a rep it is not offered to: answered as if
    there were no such transfer, so nobody learns of another's transfers or their state."""


def check_transition(current: Status, following: Status) -> None:
    if following not in TRANSITIONS[current]:
        raise IllegalTransition(f"a transfer cannot go from {current} to {following}")


def check_action(table: dict[Status, frozenset[str]], status: Status, action: str) -> None:
    allowed = table.get(status, frozenset())
    if action not in allowed:
        possible = f" (possible: {', '.join(sorted(allowed))})" if allowed else ""
        raise ActionRefused(f"'{action}' is not possible while the transfer is {status}{possible}")


def branch_on_entering(status: Status, branch: Branch | None) -> Branch | None:
    """The branch a transfer counts as once it enters `status`, given the branch it counted as before.

    The first offer makes it immediate; a queue wait outranks that; a follow-up counts as its channel unless the
    transfer failed or went after hours first; leaving the queue is abandoning it.
    """
    match status:
        case Status.OFFERED:
            return branch or Branch.IMMEDIATE
        case Status.QUEUED:
            return Branch.QUEUED if branch in (None, Branch.IMMEDIATE) else branch
        case Status.AFTER_HOURS:
            return Branch.ASYNC
        case Status.RECOVERING:
            return Branch.FAILED
        case Status.CALLBACK_SCHEDULED | Status.EMAIL_FOLLOW_UP | Status.ASYNC_FOLLOW_UP:
            return branch if branch in (Branch.FAILED, Branch.ASYNC) else _FOLLOW_UP_BRANCH[status]
        case Status.ABANDONED:
            return Branch.ABANDONED
        case Status.CANCELLED:
            return branch or Branch.CANCELLED
        case _:
            return branch


def follow_up_owner_acts(status: Status) -> bool:
    """While a follow-up is scheduled, the rep who owns it acts on the transfer, not the last rep offered it."""
    return status in FOLLOW_UP_STATUSES


def markdown_table() -> str:
    """Every state's moves and legal actions as a Markdown table, for the README."""
    rows = ["| state | may move to | the prospect (bot) may | the rep may |", "|---|---|---|---|"]
    for status in Status:
        moves = ", ".join(f"`{to}`" for to in Status if to in TRANSITIONS[status]) or "(closes)"
        rows.append(f"| `{status}` | {moves} | {_listed(PROSPECT_ACTIONS.get(status))} | "
                    f"{_listed(REP_ACTIONS.get(status))} |")
    return "\n".join(rows)


def _listed(actions: frozenset[str] | None) -> str:
    return ", ".join(f"`{action}`" for action in sorted(actions)) if actions else "—"


if __name__ == "__main__":
    print(markdown_table())
