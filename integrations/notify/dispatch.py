"""Delivery from the outbox, shared by every channel: claim under a lease, send, then settle or back off.

Delivery is at least once: if a process dies after sending but before recording it, the row is sent
again once its lease expires. Receivers deduplicate on the outbox id (webhooks: `X-WT-Event-Id`;
e-mail: a Message-ID derived from it).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import ClassVar

from domain.notices import DeliveryFailure
from integrations.background import RunFailures, pause
from integrations.notify.base import DeliveryError
from store.db import Database
from store.outbox import Channel, DeliveryQueue, PendingDelivery

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
ERROR_LIMIT = 300  # characters of a delivery error told to the transfer

# Told of a notice that could not be delivered (transfer id, what failed): on its first failed attempt and when
# delivery is given up. It must not block: the dispatcher calls it between batches.
FailureReport = Callable[[str, DeliveryFailure], None]


def backoff(attempt: int) -> timedelta:
    """Wait after failed attempt n (1-based): 1 s, 2 s, 4 s ... capped at 5 minutes."""
    return min(timedelta(seconds=2 ** min(attempt - 1, 30)), MAX_BACKOFF)


class OutboxDispatcher(ABC):
    channel: ClassVar[Channel]

    def __init__(
        self,
        db: Database,
        *,
        max_attempts: int = 8,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 1,
    ):
        # The lease must outlast sending a whole batch, or another dispatcher may take rows still in flight.
        self.queue = DeliveryQueue(db, self.channel)
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.lease = lease
        # Several transfers' rows are sent at once, each transfer's in order: a receiver 100 ms away would
        # otherwise cap delivery at 10 a second for everyone.
        self._senders = ThreadPoolExecutor(concurrency, f"{self.channel}-send") if concurrency > 1 else None

    @abstractmethod
    def send(self, delivery: PendingDelivery, now: datetime) -> None:
        """Deliver one claimed row; raise DeliveryError if it was not accepted."""

    def run_once(self, now: datetime | None = None) -> int:
        """Send one batch of due rows; returns how many were delivered."""
        return self._run_batch(now or datetime.now(UTC)).delivered

    async def run_forever(self, stop: asyncio.Event, interval: float = 0.2,
                          report: FailureReport | None = None) -> None:
        """Deliver until `stop` is set: at once after a full batch or a notice for this channel appended in
        this process, otherwise every `interval` seconds (rows from other processes, retries coming due). `report`
        is told of each notice that failed for the first time or for good."""
        failures = RunFailures(f"{self.channel} dispatcher", interval)
        while not stop.is_set():
            mark = self.queue.appended.mark()
            try:
                batch = await asyncio.to_thread(self._run_batch, datetime.now(UTC))
            except Exception as error:  # a database outage must not end delivery for good
                await pause(stop, failures.failed(error))
                continue
            failures.succeeded()
            if report is not None:
                for transfer_id, failure in batch.failures:
                    report(transfer_id, failure)
            if batch.claimed < self.batch_size:
                await _first_of(stop.wait(), self.queue.appended.wait(mark, interval, self.queue.topic))

    def _run_batch(self, now: datetime) -> _Batch:
        claimed = self.queue.claim(now, self.batch_size, self.lease)
        per_transfer: dict[str, list[PendingDelivery]] = {}
        for delivery in claimed:
            per_transfer.setdefault(delivery.row.transfer_id, []).append(delivery)
        if self._senders is None or len(per_transfer) < 2:
            outcomes = [self._send_in_order(rows, now) for rows in per_transfer.values()]
        else:
            outcomes = list(self._senders.map(self._send_in_order, per_transfer.values(), repeat(now)))
        delivered = [delivery for outcome in outcomes for delivery in outcome.delivered]
        self.queue.mark_delivered(delivered, now)  # one write for the whole batch
        failures = [self._failed(delivery, now, error) for outcome in outcomes for delivery, error in outcome.failed]
        for outcome in outcomes:  # settled first: what was sent before an unexpected error is not sent again
            if outcome.error is not None:
                raise outcome.error
        return _Batch(len(claimed), len(delivered),
                      [(d.row.transfer_id, failure) for d, failure in failures if d.attempt == 1 or failure.final])

    def _send_in_order(self, rows: list[PendingDelivery], now: datetime) -> _Sent:
        """One transfer's rows, in order; an unexpected error stops them and is raised after settling."""
        sent = _Sent()
        for delivery in rows:
            try:
                self.send(delivery, now)
            except DeliveryError as exc:
                sent.failed.append((delivery, exc))
            except Exception as exc:  # re-raised by _run_batch once the batch is settled
                sent.error = exc
                break
            else:
                sent.delivered.append(delivery)
        return sent

    def _failed(self, delivery: PendingDelivery, now: datetime,
                error: DeliveryError) -> tuple[PendingDelivery, DeliveryFailure]:
        final = not error.retryable or delivery.attempt >= self.max_attempts
        reason = str(error)
        if final:
            log.warning("%s delivery of outbox %s is dead%s: %s", self.channel, delivery.row.id,
                        "" if error.retryable else " (not retried: retrying cannot help)", reason,
                        extra={"transfer_id": delivery.row.transfer_id})
            self.queue.mark_dead(delivery, reason)
        else:
            self.queue.retry_at(delivery, now + backoff(delivery.attempt), reason)
        row = delivery.row
        return delivery, DeliveryFailure(channel=self.channel, notice=row.kind, audience=row.audience,
                                         rep_id=row.rep_id, error=reason[:ERROR_LIMIT], final=final)


@dataclass
class _Batch:
    claimed: int = 0
    delivered: int = 0
    failures: list[tuple[str, DeliveryFailure]] = field(default_factory=list)  # (transfer id, failure) to report


@dataclass
class _Sent:
    delivered: list[PendingDelivery] = field(default_factory=list)
    failed: list[tuple[PendingDelivery, DeliveryError]] = field(default_factory=list)
    error: Exception | None = None


async def _first_of(*waits: Coroutine) -> None:
    tasks = [asyncio.create_task(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
