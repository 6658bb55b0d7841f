from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import icalendar
import pytest

from integrations.calendar.base import CalendarTask, TaskNotFound
from integrations.calendar.builtin import BuiltinCalendar
from integrations.calendar.ics import escape_text, fold, render_ics, task_uid

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_create_task_is_idempotent_on_key(db):
    calendar = BuiltinCalendar(db)
    due = datetime(2030, 6, 3, 10, 0, tzinfo=PARIS_SUMMER)
    first = calendar.create_task("t-1:callback", "rep-1", "t-1", due, "Call Ann back", "About pricing")
    again = calendar.create_task("t-1:callback", "rep-1", "t-1", due + timedelta(hours=1), "Changed", "Changed")

    assert again == first
    assert first.due_at == datetime(2030, 6, 3, 8, 0, tzinfo=UTC) and first.due_at.tzinfo is UTC
    assert not first.done


def test_naive_due_times_are_refused(db):
    with pytest.raises(ValueError, match="timezone-aware"):
        BuiltinCalendar(db).create_task("k", "rep-1", "t-1", datetime(2030, 1, 1), "t", "d")


def test_tasks_for_a_rep_soonest_first_and_completion(db):
    calendar = BuiltinCalendar(db)
    base = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
    calendar.create_task("late", "rep-1", "t-1", base + timedelta(hours=2), "late", "")
    calendar.create_task("early", "rep-1", "t-2", base, "early", "")
    calendar.create_task("other-rep", "rep-2", "t-3", base, "other", "")

    assert [task.key for task in calendar.tasks_for("rep-1")] == ["early", "late"]
    done = calendar.complete("early")
    assert done.done and calendar.complete("early") == done  # completing again changes nothing
    assert [task.key for task in calendar.tasks_for("rep-1")] == ["late"]
    assert [task.key for task in calendar.tasks_for("rep-1", include_done=True)] == ["early", "late"]
    with pytest.raises(TaskNotFound):
        calendar.complete("missing")


def task(key: str, title: str, description: str, due: datetime) -> CalendarTask:
    return CalendarTask(
        id=1, key=key, rep_id="rep-1", transfer_id="t-1", due_at=due, title=title, description=description, done=False
    )


def test_ics_is_valid_rfc5545_with_escaping_and_folding():
    description = "Needs: SSO, SAML; budget \\ timeline\nSecond line — 中文说明 " + "长" * 60
    due = datetime(2030, 6, 3, 10, 0, tzinfo=PARIS_SUMMER)
    now = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)
    tasks = [task("t-1:callback", "Call Ann, Acme; re: pricing", description, due), task("t-2:x", "Other", "", due)]
    text = render_ics(tasks, "Mei's callbacks", now=now)

    # Every line ends in CRLF, is at most 75 octets, and a continuation starts with one space.
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)
    logical = text.replace("\r\n ", "").split("\r\n")[:-1]
    assert logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in logical and any(line.startswith("PRODID:") for line in logical)
    assert "SUMMARY:Call Ann\\, Acme\\; re: pricing" in logical
    assert f"DESCRIPTION:{escape_text(description)}" in logical
    assert "DTSTART:20300603T080000Z" in logical and "DTSTAMP:20300601T120000Z" in logical

    parsed = icalendar.Calendar.from_ical(text)
    assert str(parsed["X-WR-CALNAME"]) == "Mei's callbacks"
    events = parsed.walk("VEVENT")
    assert len(events) == 2
    event = events[0]
    assert str(event["SUMMARY"]) == "Call Ann, Acme; re: pricing"
    assert str(event["DESCRIPTION"]) == description
    assert event["DTSTART"].dt == datetime(2030, 6, 3, 8, 0, tzinfo=UTC)
    assert event["DURATION"].dt == timedelta(minutes=15)
    assert str(event["UID"]) == task_uid("t-1:callback")
    assert str(events[1]["UID"]) != str(event["UID"])


def test_uid_is_stable_across_renders():
    due = datetime(2030, 6, 3, 10, 0, tzinfo=UTC)
    renders = [render_ics([task("t-1:callback", title, "", due)], "c") for title in ("First", "Renamed")]
    uids = [icalendar.Calendar.from_ical(r).walk("VEVENT")[0]["UID"] for r in renders]
    assert uids[0] == uids[1]


def test_fold_never_splits_a_multibyte_character():
    line = "DESCRIPTION:" + "é" * 100
    parts = fold(line).split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert "".join(part.removeprefix(" ") if i else part for i, part in enumerate(parts)) == line


def test_escape_text_covers_the_special_characters_and_newlines():
    assert escape_text("a\\b;c,d\r\ne\rf\ng\x00h") == "a\\\\b\\;c\\,d\\ne\\nf\\ngh"
