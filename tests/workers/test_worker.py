"""The worker process's reporter of failed deliveries tells transfers, and only transfers."""

from __future__ import annotations

import asyncio

from domain.notices import DeliveryFailure
from workers.worker import FailureReporter


def failure(audience: str) -> DeliveryFailure:
    return DeliveryFailure(channel="email", notice="stuck_transfers", audience=audience, error="SMTP down",
                           final=False)


async def test_a_failed_ops_delivery_is_told_to_no_transfer(local_env):
    report = FailureReporter(local_env.client)
    report("ops/watchdog", failure("ops"))  # the watchdog's alert, or the digest: no transfer to tell
    assert not report._sending
    report("xfer_gone", failure("bot"))  # a transfer's notice: its transfer is told (here it has ended: no harm)
    assert len(report._sending) == 1
    await asyncio.gather(*report._sending)
