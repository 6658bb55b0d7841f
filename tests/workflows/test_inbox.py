"""The inbox on its own: tickets, answers once the workflow waits again, refusals."""

from __future__ import annotations

from workflows.inbox import Inbox


def test_an_action_taken_is_answered_only_when_the_workflow_waits_again():
    inbox = Inbox()
    ticket = inbox.put("prospect", "note")
    assert inbox and not inbox.answered(ticket)
    item = inbox.take()
    inbox.acting_on(item)
    assert not inbox and not inbox.answered(ticket)  # acted on, but the step is not over yet
    inbox.settle()
    assert inbox.answered(ticket) and inbox.answer(ticket) is None
    assert not inbox.answered(ticket)  # each answer is given once


def test_a_refused_action_is_answered_at_once_with_the_reason():
    inbox = Inbox()
    ticket = inbox.put("rep", "accept")
    inbox.refuse(inbox.take(), "the offer has expired")
    assert inbox.answer(ticket) == "the offer has expired"


def test_inputs_come_out_in_order_and_tickets_are_unique():
    inbox = Inbox()
    tickets = [inbox.put("prospect", 1), inbox.put("queue", None), inbox.put("rep", 2)]
    assert len(set(tickets)) == 3
    assert [inbox.take().ticket for _ in tickets] == tickets


def test_closing_refuses_everything_still_waiting_and_counts_waits():
    inbox = Inbox()
    assert inbox.waits == 0
    first, second = inbox.put("feedback", "a"), inbox.put("feedback", "b")
    assert [item.payload for item in inbox.waiting("feedback")] == ["a", "b"]
    assert list(inbox.waiting("rep")) == []
    inbox.settle()
    inbox.refuse_all("the transfer is completed")
    assert inbox.waits == 1 and not inbox
    assert inbox.answer(first) == inbox.answer(second) == "the transfer is completed"


def test_settling_answers_only_what_was_taken():
    inbox = Inbox()
    taken, left = inbox.put("prospect", "x"), inbox.put("prospect", "y")
    inbox.acting_on(inbox.take())
    inbox.settle()
    assert inbox.answered(taken) and not inbox.answered(left)
