"""iCalendar (RFC 5545) objects of follow-ups, built with the `icalendar` package: the rep's feed, the objects a
CalDAV server keeps, and the invitation a prospect gets by e-mail.

One follow-up has one UID everywhere (feed, CalDAV, invitation), and its SEQUENCE counts its changes, so every
calendar updates the one item rather than adding another. In the feed every task is a VEVENT at its due time
(calendar apps show events; many ignore VTODO); CalDAV objects are chosen by kind (see `follow_up_component`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Component, Event, Todo, vCalAddress, vText

from integrations.calendar.base import CalendarTask

PRODID = "-//Warm Transfer//Rep calendar//EN"
DURATION = timedelta(minutes=15)  # what an event blocks of the rep's day
# Controls other than TAB and newline are not allowed in a text value (icalendar escapes the newline).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Party:
    """Someone an invitation names: the organiser (the rep) or an attendee (the prospect)."""

    name: str | None
    email: str


def render_ics(tasks: Iterable[CalendarTask], calendar_name: str, *, now: datetime | None = None) -> str:
    """The rep's feed: every task as an event at its due time."""
    calendar = _calendar("PUBLISH")
    calendar.add("X-WR-CALNAME", vText(_clean(calendar_name)))
    for task in tasks:
        calendar.add_component(task_event(task, now or datetime.now(UTC)))
    return calendar.to_ical().decode()


def follow_up_component(task: CalendarTask, now: datetime) -> Event | Todo:
    """The follow-up as a CalDAV server keeps it: a callback is an event, since the prospect expects the call at
    that time; an e-mail to write and an after-hours follow-up are tasks (VTODO) due then, which task lists tick
    off. A task done is COMPLETED, one called off CANCELLED."""
    if task.kind == "callback":
        return task_event(task, now)
    todo = Todo()
    _describe(todo, task, now)
    todo.add("DUE", task.due_at.astimezone(UTC))
    if task.cancelled:
        todo.add("STATUS", "CANCELLED")
    elif task.done:
        todo.add("STATUS", "COMPLETED")
        todo.add("COMPLETED", (task.completed_at or now).astimezone(UTC))
        todo.add("PERCENT-COMPLETE", 100)
    else:
        todo.add("STATUS", "NEEDS-ACTION")
    return todo


def task_event(task: CalendarTask, now: datetime) -> Event:
    """The follow-up as an event: at its due time, or, once done, when it was done (so the rep's day shows when the
    call took place, and a slot it was done before is free again); CANCELLED once called off."""
    event = Event()
    _describe(event, task, now)
    start = task.completed_at if task.done and not task.cancelled and task.completed_at else task.due_at
    event.add("DTSTART", start.astimezone(UTC))
    event.add("DURATION", DURATION)
    event.add("STATUS", "CANCELLED" if task.cancelled else "CONFIRMED")
    return event


def as_object(component: Component) -> str:
    """One component in a calendar object of its own, as CalDAV stores it (RFC 4791 section 4.1)."""
    calendar = _calendar()
    calendar.add_component(component)
    return calendar.to_ical().decode()


def invitation(task: CalendarTask, summary: str, organizer: Party, attendee: Party, now: datetime) -> str:
    """A callback as an invitation (iTIP REQUEST, RFC 5546) from its owner to the prospect: the same UID and
    SEQUENCE as the owner's event, so a moved callback updates the prospect's calendar too. Only the time and
    `summary` go to the prospect: the task's description is the rep's briefing."""
    calendar = _calendar("REQUEST")
    event = Event()
    event.add("UID", task_uid(task.key))
    event.add("DTSTAMP", now.astimezone(UTC))
    event.add("SEQUENCE", task.sequence)
    event.add("SUMMARY", _clean(summary))
    event.add("DTSTART", task.due_at.astimezone(UTC))
    event.add("DURATION", DURATION)
    event.add("STATUS", "CONFIRMED")
    event.add("ORGANIZER", _address(organizer))
    event.add("ATTENDEE", _address(attendee, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="FALSE"))
    calendar.add_component(event)
    return calendar.to_ical().decode()


def task_uid(key: str) -> str:
    """Stable per task key, so re-fetching the feed updates events instead of duplicating them."""
    return f"{task_digest(key)}@warm-transfer"


def task_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _calendar(method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    if method is not None:
        calendar.add("METHOD", method)
    return calendar


def _describe(component: Component, task: CalendarTask, now: datetime) -> None:
    component.add("UID", task_uid(task.key))
    component.add("DTSTAMP", now.astimezone(UTC))
    component.add("SEQUENCE", task.sequence)
    component.add("SUMMARY", _clean(task.title))
    component.add("DESCRIPTION", _clean(task.description))


def _address(party: Party, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    if party.name:
        address.params["CN"] = " ".join(_clean(party.name).split())  # one line, whatever the name holds
    address.params.update(params)
    return address


def _clean(text: str) -> str:
    return _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
