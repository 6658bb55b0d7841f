"""WatchdogWorkflow: one look for transfers stuck past what their state allows, started every few minutes by the
`<task queue>-watchdog` schedule (workers/schedules.py). It finds them in Temporal and in the app database at once,
then alerts ops of those they have not heard of lately; each run's result lists what it found."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.models import Alerted, Look, OpsAlertRequest
    from activities.watchdog import WatchdogActivities
    from workflows.models import WatchdogResult

_TIMEOUT = timedelta(minutes=1)
_RETRY = RetryPolicy(maximum_attempts=3)  # the next look comes in minutes anyway


@workflow.defn
class WatchdogWorkflow:
    @workflow.run
    async def run(self) -> WatchdogResult:
        look = Look(now=workflow.now())
        found = await asyncio.gather(
            workflow.execute_activity_method(WatchdogActivities.find_failing, look, start_to_close_timeout=_TIMEOUT,
                                             retry_policy=_RETRY),
            workflow.execute_activity_method(WatchdogActivities.find_overdue, look, start_to_close_timeout=_TIMEOUT,
                                             retry_policy=_RETRY))
        stuck = [item for kind in found for item in kind.stuck]
        alerted = Alerted()
        if stuck:
            alerted = await workflow.execute_activity_method(
                WatchdogActivities.alert, OpsAlertRequest(now=look.now, stuck=stuck),
                start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY)
        return WatchdogResult(stuck=stuck, alerted=alerted.transfer_ids,
                              unchecked=[kind.unchecked for kind in found if kind.unchecked])
