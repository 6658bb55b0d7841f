"""The event stream through the bots' client: read from the first event, resumed after a given id, and followed
across a connection cut by the network, with no event lost or repeated."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from warm_transfer_client import Event

from tests.clients.python.conftest import Connect, status_is
from tests.clients.python.test_client import start_request


class CuttableProxy:
    """A TCP proxy on loopback in front of the API, whose open connections the test cuts as a network would."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.connections = 0
        self.was_cut = asyncio.Event()
        self._open: list[asyncio.StreamWriter] = []
        self._loop = asyncio.get_running_loop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._open += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def cut(self) -> None:
        """Reset every open connection (callable from any thread)."""
        def reset() -> None:
            for writer in self._open:
                writer.transport.abort()
            self._open.clear()
            self.was_cut.set()

        self._loop.call_soon_threadsafe(reset)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        async with server:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def ids(events: list[Event]) -> list[int]:
    return [event.id for event in events]


async def test_the_stream_from_the_start_and_resumed_after_an_event(connect: Connect, stack, acme_context) -> None:
    stack.rep("sarah", name="Sarah Chen")
    bot = connect(stack.bot_key)
    tid = (await bot.start(start_request(acme_context))).transfer_id

    first = await bot.events_until(tid, lambda event: event.bot_line is not None)
    assert [event.kind for event in first] == ["status", "status", "bot_line"]
    assert [event.status_change.status for event in first[:2]] == ["requested", "preparing"]
    assert first[2].bot_line.kind == "prepare" and {event.transfer_id for event in first} == {tid}

    await bot.prospect(tid, "proceed")
    resumed = await bot.events_until(tid, status_is("offered"), after=first[-1].id)
    assert resumed[0].id > first[-1].id and resumed[-1].status_change.rep.name == "Sarah Chen"
    whole = await bot.events_until(tid, status_is("offered"))
    assert ids(first + resumed) == ids(whole) == sorted(set(ids(whole)))  # nothing lost, nothing repeated


async def test_the_stream_carries_on_after_the_connection_is_cut(connect: Connect, stack, acme_context) -> None:
    sarah = connect(stack.rep("sarah", name="Sarah Chen"))
    proxy = CuttableProxy(stack.settings.api_port)
    async with proxy.serving() as through_proxy:
        bot, followed = connect(stack.bot_key), connect(stack.bot_key, through_proxy)
        tid = (await bot.start(start_request(acme_context))).transfer_id
        await bot.prospect(tid, "proceed")

        def cut_once_offered(event: Event) -> bool:
            if status_is("offered")(event):
                proxy.cut()
            return status_is("connected")(event)

        following = asyncio.create_task(followed.events_until(tid, cut_once_offered))
        await proxy.was_cut.wait()  # the rep acts only once the stream lost its connection
        await sarah.rep(tid, "accept")
        await sarah.rep(tid, "ack")
        events = await asyncio.wait_for(following, 60)

    assert proxy.connections >= 2
    assert [e.status_change.status for e in events if e.status_change][-3:] == ["offered", "connecting", "connected"]
    assert ids(events) == ids(await bot.events_until(tid, status_is("connected")))  # nothing lost or repeated
