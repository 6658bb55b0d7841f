"""The Temporal schedules a worker keeps as configured when it starts: the watchdog and the managers' daily digest.

Each is named after the task queue (`warm-transfer-watchdog`, `warm-transfer-digest`), so deployments sharing a
namespace keep their own, and shows in the Temporal UI's Schedules page. Every worker, at every start, creates the
schedule, or updates it if its times or what it starts differ from the settings, or removes it if it is turned off;
never a second one. Ops may pause a schedule in the UI: a worker that updates it keeps it paused.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from workflows.digest import DigestWorkflow
from workflows.watchdog import WatchdogWorkflow

log = logging.getLogger(__name__)

Outcome = Literal["created", "updated", "unchanged", "removed", "absent"]
WATCHDOG_RUN_LIMIT = timedelta(minutes=10)  # a look that hangs (no worker, say) gives way to the next one
DIGEST_RUN_LIMIT = timedelta(hours=1)
# After Temporal was down, a digest still goes out if its time passed less than this ago; a missed look is not
# made up (the next one comes in minutes).
DIGEST_CATCH_UP = timedelta(hours=12)
KEPT_NOTE = "Kept by Warm Transfer's workers from their WT_* settings: a worker's start undoes changes made here."


def watchdog_id(settings: Settings) -> str:
    return f"{settings.task_queue}-watchdog"


def digest_id(settings: Settings) -> str:
    return f"{settings.task_queue}-digest"


def wanted_schedules(settings: Settings) -> dict[str, Schedule | None]:
    """Each schedule as the settings want it; None: it should not exist."""
    return {watchdog_id(settings): _watchdog(settings), digest_id(settings): _digest(settings)}


def _watchdog(settings: Settings) -> Schedule | None:
    if not settings.watchdog:
        return None
    every = timedelta(minutes=settings.watchdog_every)
    return Schedule(
        action=ScheduleActionStartWorkflow(WatchdogWorkflow.run, id=watchdog_id(settings),
                                           task_queue=settings.task_queue, execution_timeout=WATCHDOG_RUN_LIMIT),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(catchup_window=every),  # overlap: skip a look while the last one still runs
        state=ScheduleState(note=f"Looks for stuck transfers every {settings.watchdog_every} min. {KEPT_NOTE}"))


def _digest(settings: Settings) -> Schedule | None:
    if not (settings.digest_to and settings.smtp_host):
        return None
    hour, minute = (int(part) for part in settings.digest_at.split(":"))
    return Schedule(
        action=ScheduleActionStartWorkflow(DigestWorkflow.run, id=digest_id(settings), task_queue=settings.task_queue,
                                           execution_timeout=DIGEST_RUN_LIMIT),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(hour=(ScheduleRange(hour),),
                                                          minute=(ScheduleRange(minute),))],
                          time_zone_name=settings.digest_timezone),
        policy=SchedulePolicy(catchup_window=DIGEST_CATCH_UP),
        state=ScheduleState(note=f"E-mails yesterday's figures to the managers at {settings.digest_at} "
                                 f"({settings.digest_timezone}). {KEPT_NOTE}"))


async def keep_schedules(client: Client, settings: Settings) -> dict[str, Outcome]:
    """Bring every schedule in line with the settings; what was done to each, by id."""
    for unheard in _unheard(settings):
        log.warning(unheard)
    outcomes = {schedule_id: await keep_schedule(client, schedule_id, wanted)
                for schedule_id, wanted in wanted_schedules(settings).items()}
    log.info("schedules: %s", ", ".join(f"{schedule_id} {outcome}" for schedule_id, outcome in outcomes.items()))
    return outcomes


def _unheard(settings: Settings) -> list[str]:
    """What the settings ask for that cannot reach anyone."""
    warnings = []
    if settings.digest_to and not settings.smtp_host:
        warnings.append("WT_DIGEST_TO is set but WT_SMTP_HOST is not: no daily digest is sent")
    if settings.watchdog and settings.ops_email and not settings.smtp_host:
        warnings.append("WT_OPS_EMAIL is set but WT_SMTP_HOST is not: the watchdog's alerts are not e-mailed")
    if settings.watchdog and settings.ops_slack_channel and not settings.slack_bot_token:
        warnings.append("WT_OPS_SLACK_CHANNEL is set but WT_SLACK_BOT_TOKEN is not: the watchdog's alerts are not "
                        "posted")
    return warnings


async def keep_schedule(client: Client, schedule_id: str, wanted: Schedule | None) -> Outcome:
    """Create the schedule, update it if it differs from `wanted`, or remove it if `wanted` is None. Workers that
    start together race safely: one creates it, the others find it; updates retry on a conflict."""
    handle = client.get_schedule_handle(schedule_id)
    if wanted is None:
        try:
            await handle.delete()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return "absent"
        return "removed"
    try:
        await client.create_schedule(schedule_id, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    changed = False

    def brought_in_line(given: ScheduleUpdateInput) -> ScheduleUpdate | None:
        nonlocal changed
        current = given.description.schedule
        changed = not same(current, wanted)
        # Its state (paused or not, and the note with it) is ops' to set in the UI, not the settings'.
        return ScheduleUpdate(schedule=replace(wanted, state=current.state)) if changed else None

    await handle.update(brought_in_line)
    return "updated" if changed else "unchanged"


def same(current: Schedule, wanted: Schedule) -> bool:
    """Whether `current` (as Temporal describes it) runs what `wanted` runs, when it does. Temporal gives back the
    spec and policy as they were set; of the action, the fields we set are compared (its input stays encoded)."""
    have, want = current.action, wanted.action
    if not isinstance(have, ScheduleActionStartWorkflow) or not isinstance(want, ScheduleActionStartWorkflow):
        return False
    return current.spec == wanted.spec and current.policy == wanted.policy and _run(have) == _run(want)


def _run(action: ScheduleActionStartWorkflow) -> tuple:
    return (action.workflow, action.id, action.task_queue, len(action.args), action.execution_timeout,
            action.run_timeout, action.task_timeout, action.retry_policy)
