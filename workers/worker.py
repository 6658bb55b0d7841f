"""The worker process's work: the Temporal worker, the schedules it keeps, the outbox dispatchers (webhooks, e-mail,
Slack) and the retries of CRM notes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.service import RPCError

from config import Settings
from domain.notices import DeliveryFailure
from integrations.crm.retry import CrmNoteRetrier
from store.wakeup_relay import RelaySender
from workers.schedules import keep_schedules
from workers.services import Services
from workers.temporal import TemporalConnection, make_worker, register_search_attributes
from workflows.transfer import TransferWorkflow

log = logging.getLogger(__name__)

ACTIVITY_THREADS = 64  # matches make_worker's max_concurrent_activities: every slot gets a thread
REPORT_TIMEOUT = 10  # seconds a failed delivery's report to its transfer may take


async def connect_when_ready(connection: TemporalConnection, timeout: float,
                             keep_trying: Callable[[], bool] = lambda: True) -> Client | None:
    """Connect, retrying while the server comes up (a fresh dev server, or Temporal starting beside us in compose).

    None once `keep_trying()` turns false (the server process died, or we are asked to stop);
    TimeoutError after `timeout` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while keep_trying():
        try:
            return await connection.connect()
        except RuntimeError as err:  # the SDK's connection failure
            if loop.time() >= deadline:
                raise TimeoutError(f"no answer from Temporal at {connection.address} after {timeout:.0f} s "
                                   f"({err})") from err
        await asyncio.sleep(0.25)
    return None


async def run_worker(client: Client, settings: Settings, services: Services, stop: asyncio.Event) -> None:
    """Keep the schedules as configured, poll the task queue and (unless settings.deliver_outbox is off) deliver the
    outbox until `stop` is set (or the worker fails), then shut down."""
    try:
        await register_search_attributes(client)
    except RPCError as err:  # a server that forbids it still runs transfers; ops just cannot filter by them
        log.warning("could not register search attributes: %s", err)
    try:
        await keep_schedules(client, settings)
    except RPCError as err:  # transfers run without them; ops lose the watchdog and the digest until a restart
        log.warning("could not create or update the schedules: %s", err)
    with (ThreadPoolExecutor(max_workers=ACTIVITY_THREADS, thread_name_prefix="activity") as executor,
          _relaying_wakeups(settings, services)):
        worker = make_worker(client, settings.task_queue, services.activities(settings), executor,
                             settings.workflow_cache, settings.workflow_sandbox)
        polling = asyncio.create_task(worker.run(), name="temporal-worker")
        delivering = deliver_outbox(services, stop, client) if settings.deliver_outbox else []
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([polling, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.set()  # a failed worker stops the dispatchers too
            stopping.cancel()
            await worker.shutdown()  # inside the loop: the SDK must not be torn down at interpreter exit
            await asyncio.gather(*delivering)
        await polling  # re-raise the worker's failure, if that is what ended it


def deliver_outbox(services: Services, stop: asyncio.Event, client: Client) -> list[asyncio.Task]:
    """The outbox's dispatchers (webhooks, and e-mail and Slack when set up), delivering until `stop` is set; each
    notice they cannot deliver is told to its transfer, for its timeline. The retries of CRM notes the CRM did not
    take when their step happened. With a CalDAV calendar, its pushes too."""
    integrations = services.integrations
    dispatchers = [d for d in (integrations.webhooks, integrations.email, integrations.chat) if d is not None]
    report = FailureReporter(client)
    crm_notes = CrmNoteRetrier(services.crm_notes, integrations.crm)
    tasks = [*(asyncio.create_task(d.run_forever(stop, report=report), name=f"{d.channel}-dispatcher")
               for d in dispatchers),
             asyncio.create_task(crm_notes.run_forever(stop), name="crm-note-retrier")]
    if integrations.calendar_sync is not None:
        tasks.append(asyncio.create_task(integrations.calendar_sync.run_forever(stop), name="caldav-sync"))
    return tasks


class FailureReporter:
    """Signals a transfer that one of its notices could not be delivered, without holding up the dispatcher. A
    report that cannot be made (the transfer has ended, Temporal is unreachable) is left out: the delivery's own
    record in the outbox still says what failed."""

    def __init__(self, client: Client):
        self.client = client
        self._sending: set[asyncio.Task] = set()

    def __call__(self, transfer_id: str, failure: DeliveryFailure) -> None:
        if failure.audience == "ops":  # the watchdog's alerts and the digest are no transfer's
            return
        task = asyncio.create_task(self._signal(transfer_id, failure))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _signal(self, transfer_id: str, failure: DeliveryFailure) -> None:
        handle = self.client.get_workflow_handle(transfer_id)
        try:
            await asyncio.wait_for(handle.signal(TransferWorkflow.delivery_failed, failure), REPORT_TIMEOUT)
        except (RPCError, TimeoutError) as err:
            log.info("transfer %s not told of its failed %s delivery: %s", transfer_id, failure.channel, err,
                     extra={"transfer_id": transfer_id})


@contextlib.contextmanager
def _relaying_wakeups(settings: Settings, services: Services) -> Iterator[None]:
    """With a wake-up directory, the outbox's wake-ups reach the event streams of API processes on this host."""
    if settings.wakeup_dir is None:
        yield
        return
    with RelaySender(settings.wakeup_dir) as sender, services.outbox.appended.relaying(sender):
        yield
