"""Every integration down, slow or answering garbage: the transfer goes on as designed, and its timeline and the
metrics show each failure.

The whole path runs once for real (the API, a worker and the dispatchers on the local Temporal dev server, a
webhook receiver and an SMTP port on loopback, Slack faked at its HTTP boundary); each way a channel or the CRM can
fail is then checked at the adapter, where it is decided."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from domain.accounts import AccountProfile
from domain.context import Prospect
from domain.notices import DeliveryFailure
from domain.records import TransferEvent
from domain.requests import TransferRequest
from integrations.crm.base import CrmUnavailable
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.notify.destinations import CallbackPolicy
from integrations.notify.dispatch import OutboxDispatcher
from integrations.notify.email import EmailDispatcher, SmtpMailer
from integrations.notify.slack import SlackDispatcher
from integrations.notify.webhooks import WebhookDispatcher
from store.db import Database
from store.outbox import OutboxStore
from store.schema import migrate
from tests.conftest import Receiver, free_port
from tests.e2e.conftest import ADMIN_KEY, Stack, stack_on
from workers.worker import deliver_outbox
from workflows.models import TransferInput
from workflows.state import TransferState

FAULT_KINDS = {"crm_unavailable", "webhook_failed", "email_failed", "chat_failed"}


class UnreachableCRM(BuiltinCRM):
    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        raise ConnectionRefusedError("crm.example.com:443")


def slack_answering(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    """An httpx client whose every request Slack's Web API answers with `answer` (faked at the HTTP boundary)."""
    return httpx.Client(transport=httpx.MockTransport(answer))


@pytest.mark.e2e
@pytest.mark.timeout(120)
async def test_a_transfer_goes_on_through_failing_integrations_and_says_so(local_env, tmp_path, receiver: Receiver):
    refused_port = free_port()  # nothing listens: the SMTP server is down

    def failing_integrations(stack: Stack) -> None:
        stack.settings = stack.settings.model_copy(update={"slack_channel": "C0123456789"})
        db = stack.services.db
        stack.services.integrations = replace(
            stack.services.integrations, crm=GuardedCRM(UnreachableCRM(db), timeout=2),
            email=EmailDispatcher(db, SmtpMailer("127.0.0.1", refused_port, "wt@example.com"), max_attempts=2),
            chat=SlackDispatcher(db, "xoxb-test", max_attempts=2, client=slack_answering(
                lambda _: httpx.Response(200, json={"ok": False, "error": "channel_not_found"}))))

    receiver.respond(500)  # the bot's webhook fails once, then takes everything
    async with stack_on(local_env.client, tmp_path, failing_integrations) as stack:
        stop = asyncio.Event()
        delivering = deliver_outbox(stack.services, stop, stack.client)
        sarah = stack.rep("sarah", email="sarah@example.com")
        try:
            async with stack.http(ADMIN_KEY) as bot, stack.http(sarah) as rep:
                body = {"routing": {"team": "enterprise"}, "bot": {"callback_url": receiver.url},
                        "context": {"prospect": {"name": "Ola", "email": "ola@fjord.example"}}}
                started = (await bot.post("/v1/transfers", json=body)).json()
                path = f"/v1/transfers/{started['transfer_id']}"
                assert (await bot.post(f"{path}/prospect", json={"action": "proceed"})).json()["status"] == "offered"
                events = await _until_recorded(stack, started["transfer_id"], FAULT_KINDS | {"email_failed:final"})
                crm = next(event for event in events if event.kind == "crm_unavailable")
                assert "ConnectionRefusedError" in crm.detail and "without the account" in crm.detail
                shown = [entry["detail"] for entry in (await bot.get(path)).json()["timeline"]]
                assert crm.detail in shown and any(d.startswith("Slack could not deliver the offer") for d in shown)
                brief = (await rep.get(f"{path}/brief")).json()
                assert brief["account"] is None and "ConnectionRefusedError" in brief["crm_unavailable"]
                # The rep was alerted all the same (the console has the offer) and takes the transfer.
                for action, status in (("accept", "connecting"), ("ack", "connected")):
                    assert (await rep.post(f"{path}/rep", json={"action": action})).json()["status"] == status
                done = await rep.post(f"{path}/rep", json={"action": "outcome", "outcome": "converted"})
                assert done.json()["status"] == "completed"

                faults = (await bot.get("/v1/metrics")).json()["metrics"]["faults"]
                assert faults == {"crm": 1, "webhook": 1, "email": 1, "chat": 1}
                exposed = (await bot.get("/metrics")).text
                assert 'warm_transfer_faults{integration="crm"} 1.0' in exposed
        finally:
            stop.set()
            await asyncio.gather(*delivering)
        assert any(r.json()["kind"] == "bot_line" for r in receiver.requests[1:])  # delivered after the failure


async def _until_recorded(stack: Stack, transfer_id: str, kinds: set[str]) -> list[TransferEvent]:
    """The transfer's recorded events once they hold every kind in `kinds` (`<kind>:final`: a delivery given up)."""
    for _ in range(300):
        events = stack.services.transfers.events(transfer_id)
        seen = {e.kind for e in events} | {f"{e.kind}:final" for e in events if e.data.get("final")}
        if kinds <= seen:
            return events
        await asyncio.sleep(0.1)
    pytest.fail(f"the timeline never showed {kinds - seen}: {[e.detail for e in events]}")


# ---- each way an integration fails, at the adapter ------------------------------------------------


class SlowCRM(BuiltinCRM):
    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        time.sleep(5)
        return None


class NonsenseCRM(BuiltinCRM):
    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        return {"account": "not a profile"}  # type: ignore[return-value]


@pytest.mark.parametrize(("crm", "reason"), [(UnreachableCRM, "lookup failed: ConnectionRefusedError"),
                                             (SlowCRM, "no answer to lookup within 0.2 s"),
                                             (NonsenseCRM, "lookup answered nonsense (dict)")])
def test_a_crm_down_slow_or_answering_nonsense_is_unavailable_not_an_error(tmp_path, crm, reason: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(db)
    with pytest.raises(CrmUnavailable, match=re.escape(reason)):
        GuardedCRM(crm(db), timeout=0.2).lookup(Prospect(email="ola@fjord.example"))
    db.dispose()


@pytest.fixture
def odd_servers() -> Iterator[dict[str, int]]:
    """Two ports: "garbage" answers every connection with bytes that are no protocol at all, "silent" accepts
    connections and never says a word (a server too slow to answer)."""
    servers = {"garbage": socket.create_server(("127.0.0.1", 0)), "silent": socket.create_server(("127.0.0.1", 0))}
    accepted: list[socket.socket] = []

    def serve(server: socket.socket, reply: bytes | None) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            if reply is None:
                accepted.append(connection)  # held open, unanswered
                continue
            with connection:
                connection.sendall(reply)

    threading.Thread(target=serve, args=(servers["garbage"], b"\x00\xffgarbage\r\n\r\n"), daemon=True).start()
    threading.Thread(target=serve, args=(servers["silent"], None), daemon=True).start()
    yield {name: server.getsockname()[1] for name, server in servers.items()}
    for sock in [*servers.values(), *accepted]:
        sock.close()


def _failing_channels(odd: dict[str, int]) -> dict[str, Callable[[Database], OutboxDispatcher]]:
    def webhooks(db: Database) -> WebhookDispatcher:  # to the tests' receivers on loopback, with little patience
        return WebhookDispatcher(db, "s", destinations=CallbackPolicy(["127.0.0.1"]), timeout=0.3)

    return {
        "webhook receiver down": webhooks,
        "webhook receiver answering 500": webhooks,
        "webhook receiver slow": webhooks,
        "webhook receiver answering garbage": webhooks,
        "SMTP down": lambda db: EmailDispatcher(db, SmtpMailer("127.0.0.1", free_port(), "wt@example.com")),
        "SMTP answering garbage": lambda db: EmailDispatcher(db, SmtpMailer("127.0.0.1", odd["garbage"], "wt@x.io",
                                                                             timeout=0.5)),
        "SMTP slow": lambda db: EmailDispatcher(db, SmtpMailer("127.0.0.1", odd["silent"], "wt@x.io", timeout=0.3)),
        "Slack down": lambda db: SlackDispatcher(db, "t", client=slack_answering(_refuse_connection)),
        "Slack slow": lambda db: SlackDispatcher(db, "t", client=slack_answering(_time_out)),
        "Slack answering ok false": lambda db: SlackDispatcher(db, "t", client=slack_answering(
            lambda _: httpx.Response(200, json={"ok": False, "error": "invalid_auth"}))),
        "Slack answering garbage": lambda db: SlackDispatcher(db, "t", client=slack_answering(
            lambda _: httpx.Response(200, text="<html>bad gateway</html>"))),
    }


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer in time", request=request)


FAILING = ["webhook receiver down", "webhook receiver answering 500", "webhook receiver slow",
           "webhook receiver answering garbage", "SMTP down", "SMTP slow", "SMTP answering garbage", "Slack down",
           "Slack slow", "Slack answering ok false", "Slack answering garbage"]


@pytest.mark.parametrize("failing", FAILING)
async def test_each_failing_channel_is_reported_to_the_transfer(
        tmp_path, receiver: Receiver, odd_servers: dict[str, int], failing: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(db)
    receiver.delay = 1.0 if failing == "webhook receiver slow" else 0.0
    receiver.respond(*[500] * 3)
    url = {"webhook receiver down": f"http://127.0.0.1:{free_port()}/hooks",
           "webhook receiver answering garbage": f"http://127.0.0.1:{odd_servers['garbage']}/hooks"}.get(
        failing, receiver.url)
    dispatcher = _failing_channels(odd_servers)[failing](db)
    dispatcher.max_attempts = 1  # given up at once: retries, and their reports, are the whole path's test above
    OutboxStore(db).append([{"transfer_id": "t1", "key": "offer", "audience": "rep", "rep_id": "sarah",
                             "kind": "offer", "callback_url": url if dispatcher.channel == "webhook" else None,
                             "email_to": "sarah@example.com" if dispatcher.channel == "email" else None,
                             "chat_to": "C1" if dispatcher.channel == "chat" else None,
                             "payload": {"subject": "A transfer for you", "body": "Ola, Fjord AS",
                                         "chat_text": "A transfer for you"}}])
    reported: list[tuple[str, DeliveryFailure]] = []
    stop = asyncio.Event()
    delivering = asyncio.create_task(dispatcher.run_forever(stop, interval=0.05,
                                                            report=lambda t, f: reported.append((t, f))))
    try:
        for _ in range(100):
            if reported:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await delivering
        db.dispose()

    assert [(t, f.channel, f.notice, f.rep_id, f.final) for t, f in reported] == [
        ("t1", dispatcher.channel, "offer", "sarah", True)]
    assert reported[0][1].error


def test_a_delivery_failure_reaches_the_timeline_in_words() -> None:
    state = TransferState(TransferInput(request=TransferRequest.model_validate({"transfer_id": "t1", "context": {}})),
                          "t1", lambda: datetime(2026, 1, 5, tzinfo=UTC))
    state.note_delivery_failure(DeliveryFailure(channel="email", notice="offer", audience="rep", rep_id="sarah",
                                                error="SMTP 127.0.0.1:25: ConnectionRefusedError", final=True))
    [entry] = state.step.timeline
    assert entry.detail == ("E-mail could not deliver the offer to the rep (SMTP 127.0.0.1:25: "
                            "ConnectionRefusedError); given up; the console still shows it")
