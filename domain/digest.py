"""The managers' daily digest: which day it reports, what it holds, and its e-mail as text and as HTML.

Its figures are the dashboard's (domain.metrics): the six metrics and the feedback report over the transfers
created that day, and the follow-ups that fell due that day, kept or broken. Both renderings come from one list of
sections, so the text and the HTML always say the same.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from domain.metrics import FeedbackReport, Metrics, Promise, Promises, Rate
from domain.watchdog import FOLLOW_UP_NAMES

MISSING_SHOWN = 5  # the context fields reps most often missed, in the digest


class DayWindow(BaseModel):
    day: date
    timezone: str
    start: datetime  # the day's first instant, UTC
    end: datetime  # the next day's first instant, UTC


class DailyDigest(BaseModel):
    window: DayWindow
    metrics: Metrics
    promises: Promises
    feedback: FeedbackReport
    grace_minutes: int  # how late a follow-up may be taken over and still count as kept
    rep_names: dict[str, str] = {}  # rep id -> name, for the reps the digest mentions


class DigestMail(BaseModel):
    subject: str
    text: str
    html: str


def previous_day(at: datetime, timezone: str) -> DayWindow:
    """The calendar day before the one `at` falls on in `timezone`, as a UTC window (23 or 25 hours long on the
    days the clocks change)."""
    zone = ZoneInfo(timezone)
    today = at.astimezone(zone).date()
    day = today - timedelta(days=1)
    return DayWindow(day=day, timezone=timezone, start=_first_instant(day, zone), end=_first_instant(today, zone))


def _first_instant(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


@dataclass
class _Section:
    title: str
    lead: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]  # shown under the header; none: no table


def render_digest(digest: DailyDigest) -> DigestMail:
    day = digest.window.day
    heading = f"{day:%A} {day.day} {day:%B %Y} ({digest.window.timezone})"
    sections = [_metrics_section(digest.metrics), _promises_section(digest), _feedback_section(digest)]
    subject = f"Warm Transfer daily digest for {day:%a} {day.day} {day:%b %Y}"  # short: one header line
    return DigestMail(subject=subject, text=_as_text(heading, sections), html=_as_html(heading, sections))


def _metrics_section(m: Metrics) -> _Section:
    p, s = m.pickup, m.satisfaction
    pickup = ("—" if p.p50_seconds is None else
              f"p50 {duration(p.p50_seconds)}, p90 {duration(p.p90_seconds)} ({p.count} accepted)")
    satisfaction = "—" if s.mean_csat is None else f"{s.mean_csat:.1f} of 5 ({s.count} answered)"
    return _Section("The six metrics", f"Transfers created: {m.transfers}.", ("metric", "value"), [
        ("Transfer completion", percent(m.completion)),
        ("Time to rep pickup", pickup),
        ("Prospect satisfaction (CSAT)", satisfaction),
        ("Conversation continuation", percent(m.continuation)),
        ("Conversion", percent(m.conversion)),
        ("Context utilisation (summary opened)", percent(m.context_utilisation.summary)),
    ])


def _promises_section(digest: DailyDigest) -> _Section:
    promises, zone = digest.promises, ZoneInfo(digest.window.timezone)
    lead = (f"Follow-ups due: {promises.due}; not taken over within {digest.grace_minutes} min of their time: "
            f"{len(promises.broken)}." if promises.due else "No follow-up was due.")
    rows = [(p.transfer_id, FOLLOW_UP_NAMES.get(p.channel, "follow-up"), _local(p.due, zone),
             digest.rep_names.get(p.owner, p.owner) if p.owner else "the first free rep", _what_happened(p, zone))
            for p in promises.broken]
    return _Section("Broken promises", lead, ("transfer", "follow-up", "due", "owner", "what happened"), rows)


def _what_happened(promise: Promise, zone: ZoneInfo) -> str:
    if promise.taken_over_at is not None:
        return f"taken over late, {_local(promise.taken_over_at, zone)}"
    return f"not taken over; {promise.status}"


def _feedback_section(digest: DailyDigest) -> _Section:
    report = digest.feedback
    lead = (f"Rep answers: {report.rep_answers}. The context helped: {percent(report.context_helpful)}; the "
            f"prospect had to repeat something: {percent(report.prospect_repeated)}.")
    rows = [("missing", f"{item.field} ({item.count})", "") for item in report.missing[:MISSING_SHOWN]]
    rows += [("rep idea", c.text, f"{digest.rep_names.get(c.rep_id, c.rep_id or '')}, {c.transfer_id}")
             for c in report.improvements]
    rows += [("prospect", c.text, f"CSAT {c.csat}, {c.transfer_id}") for c in report.prospect_comments]
    return _Section("Feedback", lead, ("what", "said", "who"), rows)


def percent(rate: Rate) -> str:
    if rate.value is None:
        return "— (none to count)"
    return f"{rate.value:.0%} ({rate.numerator} of {rate.denominator})"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _local(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"


def _as_text(heading: str, sections: list[_Section]) -> str:
    parts = [f"Warm Transfer, yesterday: {heading}"]
    for section in sections:
        parts += ["", section.title, "-" * len(section.title), section.lead]
        table = [section.header, *section.rows] if section.rows else []
        widths = [max(len(cell) for cell in column) for column in zip(*table, strict=True)]
        parts += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                  for row in table]
    return "\n".join(parts) + "\n"


def _as_html(heading: str, sections: list[_Section]) -> str:
    e = html.escape
    parts = ['<!DOCTYPE html>\n<html><body style="font-family: sans-serif">',
             f"<h1>Warm Transfer, yesterday: {e(heading)}</h1>"]
    for section in sections:
        parts += [f"<h2>{e(section.title)}</h2>", f"<p>{e(section.lead)}</p>"]
        if section.rows:
            parts.append('<table cellpadding="4" style="border-collapse: collapse">')
            parts.append("<tr>" + "".join(f'<th align="left">{e(name)}</th>' for name in section.header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in section.rows]
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
