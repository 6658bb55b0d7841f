"""The daily digest: the day it reports, and its e-mail as text and HTML saying the same."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from domain.digest import DailyDigest, previous_day, render_digest
from domain.metrics import (
    Event,
    Promise,
    ProspectFeedbackRecord,
    RepFeedbackRecord,
    TransferRecord,
    feedback_report,
    metrics,
    promises_due,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_yesterday_is_the_calendar_day_before_in_the_digests_time_zone():
    utc = previous_day(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), "UTC")
    assert (utc.day, utc.start, utc.end) == (date(2026, 3, 2), datetime(2026, 3, 2, tzinfo=UTC),
                                             datetime(2026, 3, 3, tzinfo=UTC))
    # 01:30 UTC is still the evening before in New York: its yesterday is two days back.
    new_york = previous_day(datetime(2026, 3, 3, 1, 30, tzinfo=UTC), "America/New_York")
    assert new_york.day == date(2026, 3, 1) and new_york.start == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    # The day the clocks go forward in Paris has 23 hours.
    spring = previous_day(datetime(2026, 3, 30, 6, 0, tzinfo=UTC), "Europe/Paris")
    assert spring.day == date(2026, 3, 29) and spring.end - spring.start == timedelta(hours=23)


def _digest() -> DailyDigest:
    window = previous_day(T0 + timedelta(days=1), "UTC")
    at = T0.replace(hour=9)
    records = [
        TransferRecord(transfer_id="won", status="completed", created_at=at, outcome="demo_booked", csat=4, events=(
            Event(kind="requested", at=at), Event(kind="accepted", at=at + timedelta(seconds=90), rep_id="sarah"),
            Event(kind="connected", at=at + timedelta(minutes=2), rep_id="sarah"),
            Event(kind="continuation", at=at + timedelta(minutes=3))), opened=frozenset({("sarah", "summary_seen")})),
        TransferRecord(transfer_id="left", status="cancelled", created_at=at, events=(Event(kind="requested", at=at),)),
    ]
    promises = [Promise(transfer_id="xfer_cb", made_at=at, due=T0.replace(hour=14), channel="phone", owner="sarah",
                        status="callback_scheduled"),
                Promise(transfer_id="xfer_ok", made_at=at, due=T0.replace(hour=15), channel="email", owner="alex",
                        taken_over_at=T0.replace(hour=15, minute=5), status="completed")]
    report = feedback_report(
        [RepFeedbackRecord(transfer_id="won", rep_id="sarah", at=at, context_helpful=True, missing=("budget <owner>",),
                           prospect_repeated=False, improve="Name the decision maker")],
        [ProspectFeedbackRecord(transfer_id="won", at=at, csat=4, comment="Quick & easy")])
    return DailyDigest(window=window, metrics=metrics(records), feedback=report, grace_minutes=15,
                       promises=promises_due(promises, window.start, window.end, T0 + timedelta(days=1),
                                             timedelta(minutes=15)),
                       rep_names={"sarah": "Sarah Chen"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.cells.append(data.strip())


def test_the_digest_says_the_six_metrics_the_broken_promises_and_the_feedback_in_text_and_html():
    mail = render_digest(_digest())
    assert mail.subject == "Warm Transfer daily digest for Mon 2 Mar 2026"
    text = mail.text
    assert "Warm Transfer, yesterday: Monday 2 March 2026 (UTC)" in text
    for figure in ("Transfer completion                   50% (1 of 2)",  # the one cancelled settled too
                   "Time to rep pickup                    p50 1 min 30 s, p90 1 min 30 s (1 accepted)",
                   "Prospect satisfaction (CSAT)          4.0 of 5 (1 answered)",
                   "Conversation continuation             100% (1 of 1)",
                   "Conversion                            100% (1 of 1)",
                   "Context utilisation (summary opened)  100% (1 of 1)"):
        assert f"  {figure}" in text
    assert "Follow-ups due: 2; not taken over within 15 min of their time: 1." in text
    assert "xfer_cb   callback   2026-03-02 14:00  Sarah Chen  not taken over; callback_scheduled" in text
    assert "xfer_ok" not in text
    assert "missing   budget <owner> (1)" in text and "Name the decision maker" in text and "Quick & easy" in text

    parsed = _Text()
    parsed.feed(mail.html)
    assert "budget <owner> (1)" in parsed.cells and "Quick & easy" in parsed.cells  # escaped in the HTML, then read
    assert html.escape("budget <owner>") in mail.html
    for cell in ("Transfer completion", "50% (1 of 2)", "xfer_cb", "Sarah Chen", "not taken over; callback_scheduled"):
        assert cell in parsed.cells


def test_a_quiet_day_reads_as_nothing_to_count_rather_than_zero():
    window = previous_day(T0, "UTC")
    empty = DailyDigest(window=window, metrics=metrics([]), feedback=feedback_report([], []), grace_minutes=15,
                        promises=promises_due([], window.start, window.end, T0, timedelta(minutes=15)))
    text = render_digest(empty).text
    assert "Transfers created: 0." in text and "Transfer completion                   — (none to count)" in text
    assert "No follow-up was due." in text
