"""The watchdog's steps: find transfers stuck past what their state allows, then alert ops of those they have not
heard of lately.

Where each kind of problem is found most cheaply: failing workflow tasks in Temporal's visibility (the server
flags them as `TemporalReportedProblems`; only those are described), transfers waiting past an estimate or a
promise in the app database, which records both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client, WorkflowExecution
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from activities.models import Alerted, Found, Look, OpsAlertRequest
from activities.ops import emails, ops_file, publish
from domain.notices import Notice
from domain.watchdog import FailingTask, ops_alert, promises_missed, queued_too_long, task_failing
from integrations.notify.base import Notifier
from store.metrics import MetricsStore
from store.watchdog import WatchdogStore

TRANSFER_WORKFLOW = "TransferWorkflow"  # the transfer's workflow type (workflows/ sit above activities/)
REPORTED_PROBLEMS = SearchAttributeKey.for_keyword_list("TemporalReportedProblems")
MOST_DESCRIBED = 100  # failing transfers described per look; the alert lists at most these
# A server that cannot answer the query (one without the search attribute, or without visibility, like the SDK's
# time-skipping test server) leaves this check undone rather than failing the whole look.
_CANNOT_LIST = (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.UNIMPLEMENTED)


class WatchdogActivities:
    def __init__(self, store: WatchdogStore, metrics: MetricsStore, notifier: Notifier, grace: timedelta,
                 remind: timedelta, ops_emails: list[str], ops_channel: str | None = None):
        self.store, self.metrics, self.notifier = store, metrics, notifier
        self.grace, self.remind = grace, remind
        self.ops_emails, self.ops_channel = ops_emails, ops_channel

    @activity.defn(name="find_failing_transfers")
    async def find_failing(self, look: Look) -> Found:
        """Running transfers of this task queue whose workflow task keeps failing."""
        client = activity.client()
        query = (f"WorkflowType = '{TRANSFER_WORKFLOW}' AND ExecutionStatus = 'Running' AND "
                 f"TaskQueue = '{activity.info().task_queue}' AND TemporalReportedProblems IS NOT NULL")
        try:
            found = [await _failing(client, execution, look.now)
                     async for execution in client.list_workflows(query, limit=MOST_DESCRIBED)]
        except RPCError as err:
            if err.status not in _CANNOT_LIST:
                raise
            activity.logger.warning("watchdog: Temporal cannot list failing workflow tasks: %s", err.message)
            return Found(unchecked=f"failing workflow tasks: Temporal cannot list them ({err.message})")
        return Found(stuck=[task_failing(failing) for failing in found if failing is not None])

    @activity.defn(name="find_overdue_transfers")
    def find_overdue(self, look: Look) -> Found:
        """Queued transfers past their wait estimate, and follow-ups past their due time with nobody taking over."""
        return Found(stuck=queued_too_long(self.store.queue_estimates(), look.now, self.grace)
                     + promises_missed(self.metrics.promises(), look.now, self.grace))

    @activity.defn(name="alert_ops")
    def alert(self, request: OpsAlertRequest) -> Alerted:
        """Tell ops of the stuck transfers they have not heard of within the reminder's time (idempotent on `now`)."""
        claimed = self.store.claim_alerts(list(dict.fromkeys(s.transfer_id for s in request.stuck)), request.now,
                                          self.remind)
        if not claimed:
            return Alerted()
        alert = ops_alert([s for s in request.stuck if s.transfer_id in claimed], request.now, self.remind)
        activity.logger.warning("watchdog: %d transfers stuck: %s", len(claimed), ", ".join(claimed))  # ids only
        key = f"stuck:{request.now.isoformat()}"
        notices = emails("watchdog", "stuck_transfers", key, self.ops_emails,
                         {"subject": alert.subject, "body": alert.body})
        if self.ops_channel is not None:
            notices.append(Notice(transfer_id=ops_file("watchdog"), key=f"{key}:chat", audience="ops",
                                  kind="stuck_transfers", payload={"chat_text": alert.chat_text},
                                  chat_to=self.ops_channel))
        publish(self.notifier, notices)
        return Alerted(transfer_ids=claimed)

    def all(self) -> list:
        return [self.find_failing, self.find_overdue, self.alert]


async def _failing(client: Client, execution: WorkflowExecution, now: datetime) -> FailingTask | None:
    """What Temporal says of one flagged transfer: its pending workflow task's attempt, and since when it is
    pending. None if it ended meanwhile."""
    try:
        described = await client.get_workflow_handle(execution.id, run_id=execution.run_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    pending = described.raw_description.pending_workflow_task
    since = (pending.original_scheduled_time.ToDatetime(tzinfo=UTC)
             if pending.HasField("original_scheduled_time") else now)
    return FailingTask(transfer_id=execution.id, reported=list(execution.typed_search_attributes.get(
        REPORTED_PROBLEMS) or []), attempt=pending.attempt, since=since)
