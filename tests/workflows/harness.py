"""A worker with the real activities on a real SQLite database, and helpers to drive transfers like a bot."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from config import Settings
from domain.reps import WEEKDAYS, RepProfile
from domain.requests import ProspectAction, ProspectFeedback, RepAction, RepFeedback, TransferRequest
from domain.view import TransferView
from workers.services import Services, build_services
from workers.temporal import make_worker
from workflows.models import Timings, TransferInput
from workflows.transfer import TransferWorkflow

HISTORIES = Path(__file__).parent / "histories"
# Where this code records its histories; older code's stay where they are, so every recording keeps replaying.
RECORDING = HISTORIES / "lifecycle"
SCHEDULED = HISTORIES / "schedules"  # the watchdog's and the digest's
ALL_WEEK = {day: [("00:00", "24:00")] for day in WEEKDAYS}


class Harness:
    def __init__(self, client: Client, tmp_path: Path, wrap_notifier=None, search_attributes: bool = False,
                 sandboxed: bool = True, **settings):
        self.client = client
        self.settings = Settings(database_url=f"sqlite:///{tmp_path}/app.db", **settings)
        self.services: Services = build_services(self.settings)
        if wrap_notifier is not None:
            integrations = self.services.integrations
            object.__setattr__(integrations, "notifier", wrap_notifier(integrations.notifier))
        self.task_queue = f"tq-{uuid.uuid4().hex[:8]}"
        self.search_attributes = search_attributes
        self.sandboxed = sandboxed
        self._executor = ThreadPoolExecutor(16)

    async def __aenter__(self) -> Harness:
        await self.start_worker()
        return self

    async def start_worker(self) -> None:
        # Sandboxed by default, unlike production: every branch then also proves it makes no call the sandbox
        # forbids.
        self.worker = make_worker(self.client, self.task_queue, self.services.activities(self.settings), self._executor,
                                  self.settings.workflow_cache, self.sandboxed)
        await self.worker.__aenter__()

    async def stop_worker(self) -> None:
        """The worker goes (as one that dies would, its transfers left to the next); `start_worker` brings one."""
        await self.worker.__aexit__(None, None, None)

    async def __aexit__(self, *exc) -> None:
        await self.worker.__aexit__(*exc)
        self._executor.shutdown(wait=False)
        self.services.db.dispose()

    def rep(self, rep_id: str, presence: str = "available", **profile) -> RepProfile:
        defaults = {"name": rep_id.title(), "team": "enterprise", "working_hours": ALL_WEEK, "capacity": 1}
        rep = RepProfile(id=rep_id, **{**defaults, **profile})
        self.services.reps.upsert(rep, presence)
        return rep

    async def start(self, context: dict | None = None, timings: Timings | None = None, **request) -> WorkflowHandle:
        inp = self._input(context, timings, request)
        return await self.client.start_workflow(TransferWorkflow.run, inp, id=inp.request.transfer_id,
                                                task_queue=self.task_queue)

    async def start_ready(self, context: dict | None = None, timings: Timings | None = None,
                          **request) -> tuple[WorkflowHandle, TransferView]:
        """As the API starts a transfer: the start and its `ready` update in one call."""
        inp = self._input(context, timings, request)
        start = WithStartWorkflowOperation(TransferWorkflow.run, inp, id=inp.request.transfer_id,
                                           task_queue=self.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        view = await self.client.execute_update_with_start_workflow(TransferWorkflow.ready,
                                                                    start_workflow_operation=start)
        return await start.workflow_handle(), view

    def _input(self, context: dict | None, timings: Timings | None, request: dict) -> TransferInput:
        body = {
            "context": context or {"prospect": {"name": "Dana Lee", "email": "dana@northwind.io"}},
            "routing": {"team": "enterprise"},
            **request,
        }
        req = TransferRequest.model_validate(body)
        req = req.model_copy(update={"transfer_id": req.transfer_id or f"xfer_{uuid.uuid4().hex[:10]}"})
        return TransferInput(request=req, timings=timings or Timings(), search_attributes=self.search_attributes)

    @staticmethod
    async def ready(handle: WorkflowHandle) -> TransferView:
        return await handle.execute_update(TransferWorkflow.ready)

    @staticmethod
    async def prospect(handle: WorkflowHandle, action: str, **fields) -> TransferView:
        return await handle.execute_update(TransferWorkflow.prospect, ProspectAction(action=action, **fields))

    @staticmethod
    async def rep_act(handle: WorkflowHandle, rep_id: str, action: str, **fields) -> TransferView:
        return await handle.execute_update(
            TransferWorkflow.rep_action, RepAction(action=action, rep_id=rep_id, **fields)
        )

    @staticmethod
    async def view(handle: WorkflowHandle) -> TransferView:
        return await handle.query(TransferWorkflow.view)

    async def connected(self, rep_id: str, **request) -> WorkflowHandle:
        """A transfer the rep has taken over, holding one of their seats."""
        handle, _ = await self.start_ready(**request)
        await self.prospect(handle, "proceed")
        await self.rep_act(handle, rep_id, "accept")
        await self.rep_act(handle, rep_id, "ack")
        return handle

    async def finish(self, handle: WorkflowHandle, rep_id: str, outcome: str = "demo_booked") -> TransferView:
        """From offered to closed: accept, take over, outcome, both feedbacks."""
        await self.rep_act(handle, rep_id, "accept")
        await self.rep_act(handle, rep_id, "ack")
        await self.rep_act(handle, rep_id, "outcome", outcome=outcome)
        await handle.execute_update(
            TransferWorkflow.give_feedback,
            RepFeedback.model_validate(
                {"from": "rep", "context_helpful": True, "prospect_repeated": False, "rep_id": rep_id}
            ),
        )
        await handle.execute_update(
            TransferWorkflow.give_feedback, ProspectFeedback.model_validate({"from": "prospect", "csat": 5})
        )
        return (await handle.result()).view

    @staticmethod
    async def local_activities(handle: WorkflowHandle) -> list[str]:
        """The local activities the transfer ran, in order, read from the markers in its history."""
        history = await handle.fetch_history()
        return [name for kind, name in map(marked, history.events) if kind == "local_activity"]

    @staticmethod
    async def patches(handle: WorkflowHandle) -> list[str]:
        """The workflow.patched ids the transfer recorded, in order."""
        history = await handle.fetch_history()
        return [patch for kind, patch in map(marked, history.events) if kind == "patch"]

    @staticmethod
    async def published(handle: WorkflowHandle) -> None:
        """Wait until the transfer's first publish, which runs after the first answer, is done."""
        for _ in range(200):
            if not (await handle.describe()).raw_description.pending_activities:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{handle.id}: its first publish is still running")

    @staticmethod
    async def activities(handle: WorkflowHandle) -> list[str]:
        """The (not local) activities the transfer scheduled, in order."""
        history = await handle.fetch_history()
        return [event.activity_task_scheduled_event_attributes.activity_type.name for event in history.events
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]

    @staticmethod
    async def keep_history(handle: WorkflowHandle, name: str, folder: Path = RECORDING) -> None:
        """With WT_RECORD_HISTORIES=1, save the history for the replay test (tests/workflows/histories/)."""
        if os.environ.get("WT_RECORD_HISTORIES"):
            history = await handle.fetch_history()
            folder.mkdir(exist_ok=True)
            (folder / f"{name}.json").write_text(history.to_json())

    def outbox(self, transfer_id: str, audience: str | None = None) -> list:
        return self.services.outbox.for_transfer(transfer_id, 0, audience)

    def seats(self, rep_id: str) -> int:
        return self.services.reps.get(rep_id).active


def marked(event: HistoryEvent) -> tuple[str | None, str | None]:
    """What a history event's marker records: ("local_activity", its type) or ("patch", its id); (None, None)
    for any other event. The SDK's marker data is JSON."""
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None, None
    attributes = event.marker_recorded_event_attributes
    kind, field, key = (("patch", "patch-data", "id") if attributes.marker_name == "core_patch"
                        else ("local_activity", "data", "activity_type"))
    try:
        return kind, json.loads(attributes.details[field].payloads[0].data).get(key)
    except (KeyError, IndexError, ValueError):
        return kind, None


def kinds(view: TransferView) -> list[str]:
    return [line.kind for line in view.bot_lines]
