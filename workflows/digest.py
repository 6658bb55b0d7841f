"""DigestWorkflow: the managers' daily digest, started each day by the `<task queue>-digest` schedule
(workers/schedules.py): yesterday's figures gathered, then e-mailed; the run's result holds them."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities
    from activities.models import DigestRequest
    from workflows.models import DigestResult

# Set by the schedule on the runs it starts: the time the run was due, even when it starts late (catching up).
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
_TIMEOUT = timedelta(minutes=2)
_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=10)


@workflow.defn
class DigestWorkflow:
    @workflow.run
    async def run(self) -> DigestResult:
        info = workflow.info()
        at = info.typed_search_attributes.get(SCHEDULED_AT) or info.workflow_start_time
        digest = await workflow.execute_activity_method(DigestActivities.gather, DigestRequest(at=at),
                                                        start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY)
        sent = await workflow.execute_activity_method(DigestActivities.send, digest,
                                                      start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY)
        return DigestResult(digest=digest, recipients=sent.recipients)
