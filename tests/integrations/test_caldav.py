"""The CalDAV calendar against a real CalDAV server (Radicale on loopback): follow-ups created, moved and closed in
the rep's calendar, read back and parsed with icalendar."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest
from sqlmodel import select

from integrations.calendar.caldav import CalDavCalendar
from integrations.calendar.ics import task_uid
from store.calendar import CalendarTaskRow
from tests.conftest import Radicale, drip_server, free_port

NOW = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
DUE = datetime(2030, 6, 3, 14, 0, tzinfo=UTC)
SECRET = "Call Ann Lee, Acme: budget approved"  # what a task says never goes to the log


@pytest.fixture
def caldav(db, radicale: Radicale) -> CalDavCalendar:
    radicale.make_calendar("sarah")
    calendar = CalDavCalendar(db, radicale.url_template, radicale.username, radicale.password)
    yield calendar
    calendar.client.close()


def schedule(calendar: CalDavCalendar, key: str = "t-1:task:4", kind: str = "callback", due: datetime = DUE,
             rep_id: str = "sarah"):
    return calendar.schedule(key, rep_id, "t-1", kind, due, SECRET, "+1 555 0100\nBudget approved", NOW)


def items(radicale: Radicale, rep_id: str = "sarah") -> list[icalendar.Component]:
    return [c for c in radicale.calendar(rep_id).walk() if c.name in ("VEVENT", "VTODO")]


def sync_state(db, key: str) -> CalendarTaskRow:
    with db.read() as session:
        return session.exec(select(CalendarTaskRow).where(CalendarTaskRow.key == key)).one()


def test_a_callback_is_an_event_moved_with_its_uid_and_cancelled_when_dropped(caldav, radicale):
    schedule(caldav)
    assert caldav.run_once() == 1
    [event] = items(radicale)
    assert event.name == "VEVENT" and str(event["UID"]) == task_uid("t-1:task:4")
    assert event["DTSTART"].dt == DUE and event["DURATION"].dt == timedelta(minutes=15)
    assert (str(event["SUMMARY"]), str(event["STATUS"]), event["SEQUENCE"]) == (SECRET, "CONFIRMED", 0)
    assert str(event["DESCRIPTION"]) == "+1 555 0100\nBudget approved"

    schedule(caldav)  # a retried step: nothing changed, nothing to push
    assert caldav.run_once() == 0

    schedule(caldav, due=DUE + timedelta(days=1))  # the follow-up moves
    assert caldav.run_once() == 1
    [moved] = items(radicale)
    assert str(moved["UID"]) == str(event["UID"]) and moved["SEQUENCE"] == 1
    assert moved["DTSTART"].dt == DUE + timedelta(days=1) and str(moved["STATUS"]) == "CONFIRMED"

    caldav.close("t-1:task:4", cancelled=True, now=NOW)  # dropped
    assert caldav.run_once() == 1
    [cancelled] = items(radicale)
    assert str(cancelled["STATUS"]) == "CANCELLED" and cancelled["SEQUENCE"] == 2
    assert caldav.run_once() == 0 and sync_state(caldav.db, "t-1:task:4").sync_after is None


def test_a_callback_done_shows_when_it_took_place(caldav, radicale):
    schedule(caldav)
    caldav.run_once()
    caldav.close("t-1:task:4", cancelled=False, now=DUE - timedelta(hours=3))  # the owner reached them early
    assert caldav.run_once() == 1
    [event] = items(radicale)
    assert event["DTSTART"].dt == DUE - timedelta(hours=3) and str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 1


@pytest.mark.parametrize("kind", ["email", "after_hours"])
def test_e_mails_to_write_and_after_hours_follow_ups_are_tasks_ticked_off_when_done(caldav, radicale, kind):
    schedule(caldav, kind=kind)
    caldav.run_once()
    [todo] = items(radicale)
    assert todo.name == "VTODO" and todo["DUE"].dt == DUE and str(todo["STATUS"]) == "NEEDS-ACTION"

    done_at = DUE + timedelta(minutes=2)
    caldav.close("t-1:task:4", cancelled=False, now=done_at)
    caldav.run_once()
    [done] = items(radicale)
    assert (str(done["STATUS"]), done["COMPLETED"].dt, int(done["PERCENT-COMPLETE"])) == ("COMPLETED", done_at, 100)
    assert done["SEQUENCE"] == 1 and str(done["UID"]) == str(todo["UID"])


def test_each_rep_has_their_own_calendar(caldav, radicale):
    radicale.make_calendar("wei")
    schedule(caldav, key="t-1:task:4")
    schedule(caldav, key="t-2:task:6", rep_id="wei")
    assert caldav.run_once() == 2
    assert [str(c["UID"]) for c in items(radicale, "sarah")] == [task_uid("t-1:task:4")]
    assert [str(c["UID"]) for c in items(radicale, "wei")] == [task_uid("t-2:task:6")]


def test_a_follow_up_over_before_it_reached_the_server_is_not_written(caldav, radicale):
    schedule(caldav)
    caldav.close("t-1:task:4", cancelled=True, now=NOW)
    assert caldav.run_once() == 1
    assert items(radicale) == []


def test_what_the_rep_added_in_their_app_survives_a_move(caldav, radicale):
    schedule(caldav)
    caldav.run_once()
    url = caldav.object_url(caldav.task("t-1:task:4"))
    with radicale.client() as client:  # the rep adds a reminder, and their app raises the sequence
        stored = icalendar.Calendar.from_ical(client.get(url).content)
        event = stored.walk("VEVENT")[0]
        event.add_component(icalendar.Alarm({"ACTION": "DISPLAY", "DESCRIPTION": "Call",
                                             "TRIGGER": icalendar.vDuration(-timedelta(minutes=10))}))
        event["SEQUENCE"] = icalendar.vInt(5)
        assert client.put(url, content=stored.to_ical(), headers={"Content-Type": "text/calendar"}).is_success

    schedule(caldav, due=DUE + timedelta(hours=1))
    assert caldav.run_once() == 1
    [moved] = items(radicale)
    assert moved["DTSTART"].dt == DUE + timedelta(hours=1) and moved["SEQUENCE"] == 6
    assert len(moved.walk("VALARM")) == 1


def test_an_object_broken_on_the_server_is_a_failed_push_and_the_others_are_pushed(caldav, radicale):
    schedule(caldav)
    caldav.run_once()
    url = caldav.object_url(caldav.task("t-1:task:4"))
    with radicale.client() as client:  # another app writes it back broken
        broken = client.get(url).content.replace(b"SEQUENCE:0", b"SEQUENCE:abc")
        assert client.put(url, content=broken, headers={"Content-Type": "text/calendar"}).is_success

    schedule(caldav, due=DUE + timedelta(hours=1))
    schedule(caldav, key="t-2:task:6")  # claimed in the same batch, after it
    assert caldav.run_once() == 1
    state = sync_state(caldav.db, "t-1:task:4")
    assert state.sync_attempts == 1 and "SEQUENCE that is not a number" in state.sync_error
    assert state.sync_after < datetime.now(UTC) + timedelta(seconds=2)  # retried with backoff, not left leased
    assert task_uid("t-2:task:6") in [str(c["UID"]) for c in items(radicale)]


def test_an_object_changed_between_read_and_write_is_read_again(db, radicale):
    radicale.make_calendar("sarah")
    changed = []

    def rep_edits_first(request: httpx.Request) -> None:  # the rep's app writes just before our PUT
        if request.method == "PUT" and request.headers.get("If-Match") and not changed:
            changed.append(request.url)
            with radicale.client() as client:
                stored = icalendar.Calendar.from_ical(client.get(request.url).content)
                stored.walk("VEVENT")[0]["LOCATION"] = icalendar.vText("Desk 4")
                client.put(request.url, content=stored.to_ical(), headers={"Content-Type": "text/calendar"})

    client = httpx.Client(auth=(radicale.username, radicale.password), event_hooks={"request": [rep_edits_first]})
    calendar = CalDavCalendar(db, radicale.url_template, client=client)
    schedule(calendar)
    calendar.run_once()
    schedule(calendar, due=DUE + timedelta(hours=2))
    assert calendar.run_once() == 1
    [event] = items(radicale)
    assert changed and event["DTSTART"].dt == DUE + timedelta(hours=2) and str(event["LOCATION"]) == "Desk 4"


def test_a_server_down_or_refusing_is_retried_with_backoff_then_given_up_and_the_log_says_no_more_than_ids(
        db, radicale, caplog):
    radicale.make_calendar("sarah")
    down = CalDavCalendar(db, f"http://127.0.0.1:{free_port()}/{{rep_id}}/calendar/", "warm-transfer", "x",
                          timeout=2, max_attempts=3)
    schedule(down)
    before = datetime.now(UTC)
    with caplog.at_level(logging.WARNING):
        assert down.run_once() == 0
    state = sync_state(db, "t-1:task:4")
    assert state.sync_attempts == 1 and "unreachable" in state.sync_error
    assert before + timedelta(seconds=1) <= state.sync_after <= datetime.now(UTC) + timedelta(seconds=1)
    assert down.run_once() == 0  # not due again before its backoff

    refused = CalDavCalendar(db, radicale.url_template, radicale.username, "wrong password", max_attempts=3)
    with caplog.at_level(logging.WARNING):
        assert refused.run_once(datetime.now(UTC) + timedelta(seconds=2)) == 0
        assert refused.run_once(datetime.now(UTC) + timedelta(seconds=10)) == 0
    state = sync_state(db, "t-1:task:4")
    assert (state.sync_attempts, state.sync_after) == (3, None) and "HTTP 401" in state.sync_error  # given up
    assert "given up" in caplog.text and "t-1:task:4" in caplog.text
    assert SECRET not in caplog.text and "Ann" not in caplog.text and "555" not in caplog.text

    schedule(CalDavCalendar(db, radicale.url_template), due=DUE + timedelta(hours=1))  # a new change: tried afresh
    right = CalDavCalendar(db, radicale.url_template, radicale.username, radicale.password)
    assert right.run_once() == 1
    [event] = items(radicale)
    assert event["DTSTART"].dt == DUE + timedelta(hours=1) and sync_state(db, "t-1:task:4").sync_attempts == 0


def test_two_loops_never_push_the_same_change_at_once(caldav, radicale):
    schedule(caldav)
    claimed = caldav._claim(datetime.now(UTC))
    assert [key for key, _ in claimed] == ["t-1:task:4"]
    assert caldav._claim(datetime.now(UTC)) == []  # leased to the first until it ends
    assert caldav._claim(datetime.now(UTC) + timedelta(minutes=6)) != []


@pytest.mark.timeout(10)
def test_a_server_that_drips_its_answer_is_given_up_at_the_timeout_in_all(db):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: 100000\r\n\r\nBEGIN:VCALENDAR\r\n"
    with drip_server(head, b" ", every=0.2) as drip:
        calendar = CalDavCalendar(db, f"http://127.0.0.1:{drip.port}/{{rep_id}}/calendar/", timeout=1)
        schedule(calendar)
        started = time.monotonic()
        assert calendar.run_once() == 0
        assert time.monotonic() - started < 1.5 and drip.let_go()
        state = sync_state(db, "t-1:task:4")
        assert (state.sync_attempts, state.sync_error) == (1, "CalDAV unreachable (ReadTimeout)")
        calendar.client.close()


def test_an_answer_too_large_is_not_read_to_its_end(db):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: 100000000\r\n\r\n"
    with drip_server(head, b" " * 65536, every=0) as drip:
        calendar = CalDavCalendar(db, f"http://127.0.0.1:{drip.port}/{{rep_id}}/calendar/")
        schedule(calendar)
        assert calendar.run_once() == 0
        assert drip.let_go() and drip.sent < 30_000_000
        assert sync_state(db, "t-1:task:4").sync_error == "CalDAV answered a GET with more than 4 MiB"
        calendar.client.close()
