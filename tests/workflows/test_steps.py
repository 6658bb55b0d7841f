"""The step's publish buffer on its own: what a step gathers goes out once, in one batch."""

from __future__ import annotations

from datetime import UTC, datetime

from activities.models import CrmNote, TaskRequest
from domain.context import Prospect
from domain.lifecycle import Status
from domain.records import TransferFacts
from workflows.steps import MAX_DETAIL, StepRecord

NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)
FACTS = TransferFacts(transfer_id="xfer_1", status="offered", created_at=NOW)


def test_a_step_with_nothing_to_say_publishes_nothing_unless_it_releases():
    step = StepRecord("xfer_1", None)
    assert step.take(NOW, FACTS, release=False) is None
    batch = step.take(NOW, FACTS, release=True)
    assert batch.release.transfer_id == "xfer_1" and batch.events == [] and step.batches == 1


def test_a_batch_carries_the_step_once_and_the_next_step_starts_empty():
    step = StepRecord("xfer_1", "https://bot.example.com/hook")
    step.log(NOW, Status.OFFERED, "offered", "Offered to Sarah", rep_id="sarah")
    step.notify("bot", "status", {"status": "offered"})
    step.notify("rep", "offer", {"alert": {}}, rep_id="sarah")
    step.notify("bot", "bot_line", {"text": "hi"}, key="line-1")
    step.schedule(TaskRequest(key="t", rep_id="sarah", due_at=NOW, title="Follow up", description="call"))
    step.note_in_crm(CrmNote(key="c", prospect=Prospect(name="Dana"), kind="transfer_outcome", text="won"))
    batch = step.take(NOW, FACTS, release=False)
    assert [e.seq for e in batch.events] == [1] and batch.release is None
    assert [n.key for n in batch.notices] == ["n-1", "n-2", "line-1"]
    assert [n.callback_url for n in batch.notices] == ["https://bot.example.com/hook", None,
                                                      "https://bot.example.com/hook"]
    assert all(n.payload["transfer_id"] == "xfer_1" for n in batch.notices)
    assert len(batch.tasks) == len(batch.crm_notes) == 1
    assert step.take(NOW, FACTS, release=False) is None
    step.notify("ops", "no_rep", {})
    assert step.take(NOW, FACTS, release=False).notices[0].key == "n-4"  # numbering goes on across steps


def test_the_timeline_keeps_the_whole_detail_and_events_store_a_bounded_one():
    step = StepRecord("xfer_1", None)
    step.log(NOW, Status.PREPARING, "note", "x" * (MAX_DETAIL + 50))
    step.log(NOW, Status.PREPARING, "note", "short")
    assert [len(entry.detail) for entry in step.timeline] == [MAX_DETAIL + 50, 5]
    events = step.take(NOW, FACTS, release=False).events
    assert [(e.seq, len(e.detail)) for e in events] == [(1, MAX_DETAIL), (2, 5)]
