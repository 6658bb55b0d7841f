"""The Temporal client and worker, configured the same way everywhere (API, worker, tests)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.worker import Worker

import workflows.transfer
from workers.codec import EncryptionCodec, KeyRing
from workers.eviction import FreedOnEvictionRunner
from workers.runtime import cache_bytecode
from workflows import search
from workflows.digest import DigestWorkflow
from workflows.transfer import TransferWorkflow
from workflows.watchdog import WatchdogWorkflow

WORKFLOWS = [TransferWorkflow, WatchdogWorkflow, DigestWorkflow]  # what a worker runs: transfers and the schedules'


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """Pydantic's payload converter, built once per process and then shared (its converters hold no state but a
    cache of type adapters, which every workflow then shares too). The SDK makes a data converter for every
    workflow activation, and each made its own payload converter: about a tenth of the worker's CPU."""

    _built: dict | None = None

    def __init__(self) -> None:
        if SharedPydanticPayloadConverter._built is None:
            super().__init__()
            SharedPydanticPayloadConverter._built = self.converters
        self.converters = SharedPydanticPayloadConverter._built


def data_converter(keys: KeyRing | None) -> DataConverter:
    """Pydantic payloads, encrypted with `keys` (None: in clear). Encrypted, a failure's message and stack trace
    are encrypted too: they can quote personal data."""
    if keys is None:
        return DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
    return DataConverter(payload_converter_class=SharedPydanticPayloadConverter, payload_codec=EncryptionCodec(keys),
                         failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


async def connect(address: str, namespace: str, converter: DataConverter) -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=converter)


async def register_search_attributes(client: Client) -> None:
    """Add our search attributes to the namespace if they are missing (idempotent)."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace))
    missing = {key.name: key.indexed_value_type for key in search.ALL if key.name not in listed.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing))


def make_worker(client: Client, task_queue: str, activities: list, executor: ThreadPoolExecutor,
                max_cached_workflows: int = 1000, sandboxed: bool = False) -> Worker:
    """The worker: transfers, the watchdog and the daily digest. They run outside the SDK's sandbox unless
    `sandboxed`: the sandbox builds a fresh copy of the workflow module for every run and wraps every activation,
    which cost a fifth of the
    worker's CPU, 10 ms of a bot's first answer and half the memory of a cached transfer
    (`git show ca8de1d:bench/README.md`, "Fourth pass").
    What it enforces (no clock, randomness or I/O outside `workflow.*`) is checked by the workflow tests,
    which run every branch sandboxed, and by the replay of recorded histories. Outside the sandbox, a transfer
    that leaves the cache is freed at once (workers/eviction.py)."""
    if sandboxed:
        cache_bytecode(workflows.transfer)
    runner = {} if sandboxed else {"workflow_runner": FreedOnEvictionRunner()}
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=activities,
                  activity_executor=executor, max_concurrent_activities=16, max_concurrent_local_activities=16,
                  max_cached_workflows=max_cached_workflows, **runner)
