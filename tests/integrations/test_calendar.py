from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import icalendar
import pytest

from integrations.calendar.base import CalendarTask, TaskNotFound
from integrations.calendar.builtin import BuiltinCalendar
from integrations.calendar.ics import Party, invitation, render_ics, task_uid

PARIS_SUMMER = timezone(timedelta(hours=2))
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def schedule(calendar: BuiltinCalendar, key: str, due: datetime, title: str = "Call Ann back",
             description: str = "About pricing", rep_id: str = "rep-1") -> CalendarTask:
    return calendar.schedule(key, rep_id, "t-1", "callback", due, title, description, NOW)


def test_scheduling_again_the_same_changes_nothing_and_a_change_moves_the_task(db):
    calendar = BuiltinCalendar(db)
    due = datetime(2030, 6, 3, 10, 0, tzinfo=PARIS_SUMMER)
    first = schedule(calendar, "t-1:callback", due)
    assert first.due_at == datetime(2030, 6, 3, 8, 0, tzinfo=UTC) and first.due_at.tzinfo is UTC
    assert (first.sequence, first.done, first.cancelled, first.kind) == (0, False, False, "callback")
    assert schedule(calendar, "t-1:callback", due) == first  # a retried step

    moved = schedule(calendar, "t-1:callback", due + timedelta(hours=1), description="About pricing, and SSO")
    assert (moved.id, moved.sequence, moved.due_at) == (first.id, 1, first.due_at + timedelta(hours=1))
    assert moved.description == "About pricing, and SSO"
    assert schedule(calendar, "t-1:callback", due + timedelta(hours=1), description="About pricing, and SSO") == moved


def test_naive_due_times_are_refused(db):
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule(BuiltinCalendar(db), "k", datetime(2030, 1, 1))


def test_tasks_for_a_rep_soonest_first_and_closing(db):
    calendar = BuiltinCalendar(db)
    base = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
    schedule(calendar, "late", base + timedelta(hours=2))
    schedule(calendar, "early", base)
    schedule(calendar, "dropped", base + timedelta(hours=1))
    schedule(calendar, "other-rep", base, rep_id="rep-2")

    assert [task.key for task in calendar.tasks_for("rep-1")] == ["early", "dropped", "late"]
    done = calendar.close("early", cancelled=False, now=base)
    assert (done.done, done.cancelled, done.completed_at, done.sequence) == (True, False, base, 1)
    assert calendar.close("early", cancelled=True, now=base + timedelta(hours=1)) == done  # closed once
    assert schedule(calendar, "early", base + timedelta(days=1)) == done  # a closed task stays closed
    dropped = calendar.close("dropped", cancelled=True, now=base)
    assert (dropped.done, dropped.cancelled) == (True, True)
    assert [task.key for task in calendar.tasks_for("rep-1")] == ["late"]
    assert [task.key for task in calendar.tasks_for("rep-1", include_done=True)] == ["early", "dropped", "late"]
    with pytest.raises(TaskNotFound):
        calendar.close("missing", cancelled=False, now=base)


def task(key: str, title: str, description: str, due: datetime, sequence: int = 0) -> CalendarTask:
    return CalendarTask(id=1, key=key, rep_id="rep-1", transfer_id="t-1", kind="callback", due_at=due, title=title,
                        description=description, sequence=sequence, done=False, cancelled=False)


def test_the_feed_is_valid_rfc5545_with_escaping_and_folding():
    description = "Needs: SSO, SAML; budget \\ timeline\nSecond line — 中文说明 " + "长" * 60
    due = datetime(2030, 6, 3, 10, 0, tzinfo=PARIS_SUMMER)
    tasks = [task("t-1:callback", "Call Ann, Acme; re: pricing", description, due, sequence=2),
             task("t-2:x", "Other", "", due)]
    text = render_ics(tasks, "Mei's callbacks, and more", now=NOW)

    # Every line ends in CRLF, is at most 75 octets, and a continuation starts with one space.
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    logical = text.replace("\r\n ", "").split("\r\n")
    assert "SUMMARY:Call Ann\\, Acme\\; re: pricing" in logical
    assert "X-WR-CALNAME:Mei's callbacks\\, and more" in logical  # TEXT, escaped as SUMMARY is

    parsed = icalendar.Calendar.from_ical(text)
    assert (str(parsed["VERSION"]), str(parsed["METHOD"]), str(parsed["CALSCALE"])) == ("2.0", "PUBLISH", "GREGORIAN")
    assert str(parsed["PRODID"]) == "-//Warm Transfer//Rep calendar//EN"
    events = parsed.walk("VEVENT")
    assert len(events) == 2
    event = events[0]
    assert str(event["SUMMARY"]) == "Call Ann, Acme; re: pricing"
    assert str(event["DESCRIPTION"]) == description
    assert event["DTSTART"].dt == datetime(2030, 6, 3, 8, 0, tzinfo=UTC)
    assert event["DTSTAMP"].dt == NOW
    assert event["DURATION"].dt == timedelta(minutes=15)
    assert str(event["UID"]) == task_uid("t-1:callback") and event["SEQUENCE"] == 2
    assert str(events[1]["UID"]) != str(event["UID"])


def test_control_characters_never_reach_the_feed():
    text = render_ics([task("k", "Call\x00 Ann\r\nBack", "a\x07b\rc", NOW)], "Feed\x1b name\nhere", now=NOW)
    assert not any(ch in text for ch in "\x00\x07\x1b")
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == ("Call Ann\nBack", "ab\nc")


def test_uid_is_stable_across_renders():
    due = datetime(2030, 6, 3, 10, 0, tzinfo=UTC)
    renders = [render_ics([task("t-1:callback", title, "", due)], "c") for title in ("First", "Renamed")]
    uids = [icalendar.Calendar.from_ical(r).walk("VEVENT")[0]["UID"] for r in renders]
    assert uids[0] == uids[1]


def test_an_invitation_is_a_request_from_the_rep_to_the_prospect_with_the_events_uid():
    callback = task("t-1:task:4", "Follow up: Ann @ Acme", "the rep's briefing", NOW + timedelta(days=1), sequence=1)
    hostile = "Ann\r\nATTENDEE:mailto:eve@evil.example"
    text = invitation(callback, "Call with Sarah Chen", Party("Sarah Chen", "sarah@example.com"),
                      Party(hostile, "ann@example.com"), NOW)
    parsed = icalendar.Calendar.from_ical(text)
    assert str(parsed["METHOD"]) == "REQUEST"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == task_uid("t-1:task:4") and event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == NOW + timedelta(days=1) and str(event["SUMMARY"]) == "Call with Sarah Chen"
    assert "DESCRIPTION" not in event  # the rep's briefing stays with the rep
    organizer, attendee = event["ORGANIZER"], event["ATTENDEE"]
    assert (str(organizer), organizer.params["CN"]) == ("mailto:sarah@example.com", "Sarah Chen")
    assert str(attendee) == "mailto:ann@example.com" and attendee.params["CN"] == "Ann ATTENDEE:mailto:eve@evil.example"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    lines = text.replace("\r\n ", "").split("\r\n")
    assert len([line for line in lines if line.startswith("ATTENDEE")]) == 1  # the name never makes a line its own
