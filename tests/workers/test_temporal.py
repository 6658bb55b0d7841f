"""The worker as shipped, and as the workflow tests run it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config import Settings
from tests.workflows.harness import Harness
from workers.temporal import make_worker


async def test_transfers_run_outside_the_sandbox_unless_asked(local_env):
    with ThreadPoolExecutor(1) as executor:
        shipped = make_worker(local_env.client, "q-shipped", [], executor, sandboxed=Settings().workflow_sandbox)
        asked = make_worker(local_env.client, "q-asked", [], executor,
                            sandboxed=Settings(workflow_sandbox=True).workflow_sandbox)
    assert isinstance(shipped.config()["workflow_runner"], UnsandboxedWorkflowRunner)
    assert isinstance(asked.config()["workflow_runner"], SandboxedWorkflowRunner)


async def test_the_workflow_tests_run_every_branch_sandboxed(local_env, tmp_path):
    async with Harness(local_env.client, tmp_path) as harness:
        assert isinstance(harness.worker.config()["workflow_runner"], SandboxedWorkflowRunner)
