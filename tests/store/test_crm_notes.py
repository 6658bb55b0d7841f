"""CRM notes on their way: the notes waiting for a retry, and the ledger of notes an outside CRM was asked to write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.context import Prospect
from store.crm_notes import NoteWrites, PendingCrmNotes

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
LEASE = timedelta(minutes=1)
OLA = Prospect(name="Ola", email="ola@fjord.example")


def test_a_key_is_held_by_one_attempt_at_a_time_until_written(db):
    writes = NoteWrites(db)
    first = writes.claim("t-1:outcome", NOW, LEASE)
    assert (first.note_id, first.unsure, first.record) == (None, False, None)
    assert writes.claim("t-1:outcome", NOW, LEASE) is None  # another attempt waits
    writes.sending("t-1:outcome", "contacts/51")
    assert writes.claim("t-1:outcome", NOW + LEASE, LEASE).unsure  # a holder that died: sent, maybe written
    writes.release("t-1:outcome", unsure=False)
    again = writes.claim("t-1:outcome", NOW, LEASE)
    assert (again.record, again.unsure) == ("contacts/51", False)
    writes.written("t-1:outcome", "9001")
    done = writes.claim("t-1:outcome", NOW, LEASE)
    assert (done.note_id, done.unsure) == ("9001", False)
    assert writes.claim("t-1:outcome", NOW, LEASE).note_id == "9001"  # a written note is never held


def test_a_pending_note_is_kept_once_and_claimed_by_one_retrier(db):
    pending = PendingCrmNotes(db)
    pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted", NOW, error="HubSpot answered 503")
    pending.add("t-1", "t-1:outcome", OLA, "transfer_outcome", "Converted (retried step)", NOW, error="again")
    later = datetime.now(UTC) + timedelta(seconds=1)
    [note] = pending.claim(later, 10, LEASE)
    assert (note.prospect, note.text, note.at, note.attempts) == (OLA, "Converted", NOW, 1)
    assert pending.claim(later, 10, LEASE) == []  # held by the first retrier
    pending.retry_at(note.key, later + timedelta(seconds=2), "HubSpot answered 503 again")
    assert pending.claim(later + timedelta(seconds=1), 10, LEASE) == []  # not due yet
    assert pending.claim(later + timedelta(seconds=2), 10, LEASE)[0].attempts == 2
    pending.remove(note.key)
    assert pending.keys() == []
