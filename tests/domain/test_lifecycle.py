"""The transfer's lifecycle tables and decisions, on their own."""

from __future__ import annotations

import pytest

from domain.lifecycle import (
    FINAL_STATUSES,
    FOLLOW_UP_STATUSES,
    PROSPECT_ACTIONS,
    REP_ACTIONS,
    TRANSITIONS,
    ActionRefused,
    Branch,
    IllegalTransition,
    Status,
    branch_on_entering,
    check_action,
    check_transition,
    markdown_table,
)
from domain.requests import ProspectAction, RepAction
from tests.conftest import REPO


def reachable_from(start: Status) -> set[Status]:
    seen, todo = {start}, [start]
    while todo:
        for following in TRANSITIONS[todo.pop()]:
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def test_every_state_has_its_moves_and_every_state_is_reachable():
    assert set(TRANSITIONS) == set(Status)
    assert reachable_from(Status.REQUESTED) == set(Status)


def test_only_final_states_end_and_every_state_can_reach_an_end():
    assert {s for s, moves in TRANSITIONS.items() if not moves} == FINAL_STATUSES
    for status in Status:
        assert reachable_from(status) & FINAL_STATUSES, f"{status} can never close"


def test_the_prospect_can_leave_in_every_open_state_the_bot_still_talks_in():
    for status, actions in PROSPECT_ACTIONS.items():
        assert status not in FINAL_STATUSES
        assert "left" in actions


def test_action_tables_name_only_real_actions():
    prospect_names = set(ProspectAction.model_fields["action"].annotation.__args__)
    rep_names = set(RepAction.model_fields["action"].annotation.__args__)
    assert set().union(*PROSPECT_ACTIONS.values()) <= prospect_names
    assert set().union(*REP_ACTIONS.values()) == rep_names


@pytest.mark.parametrize(("current", "following"), [
    (Status.REQUESTED, Status.OFFERED),  # never without preparing the prospect
    (Status.QUEUED, Status.CONNECTING),  # never accepted without an offer
    (Status.COMPLETED, Status.CHECKING),
    (Status.CONNECTED, Status.RECOVERING),
])
def test_moves_outside_the_lifecycle_are_refused(current, following):
    with pytest.raises(IllegalTransition, match=f"from {current} to {following}"):
        check_transition(current, following)


def test_moves_of_the_seed_flow_are_allowed():
    flow = [Status.REQUESTED, Status.PREPARING, Status.CHECKING, Status.OFFERED, Status.CONNECTING,
            Status.CONNECTED, Status.COMPLETED]
    for current, following in zip(flow, flow[1:], strict=False):
        check_transition(current, following)


def test_an_action_refused_names_what_is_possible():
    check_action(REP_ACTIONS, Status.OFFERED, "accept")
    with pytest.raises(ActionRefused, match=r"'ack' is not possible while the transfer is offered \(possible: "
                                            r"accept, decline, defer, schedule_callback\)"):
        check_action(REP_ACTIONS, Status.OFFERED, "ack")
    with pytest.raises(ActionRefused, match=r"while the transfer is completed$"):
        check_action(PROSPECT_ACTIONS, Status.COMPLETED, "note")


@pytest.mark.parametrize(("status", "before", "after"), [
    (Status.OFFERED, None, Branch.IMMEDIATE),
    (Status.OFFERED, Branch.QUEUED, Branch.QUEUED),  # offered from the queue stays a queued transfer
    (Status.QUEUED, None, Branch.QUEUED),
    (Status.QUEUED, Branch.IMMEDIATE, Branch.QUEUED),  # the first rep declined, then it waited
    (Status.QUEUED, Branch.CALLBACK, Branch.CALLBACK),  # a callback that found every seat taken
    (Status.AFTER_HOURS, Branch.IMMEDIATE, Branch.ASYNC),
    (Status.RECOVERING, Branch.IMMEDIATE, Branch.FAILED),
    (Status.CALLBACK_SCHEDULED, Branch.QUEUED, Branch.CALLBACK),
    (Status.EMAIL_FOLLOW_UP, None, Branch.EMAIL),
    (Status.ASYNC_FOLLOW_UP, None, Branch.ASYNC),
    (Status.CALLBACK_SCHEDULED, Branch.FAILED, Branch.FAILED),  # the recovery's callback: still a failure
    (Status.EMAIL_FOLLOW_UP, Branch.ASYNC, Branch.ASYNC),  # after hours, whichever channel was chosen
    (Status.ABANDONED, Branch.QUEUED, Branch.ABANDONED),
    (Status.CANCELLED, None, Branch.CANCELLED),
    (Status.CANCELLED, Branch.IMMEDIATE, Branch.IMMEDIATE),
    (Status.CONNECTED, Branch.CALLBACK, Branch.CALLBACK),
    (Status.CHECKING, None, None),
])
def test_the_branch_a_transfer_counts_as(status, before, after):
    assert branch_on_entering(status, before) == after


def test_follow_ups_take_the_owners_ack():
    for status in FOLLOW_UP_STATUSES:
        assert REP_ACTIONS[status] == {"ack"}
        assert Status.CONNECTED in TRANSITIONS[status]


def test_the_readme_shows_the_lifecycle_as_the_code_has_it():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = "<!-- lifecycle table: python -m domain.lifecycle -->\n"
    shown = readme[readme.index(start) + len(start):readme.index("<!-- end of lifecycle table -->")]
    assert shown == markdown_table() + "\n", "README.md's lifecycle table differs: paste `python -m domain.lifecycle`"
