"""RFC 5545 (iCalendar) feed of calendar tasks, for reps to subscribe to in any calendar app.

Each task is a VEVENT (calendar apps show events; many ignore VTODO) starting at its due time.
A feed normally lists open tasks only (`Calendar.tasks_for`), so a completed task leaves the calendar.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from integrations.calendar.base import CalendarTask

_MAX_LINE_OCTETS = 75
# Controls other than TAB are not allowed in a property value (newlines are escaped before this).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def render_ics(
    tasks: Iterable[CalendarTask],
    calendar_name: str,
    *,
    now: datetime | None = None,
    duration_minutes: int = 15,
) -> str:
    stamp = _utc(now or datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Warm Transfer//Rep calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(calendar_name)}",
    ]
    for task in tasks:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{task_uid(task.key)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(task.due_at)}",
            f"DURATION:PT{duration_minutes}M",
            f"SUMMARY:{escape_text(task.title)}",
            f"DESCRIPTION:{escape_text(task.description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def task_uid(key: str) -> str:
    """Stable per task key, so re-fetching the feed updates events instead of duplicating them."""
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@warm-transfer"


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 section 3.3.11: backslash, semicolon, comma, newline."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROL_CHARS.sub("", value)


def fold(line: str) -> str:
    """Split a content line into parts of at most 75 octets (never inside a UTF-8 character);
    each continuation starts with a space, which counts toward its 75."""
    parts, current, size = [], "", 0
    for char in line:
        octets = len(char.encode())
        if size + octets > _MAX_LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += octets
    parts.append(current)
    return "\r\n".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
