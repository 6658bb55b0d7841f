"""The CalDAV calendar: the built-in calendar (the record, and the feed), with every follow-up also written to its
owner's calendar on a CalDAV server (RFC 4791), and moved and closed there as it moves and closes.

A transfer never waits for the CalDAV server: a change is recorded with the task and pushed by `run_forever`, a
loop beside the outbox dispatchers, retried with their backoff (1 s, 2 s, 4 s ... up to 5 minutes, 8 attempts), and
logged by task key when it fails, never with what the task says. Each follow-up is one object,
`<calendar>/wt-<digest>.ics`, with the UID of the feed and of the prospect's invitation: a callback a VEVENT, an
e-mail to write or an after-hours follow-up a VTODO (ics.follow_up_component). A move rewrites it with SEQUENCE+1;
a follow-up done or called off is rewritten too (COMPLETED, CANCELLED), not deleted, so the rep's calendar keeps
what happened. Writes are conditional (If-None-Match: * to create, If-Match: <ETag> to change): an object that
changed meanwhile is read again and written over only where what we own differs (time, title, description,
status).

Plain httpx rather than a CalDAV client library: the calendar's URL is configured, so there is nothing to discover,
and a push is one GET and one conditional PUT, each in `timeout` seconds from connecting to the answer's last byte
(integrations.http), so one server that drips its answer cannot stall the loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from string import Formatter
from urllib.parse import quote, urlsplit

import httpx
from icalendar import Calendar as ICalendar
from icalendar import Component, vInt
from sqlalchemy import case, update
from sqlmodel import select

from integrations import http
from integrations.background import RunFailures, pause
from integrations.calendar.base import CalendarTask
from integrations.calendar.builtin import BuiltinCalendar
from integrations.calendar.ics import as_object, follow_up_component, task_digest, task_uid
from integrations.notify.dispatch import ERROR_LIMIT, backoff
from store.calendar import CalendarTaskRow
from store.db import Database

log = logging.getLogger(__name__)

# What we write of an object and compare before writing again; the rest (an alarm the rep added) is theirs.
_OWNED = ("DTSTART", "DUE", "DURATION", "SUMMARY", "DESCRIPTION", "STATUS", "COMPLETED", "PERCENT-COMPLETE")
_CONFLICT_RETRIES = 3  # rewrites of an object that keeps changing under us before the push counts as failed
OBJECT_LIMIT = 4 * 2**20  # bytes of an answer read: a follow-up with what the rep's app added to it, attachments too


def url_template(value: str) -> str:
    """A calendar URL template, checked: http(s), no login in it, `{rep_id}` its only placeholder."""
    try:
        names = {name for _, name, _, _ in Formatter().parse(value)}
    except ValueError as err:  # an unbalanced brace
        raise ValueError(f"the CalDAV URL's placeholder is malformed ({err})") from None
    if names - {None, "rep_id"}:
        raise ValueError("the CalDAV URL may hold {rep_id} and no other placeholder")
    url = urlsplit(value.format(rep_id="rep"))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("the CalDAV URL must be an http(s) URL")
    if url.username is not None or url.password is not None:
        raise ValueError("the CalDAV login goes in WT_CALDAV_USERNAME and WT_CALDAV_PASSWORD, not in the URL")
    return value


class CalDavError(Exception):
    """The server did not take or give an object; the push is retried."""


class CalDavCalendar(BuiltinCalendar):
    mirrored = True

    def __init__(self, db: Database, url_template: str, username: str | None = None, password: str | None = None, *,
                 client: httpx.Client | None = None, timeout: float = 10.0, max_attempts: int = 8,
                 batch_size: int = 20, lease: timedelta = timedelta(minutes=5)):
        """`url_template`: the rep's calendar collection, `{rep_id}` standing for the rep's id (without it, one
        calendar for the whole team). `lease`: how long a claimed push is left to its loop before another takes it."""
        super().__init__(db)
        self.url_template = url_template
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.client = client or http.client(auth=auth)
        self.timeout, self.max_attempts, self.batch_size, self.lease = timeout, max_attempts, batch_size, lease

    def object_url(self, task: CalendarTask) -> str:
        collection = self.url_template.format(rep_id=quote(task.rep_id, safe=""))
        return f"{collection.rstrip('/')}/wt-{task_digest(task.key)}.ics"

    def run_once(self, now: datetime | None = None) -> int:
        """Push the changes that are due; returns how many reached the server."""
        now = now or datetime.now(UTC)
        pushed = 0
        for key, attempts in self._claim(now):
            try:
                sequence = self._push(key, now)
            except CalDavError as err:
                self._failed(key, attempts + 1, str(err), now)
            else:
                self._pushed(key, sequence, now)
                pushed += 1
        return pushed

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Push changes until `stop` is set: each second (another process's changes included), at once after a
        full batch."""
        failures = RunFailures("CalDAV sync", interval)
        while not stop.is_set():
            try:
                pushed = await asyncio.to_thread(self.run_once)
            except Exception as error:  # a database outage must not end the pushes for good
                await pause(stop, failures.failed(error))
                continue
            failures.succeeded()
            if pushed < self.batch_size:
                await pause(stop, interval)

    def _claim(self, now: datetime) -> list[tuple[str, int]]:
        """The due pushes, leased to this loop (another loop skips them until the lease ends)."""
        with self.db.session() as session:
            due = session.exec(
                select(CalendarTaskRow.key, CalendarTaskRow.sync_attempts)
                .where(CalendarTaskRow.sync_after <= now)
                .order_by(CalendarTaskRow.sync_after).limit(self.batch_size).with_for_update(skip_locked=True)).all()
            if due:
                session.exec(update(CalendarTaskRow).where(CalendarTaskRow.key.in_([key for key, _ in due]))
                             .values(sync_after=now + self.lease))
        return [(key, attempts) for key, attempts in due]

    def _push(self, key: str, now: datetime) -> int:
        """Make the server's object say what the task says; returns the task's sequence pushed."""
        for _ in range(_CONFLICT_RETRIES):
            task = self.task(key)
            url = self.object_url(task)
            stored, etag = self._get(url, task)
            wanted = follow_up_component(task, now)
            if stored is None:
                if task.done:
                    return task.sequence  # never shown and already over: nothing to show
                body, condition = as_object(wanted), {"If-None-Match": "*"}
            else:
                calendar, component = stored
                if component.name == wanted.name and all(_ical(component, p) == _ical(wanted, p) for p in _OWNED):
                    return task.sequence
                # Above the server's SEQUENCE, which the rep's calendar app may have raised.
                wanted["SEQUENCE"] = vInt(max(task.sequence, _sequence(component) + 1))
                for name in (*_OWNED, "SEQUENCE", "DTSTAMP"):
                    component.pop(name, None)
                    if name in wanted:
                        component[name] = wanted[name]
                body, condition = calendar.to_ical().decode(), {"If-Match": etag} if etag else {}
            response = self._call("PUT", url, content=body.encode(),
                                  headers={"Content-Type": "text/calendar; charset=utf-8", **condition})
            if response.status_code == 412:  # changed since we read it: read it again
                continue
            if response.status_code not in (200, 201, 204):
                raise CalDavError(f"CalDAV answered HTTP {response.status_code} to a PUT")
            return task.sequence
        raise CalDavError("the object kept changing while it was written")

    def _get(self, url: str, task: CalendarTask) -> tuple[tuple[ICalendar, Component] | None, str | None]:
        """The stored object and its follow-up's component, and its ETag; None if there is none."""
        response = self._call("GET", url)
        if response.status_code == 404:
            return None, None
        if response.status_code != 200:
            raise CalDavError(f"CalDAV answered HTTP {response.status_code} to a GET")
        try:
            calendar = ICalendar.from_ical(response.content)
        except ValueError:
            raise CalDavError("CalDAV answered a GET with something that is not iCalendar") from None
        uid = task_uid(task.key)
        component = next((c for c in calendar.walk() if c.name in ("VEVENT", "VTODO") and str(c.get("UID")) == uid),
                         None)
        if component is None:
            raise CalDavError("CalDAV holds another object where this task's belongs")
        return (calendar, component), response.headers.get("ETag")

    def _call(self, method: str, url: str, **kwargs) -> http.Answer:
        try:
            return http.exchange(self.client, method, url, timeout=self.timeout, limit=OBJECT_LIMIT, **kwargs)
        except httpx.HTTPError as err:  # its text may carry the URL; the class says enough
            raise CalDavError(f"CalDAV unreachable ({type(err).__name__})") from err
        except http.AnswerTooLarge as err:
            raise CalDavError(f"CalDAV answered a {method} with {err}") from None

    def _pushed(self, key: str, sequence: int, now: datetime) -> None:
        with self.db.session() as session:  # a change made during the push stays due
            session.exec(update(CalendarTaskRow).where(CalendarTaskRow.key == key).values(
                synced_sequence=sequence, sync_attempts=0, sync_error=None,
                sync_after=case((CalendarTaskRow.sequence > sequence, now), else_=None)))

    def _failed(self, key: str, attempts: int, error: str, now: datetime) -> None:
        final = attempts >= self.max_attempts
        with self.db.session() as session:
            session.exec(update(CalendarTaskRow).where(CalendarTaskRow.key == key).values(
                sync_attempts=attempts, sync_error=error[:ERROR_LIMIT],
                sync_after=None if final else now + backoff(attempts)))
        log.warning("CalDAV push of calendar task %s %s (attempt %d): %s", key,
                    "given up" if final else "failed, retrying", attempts, error)


def _sequence(component: Component) -> int:
    """The server's SEQUENCE of the object, which ours must go above: a push fails while it is not a number."""
    try:
        return int(component.get("SEQUENCE", 0))
    except (TypeError, ValueError):  # not a number, or the property twice
        raise CalDavError("CalDAV holds this task's object with a SEQUENCE that is not a number") from None


def _ical(component: Component, name: str) -> bytes | None:
    value = component.get(name)
    return None if value is None else value.to_ical()
