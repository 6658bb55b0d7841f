"""Wake-ups across hosts on PostgreSQL (LISTEN/NOTIFY): a worker's outbox append wakes the event streams of every API
process at once, wherever it runs, not at their next poll.

A transaction that appends to the outbox NOTIFYs the topics it wakes on one channel (`announce`): PostgreSQL
delivers the notification when the transaction commits, and only if it does, so a woken reader finds the rows.
Each API process LISTENs on a connection of its own (`listening`) and passes what it hears to its readers
(store.wakeup). A lost connection is made again; then every reader looks once, for what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from typing import Any

import psycopg
from sqlalchemy import bindparam, func, literal, select
from sqlmodel import Session

from store.db import Database
from store.wakeup import Wakeup, topic_batches, topics_in

log = logging.getLogger(__name__)

CHANNEL = "warm_transfer_wakeups"
APPLICATION_NAME = "warm-transfer wake-ups"  # how the listening connections show in pg_stat_activity
MAX_PAYLOAD = 7999  # bytes: PostgreSQL refuses a notification of 8000 or more
RECONNECT_SECONDS = 1.0
# A listener only reads: without keepalives, a connection that silently died (its host gone) would keep it waiting
# for ever. These notice within about 20 s.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 2}
_NOTIFY = select(func.pg_notify(literal(CHANNEL), bindparam("payload")))


def announce(session: Session, topics: Collection[str]) -> None:
    """NOTIFY `topics` in the session's transaction: every listener hears of them when it commits."""
    connection = session.connection()
    for batch in topic_batches(topics, MAX_PAYLOAD):
        connection.execute(_NOTIFY, {"payload": batch.decode()})


@contextlib.asynccontextmanager
async def listening(db: Database, wakeup: Wakeup, reconnect_seconds: float = RECONNECT_SECONDS) -> AsyncIterator[None]:
    """Within the block, what any process announces on `db` wakes `wakeup`'s readers in this one."""
    task = asyncio.create_task(_listen(_connect_params(db), wakeup, reconnect_seconds), name="wakeup-listener")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _listen(params: dict[str, Any], wakeup: Wakeup, reconnect_seconds: float) -> None:
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(**params) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                wakeup.notify_everyone()  # notices announced while no connection listened
                async for notice in connection.notifies():
                    wakeup.notify_here(topics_in(notice.payload))
        except psycopg.Error as err:
            log.warning("wake-up listener: %s; listening again in %g s", " ".join(str(err).split()) or
                        type(err).__name__, reconnect_seconds)
        await asyncio.sleep(reconnect_seconds)


def _connect_params(db: Database) -> dict[str, Any]:
    """What the database's engine connects with (host, database, user, password, SSL...), for a psycopg connection
    of the listener's own, in autocommit: LISTEN takes effect at once, and no transaction is held open."""
    _args, params = db.engine.dialect.create_connect_args(db.engine.url)
    params.pop("context", None)  # SQLAlchemy's type adapters for its own connections
    return {**_KEEPALIVES, **params, "application_name": APPLICATION_NAME, "autocommit": True}
