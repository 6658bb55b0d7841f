"""Notes a CRM did not take are retried until written, each once: with the built-in CRM, and with HubSpot faked at
its HTTP boundary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from domain.context import Prospect
from integrations.crm.base import CrmUnavailable
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.crm.hubspot import HubSpotAccess, HubSpotCRM
from integrations.crm.retry import CrmNoteRetrier
from store.crm_notes import NoteWrites, PendingCrmNotes
from tests.integrations.hubspot_fake import TOKEN, FakeHubSpot, error, hubspot_on_respx

OLA = Prospect(name="Ola", email="ola@fjord.example")
AT = datetime.now(UTC)  # the notes are fresh: a week old, they are given up


class FlakyCRM(BuiltinCRM):
    """The built-in CRM, down for its first `down` notes."""

    def __init__(self, db, down: int):
        super().__init__(db)
        self.down = down

    def log_activity(self, *args) -> bool:
        if self.down:
            self.down -= 1
            raise ConnectionRefusedError("crm.example.com:443")
        return super().log_activity(*args)


def test_a_note_is_retried_with_backoff_until_the_crm_takes_it(db):
    pending, crm = PendingCrmNotes(db), GuardedCRM(FlakyCRM(db, down=2), timeout=5)
    retrier = CrmNoteRetrier(pending, crm)
    pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted", AT, error="down")
    now = datetime.now(UTC)
    assert retrier.run_once(now) == 0  # still down: due again in 1 s
    assert retrier.run_once(now + timedelta(milliseconds=500)) == 0 and pending.keys() == ["t-1:outcome"]
    assert retrier.run_once(now + timedelta(seconds=1)) == 0  # still down: due again in 2 s more
    assert retrier.run_once(now + timedelta(seconds=3)) == 1
    assert pending.keys() == []
    assert [(a.kind, a.text) for a in crm.lookup(OLA).history] == [("transfer_outcome", "Converted")]


def test_a_note_the_crm_never_takes_is_given_up_after_a_week(db, caplog):
    pending = PendingCrmNotes(db)
    retrier = CrmNoteRetrier(pending, GuardedCRM(FlakyCRM(db, down=1000), timeout=5))
    pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted", AT, error="down")
    assert retrier.run_once(AT + timedelta(days=6)) == 0 and pending.keys() == ["t-1:outcome"]
    assert retrier.run_once(AT + timedelta(days=7)) == 0 and pending.keys() == []
    assert "transfer_outcome dropped" in caplog.text and "ola" not in caplog.text


def test_hubspot_down_then_up_gets_the_note_once(db):
    hubspot = FakeHubSpot()
    contact = hubspot.add("contacts", email="ola@fjord.example")
    pending = PendingCrmNotes(db)
    crm = GuardedCRM(HubSpotCRM(HubSpotAccess(TOKEN), NoteWrites(db), timeout=5), timeout=5)
    retrier = CrmNoteRetrier(pending, crm)
    with hubspot_on_respx(hubspot):
        hubspot.fail(error(503, "SERVICE_UNAVAILABLE", "down"))
        try:
            crm.log_activity("t-1:outcome", OLA, "transfer_outcome", "Converted", AT)
        except CrmUnavailable as err:  # what the publish step does with a note the CRM did not take
            pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted", AT, error=str(err))
        hubspot.fail(httpx.ConnectError("refused"))
        now = datetime.now(UTC)
        assert retrier.run_once(now) == 0
        assert retrier.run_once(now + timedelta(seconds=1)) == 1
        assert retrier.run_once(now + timedelta(minutes=10)) == 0  # nothing left
        assert crm.log_activity("t-1:outcome", OLA, "transfer_outcome", "Converted", AT)  # a late repeat
    assert len(hubspot.notes_on("contacts", contact)) == 1


async def test_the_retrier_runs_until_stopped(db):
    pending = PendingCrmNotes(db)
    crm = GuardedCRM(FlakyCRM(db, down=0), timeout=5)
    pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted", AT, error="down")
    stop = asyncio.Event()
    running = asyncio.create_task(CrmNoteRetrier(pending, crm).run_forever(stop, interval=0.05))
    for _ in range(100):
        if not pending.keys():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    assert pending.keys() == [] and crm.lookup(OLA).history[0].text == "Converted"
