"""`api` and `worker` against a Temporal cluster: the namespace, TLS (the server's CA, a client certificate, a server
name) and an API key, from the settings.

The dev server has no TLS of its own (`temporal server start-dev` takes no certificate), so the mTLS test puts a TLS
terminator in front of it, as a load balancer in front of a cluster does: it presents a server certificate of a CA
made here and accepts only clients with a certificate of that CA.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError
from temporalio.api.workflowservice.v1 import GetSystemInfoResponse
from temporalio.service import RPCError, TLSConfig

from config import Settings
from tests.conftest import CONVERTER
from workers.cli import main
from workers.temporal import ClusterSettingsError, cluster_connection

SERVER_NAME = "temporal.test"  # what the server certificate names; the tests connect to 127.0.0.1


@dataclass
class Pki:
    """A CA, a server certificate for SERVER_NAME and a client certificate, all of that CA, as PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def _certificate(path: Path, subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                 issuer_key: ec.EllipticCurvePrivateKey, usage: x509.ObjectIdentifier | None = None) -> Path:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=usage is None, path_length=None), critical=True))
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    path.write_bytes(builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


def make_pki(folder: Path) -> Pki:
    folder.mkdir()
    ca_key, server_key, client_key = _key(), _key(), _key()
    return Pki(ca=_certificate(folder / "ca.pem", "Test CA", ca_key, "Test CA", ca_key),
               server_cert=_certificate(folder / "server.pem", SERVER_NAME, server_key, "Test CA", ca_key,
                                        ExtendedKeyUsageOID.SERVER_AUTH),
               server_key=_write_key(folder / "server.key", server_key),
               client_cert=_certificate(folder / "client.pem", "warm-transfer worker", client_key, "Test CA", ca_key,
                                        ExtendedKeyUsageOID.CLIENT_AUTH),
               client_key=_write_key(folder / "client.key", client_key))


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@asynccontextmanager
async def tls_terminator(pki: Pki, upstream: str) -> AsyncIterator[str]:
    """A TLS server on loopback that demands a client certificate of the CA and passes the decrypted bytes (gRPC over
    HTTP/2) on to `upstream`; its address."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = upstream.rsplit(":", 1)
    connections: set[asyncio.Task] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(asyncio.current_task())
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except asyncio.CancelledError:
            writer.close()
        finally:
            connections.discard(asyncio.current_task())

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for connection in list(connections):
            connection.cancel()
        await asyncio.gather(*connections, return_exceptions=True)


def mtls_settings(pki: Pki, address: str, **changes) -> Settings:
    mtls = {"temporal_tls_ca": pki.ca, "temporal_tls_cert": pki.client_cert, "temporal_tls_key": pki.client_key,
            "temporal_tls_server_name": SERVER_NAME}
    return Settings(_env_file=None, temporal_address=address, **{**mtls, **changes})


async def test_api_and_worker_reach_a_cluster_over_mutual_tls(local_env, pki: Pki) -> None:
    upstream = local_env.client.service_client.config.target_host
    async with tls_terminator(pki, upstream) as address:
        client = await cluster_connection(mtls_settings(pki, address), CONVERTER).connect()
        handle = await client.start_workflow("NoSuchWorkflow", id="over-mtls", task_queue="tls-test-queue")
        assert (await handle.describe()).id == "over-mtls"  # the call went through to the dev server and back
        await handle.terminate()


async def test_the_cluster_refuses_a_client_without_its_certificate_and_the_client_an_unknown_server(
        local_env, pki: Pki, tmp_path: Path) -> None:
    upstream = local_env.client.service_client.config.target_host
    strangers = make_pki(tmp_path / "strangers")
    async with tls_terminator(pki, upstream) as address:
        no_certificate = Settings(_env_file=None, temporal_address=address, temporal_tls_ca=pki.ca,
                                  temporal_tls_server_name=SERVER_NAME)
        with pytest.raises(RuntimeError, match="Failed client connect"):
            await cluster_connection(no_certificate, CONVERTER).connect()
        another_ca = mtls_settings(pki, address, temporal_tls_ca=strangers.ca)
        with pytest.raises(RuntimeError, match="Failed client connect"):
            await cluster_connection(another_ca, CONVERTER).connect()


def test_the_settings_build_the_clients_tls_and_namespace(pki: Pki) -> None:
    connection = cluster_connection(mtls_settings(pki, "temporal.internal:7233", temporal_namespace="sales"), CONVERTER)
    assert (connection.address, connection.namespace) == ("temporal.internal:7233", "sales")
    assert connection.tls == TLSConfig(server_root_ca_cert=pki.ca.read_bytes(),
                                       client_cert=pki.client_cert.read_bytes(),
                                       client_private_key=pki.client_key.read_bytes(), domain=SERVER_NAME)


@pytest.mark.parametrize(("changes", "tls"), [
    ({}, False),  # the default: a server on this host or in compose, in clear
    ({"temporal_tls": True}, True),  # TLS with the system's trusted CAs
    ({"temporal_api_key": "cloud-key"}, True),  # Temporal Cloud: an API key turns TLS on
    ({"temporal_api_key": "cloud-key", "temporal_tls": False}, False),  # `false` wins (as `up`'s worker is told)
])
def test_tls_is_on_with_an_api_key_or_when_asked(changes: dict, tls: bool) -> None:
    assert cluster_connection(Settings(_env_file=None, **changes), CONVERTER).tls is tls


def test_tls_false_wins_over_the_tls_files(pki: Pki) -> None:
    assert cluster_connection(mtls_settings(pki, "x:7233", temporal_tls=False), CONVERTER).tls is False


@contextmanager
def fake_frontend() -> Iterator[tuple[str, list[dict]]]:
    """A gRPC server on loopback answering only the call a client makes on connecting (GetSystemInfo); the metadata
    of every call it receives."""
    received: list[dict] = []

    class Frontend(grpc.GenericRpcHandler):
        def service(self, details: grpc.HandlerCallDetails):
            received.append(dict(details.invocation_metadata))
            if details.method == "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo":
                return grpc.unary_unary_rpc_method_handler(lambda request, context: GetSystemInfoResponse(),
                                                           response_serializer=GetSystemInfoResponse.SerializeToString)
            return None

    server = grpc.server(ThreadPoolExecutor(2), handlers=[Frontend()])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", received
    finally:
        server.stop(grace=None)


async def test_the_api_key_is_sent_as_a_bearer_token_with_the_namespace() -> None:
    with fake_frontend() as (address, received):
        settings = Settings(_env_file=None, temporal_address=address, temporal_namespace="sales.acct1",
                            temporal_api_key="cloud-key-123", temporal_tls=False)  # the fake speaks no TLS
        client = await cluster_connection(settings, CONVERTER).connect()
        with suppress(RPCError):  # the fake knows no other call, but sees it
            await client.count_workflows()
    connecting, counting = received
    assert connecting["authorization"] == counting["authorization"] == "Bearer cloud-key-123"
    assert counting["temporal-namespace"] == "sales.acct1"


def test_the_api_key_stays_out_of_the_connections_repr() -> None:
    connection = cluster_connection(Settings(_env_file=None, temporal_api_key="cloud-key-123"), CONVERTER)
    assert connection.api_key == "cloud-key-123" and "cloud-key-123" not in repr(connection)


def test_a_client_certificate_without_its_key_is_refused_at_start(pki: Pki, monkeypatch, capsys) -> None:
    with pytest.raises(ValidationError, match="WT_TEMPORAL_TLS_KEY needs WT_TEMPORAL_TLS_CERT"):
        Settings(_env_file=None, temporal_tls_key=pki.client_key)
    monkeypatch.setenv("WT_TEMPORAL_TLS_CERT", str(pki.client_cert))
    assert main(["worker"]) == 2
    assert "WT_TEMPORAL_TLS_CERT needs WT_TEMPORAL_TLS_KEY" in capsys.readouterr().err


def test_a_missing_tls_file_is_named_at_start(tmp_path: Path, monkeypatch, capsys) -> None:
    missing = tmp_path / "no-such-ca.pem"
    monkeypatch.setenv("WT_TEMPORAL_TLS_CA", str(missing))
    assert main(["api"]) == 2
    assert f"WT_TEMPORAL_TLS_CA='{missing}': Path does not point to a file" in capsys.readouterr().err


@pytest.mark.parametrize("variable", ["WT_TEMPORAL_TLS_CA", "WT_TEMPORAL_TLS_CERT", "WT_TEMPORAL_TLS_KEY"])
def test_a_tls_file_that_holds_something_else_is_named_at_start(pki: Pki, variable: str, monkeypatch, capsys) -> None:
    for name, path in (("CA", pki.ca), ("CERT", pki.client_cert), ("KEY", pki.client_key)):
        monkeypatch.setenv(f"WT_TEMPORAL_TLS_{name}", str(path))
    wrong = pki.ca.parent / "wrong.pem"
    wrong.write_text("-----BEGIN NOTHING-----\n")
    monkeypatch.setenv(variable, str(wrong))
    assert main(["worker"]) == 2
    what = "private key without a passphrase" if variable.endswith("KEY") else "certificate"
    assert f"{variable}={wrong}: not a PEM {what}" in capsys.readouterr().err


def test_a_tls_file_that_cannot_be_read_is_named(pki: Pki) -> None:
    settings = mtls_settings(pki, "x:7233")
    pki.client_key.unlink()  # gone since the settings were read: as unreadable as a file can be for root
    with pytest.raises(ClusterSettingsError, match=f"WT_TEMPORAL_TLS_KEY={pki.client_key}: cannot be read"):
        cluster_connection(settings, CONVERTER)
