"""Notes a CRM could not take when their step happened, retried until written.

A transfer's step never waits on the CRM (a retried step would keep the rep's seat taken for as long as the CRM is
down): a note the CRM did not take is kept in `crm_note_pending` and retried here, with backoff, by whichever
process delivers the outbox. Each note is written once: the CRM's idempotency key makes a repeat record nothing,
even when the first try timed out but went through.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from integrations.background import RunFailures, pause
from integrations.crm.base import CRM, CrmUnavailable
from integrations.notify.dispatch import backoff
from store.crm_notes import PendingCrmNote, PendingCrmNotes

log = logging.getLogger(__name__)


class CrmNoteRetrier:
    def __init__(self, pending: PendingCrmNotes, crm: CRM, *, batch_size: int = 20,
                 lease: timedelta = timedelta(minutes=5), give_up_after: timedelta = timedelta(days=7)):
        # The lease must outlast a batch's writes, each bounded by the CRM's timeout.
        self.pending, self.crm = pending, crm
        self.batch_size, self.lease, self.give_up_after = batch_size, lease, give_up_after

    def run_once(self, now: datetime | None = None) -> int:
        """Retry the notes due; returns how many were written (or found written)."""
        now = now or datetime.now(UTC)
        return sum(self._retry(note, now) for note in self.pending.claim(now, self.batch_size, self.lease))

    async def run_forever(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        failures = RunFailures("CRM note retries", interval)
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception as error:  # a database outage must not end the retries for good
                await pause(stop, failures.failed(error))
                continue
            failures.succeeded()
            await pause(stop, interval)

    def _retry(self, note: PendingCrmNote, now: datetime) -> bool:
        try:
            filed = self.crm.log_activity(note.key, note.prospect, note.kind, note.text, note.at)
        except CrmUnavailable as err:
            if now - note.at >= self.give_up_after:
                log.warning("transfer %s: %s dropped, the CRM did not take it in %g days (%d attempts): %s",
                            note.transfer_id, note.kind, self.give_up_after / timedelta(days=1), note.attempts, err)
                self.pending.remove(note.key)
            else:
                self.pending.retry_at(note.key, now + backoff(note.attempts), str(err))
            return False
        log.info("transfer %s: %s %s in the CRM after %d retries", note.transfer_id, note.kind,
                 "filed" if filed else "has no account to be filed under", note.attempts)
        self.pending.remove(note.key)
        return True
