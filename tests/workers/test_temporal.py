"""The worker as shipped, and as the workflow tests run it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config import Settings
from domain.view import TransferView
from tests.workflows.harness import Harness
from workers.eviction import FreedOnEvictionRunner
from workers.temporal import SharedPydanticPayloadConverter, data_converter, make_worker


async def test_transfers_run_outside_the_sandbox_unless_asked(local_env):
    with ThreadPoolExecutor(1) as executor:
        shipped = make_worker(local_env.client, "q-shipped", [], executor, sandboxed=Settings().workflow_sandbox)
        asked = make_worker(local_env.client, "q-asked", [], executor,
                            sandboxed=Settings(workflow_sandbox=True).workflow_sandbox)
    assert isinstance(shipped.config()["workflow_runner"], FreedOnEvictionRunner)
    assert isinstance(asked.config()["workflow_runner"], SandboxedWorkflowRunner)


async def test_the_workflow_tests_run_every_branch_sandboxed(local_env, tmp_path):
    async with Harness(local_env.client, tmp_path) as harness:
        assert isinstance(harness.worker.config()["workflow_runner"], SandboxedWorkflowRunner)


def test_the_payload_converter_is_built_once_and_writes_what_pydantics_writes():
    assert SharedPydanticPayloadConverter().converters is SharedPydanticPayloadConverter().converters
    view = TransferView(transfer_id="xfer_1", status="requested")
    [ours] = data_converter(None).payload_converter.to_payloads([view])
    [theirs] = pydantic_data_converter.payload_converter.to_payloads([view])
    assert ours == theirs
    assert data_converter(None).payload_converter.from_payloads([theirs], [TransferView]) == [view]
