"""The Temporal client and worker, configured the same way everywhere (API, worker, tests)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig
from temporalio.worker import Worker

import workflows.transfer
from config import Settings
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


class ClusterSettingsError(ValueError):
    """A TLS file named in the settings that cannot be read, or does not hold what it should."""


@dataclass(frozen=True)
class TemporalConnection:
    """Where Temporal is and how to reach it (TLS, API key), and what every client of this process adds: the
    payload converter, tracing, the SDK's metrics runtime."""

    address: str
    namespace: str
    converter: DataConverter
    tls: TLSConfig | bool = False
    api_key: str | None = field(default=None, repr=False)
    interceptors: Sequence[Interceptor] = ()
    runtime: Runtime | None = None

    async def connect(self) -> Client:
        return await Client.connect(self.address, namespace=self.namespace, data_converter=self.converter,
                                    tls=self.tls, api_key=self.api_key, interceptors=self.interceptors,
                                    runtime=self.runtime)


def cluster_connection(settings: Settings, converter: DataConverter, interceptors: Sequence[Interceptor] = (),
                       runtime: Runtime | None = None) -> TemporalConnection:
    """The connection the settings describe (`api` and `worker`: a self-hosted cluster, with mTLS or not, or
    Temporal Cloud). A ClusterSettingsError names a TLS file that cannot be read or holds something else."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return TemporalConnection(settings.temporal_address, settings.temporal_namespace, converter,
                              tls=_tls(settings), api_key=api_key, interceptors=tuple(interceptors), runtime=runtime)


def _tls(settings: Settings) -> TLSConfig | bool:
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    wanted = settings.temporal_tls
    if wanted is None:
        wanted = any(files) or settings.temporal_tls_server_name is not None or settings.temporal_api_key is not None
    if not wanted:
        return False
    if not any(files) and settings.temporal_tls_server_name is None:
        return True  # the system's trusted CAs, no client certificate: Temporal Cloud with an API key
    return TLSConfig(server_root_ca_cert=_read_pem("WT_TEMPORAL_TLS_CA", settings.temporal_tls_ca),
                     client_cert=_read_pem("WT_TEMPORAL_TLS_CERT", settings.temporal_tls_cert),
                     client_private_key=_read_pem("WT_TEMPORAL_TLS_KEY", settings.temporal_tls_key, private_key=True),
                     domain=settings.temporal_tls_server_name)


def _read_pem(variable: str, path: Path | None, private_key: bool = False) -> bytes | None:
    """The file's bytes, checked now: a bad file would otherwise show only as a failed handshake, naming nothing."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ClusterSettingsError(f"{variable}={path}: cannot be read ({err.strerror})") from None
    try:
        if private_key:
            load_pem_private_key(data, password=None)
        else:
            x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError):  # TypeError: a key that wants a passphrase
        what = "private key without a passphrase" if private_key else "certificate"
        raise ClusterSettingsError(f"{variable}={path}: not a PEM {what}") from None
    return data


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
