"""Metric formulas on hand-built transfers whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.metrics import (
    Event,
    Promise,
    ProspectFeedbackRecord,
    RepFeedbackRecord,
    TransferRecord,
    broken,
    feedback_report,
    metrics,
    percentile,
    promises_due,
    series,
    step_seconds,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _transfer(tid: str, status: str, *kinds: tuple[str, float], rep: str = "sarah", **facts) -> TransferRecord:
    """A transfer whose events are (kind, seconds after T0); every event is by `rep`."""
    events = tuple(Event(kind=kind, at=T0 + timedelta(seconds=s), rep_id=rep) for kind, s in kinds)
    return TransferRecord(transfer_id=tid, status=status, created_at=facts.pop("created_at", T0),
                          events=events, **facts)


CONNECTED = (("requested", 0), ("offered", 5), ("accepted", 20), ("connected", 30))

KNOWN = [
    # completed, the prospect replied, a demo was booked, the rep read the summary and ticked the checklist
    _transfer("a", "completed", *CONNECTED, ("continuation", 40), ("outcome", 90), branch="immediate",
              category="positive", outcome="demo_booked", csat=5,
              opened=frozenset({("sarah", "summary_seen"), ("sarah", "checklist:1"), ("sarah", "checklist:2")})),
    # completed without a reply from the prospect; lost; only another rep (who declined) read the summary
    _transfer("b", "completed", ("requested", 0), ("accepted", 60), ("connected", 70), ("outcome", 100),
              branch="queued", category="rescue", outcome="lost", csat=2,
              opened=frozenset({("alex", "summary_seen")})),
    # the prospect left before anyone picked up
    _transfer("c", "cancelled", ("requested", 0), ("cancelled", 10), branch="cancelled", category="positive"),
    # waiting for a scheduled callback
    _transfer("d", "callback_scheduled", ("requested", 0), ("follow_up", 10), branch="callback"),
    # still offered: not settled, so outside the completion rate
    _transfer("e", "offered", ("requested", 0), ("offered", 3), branch="immediate", category="necessary"),
]


def test_known_transfers_give_known_figures():
    figures = metrics(KNOWN)
    assert figures.transfers == 5
    assert (figures.completion.numerator, figures.completion.denominator) == (2, 4)
    assert figures.completion.value == 0.5
    assert figures.pickup.count == 2 and figures.pickup.p50_seconds == 20 and figures.pickup.p90_seconds == 60
    assert figures.satisfaction.count == 2 and figures.satisfaction.mean_csat == 3.5
    assert (figures.continuation.numerator, figures.continuation.denominator) == (1, 2)
    assert (figures.conversion.numerator, figures.conversion.denominator) == (1, 2)
    utilisation = figures.context_utilisation
    assert (utilisation.summary.numerator, utilisation.summary.denominator) == (1, 2)  # alex's look doesn't count
    assert utilisation.items["checklist"].value == 0.5 and utilisation.items["opener_copied"].value == 0
    assert figures.by_branch == {"immediate": 2, "queued": 1, "cancelled": 1, "callback": 1}
    assert figures.by_category == {"positive": 2, "rescue": 1, "necessary": 1, "unknown": 1}


def test_offers_count_each_offer_and_how_it_ended():
    records = [
        *KNOWN,  # a: offered and accepted; b: accepted (its offer made before the window); e: offered, still open
        # offered to sarah, who let it lapse; to alex, who declined; to kim, who deferred to lee, who accepted and
        # then did not take over in time: recovery
        _transfer("f", "recovering", ("requested", 0), ("offered", 1), ("offer_timeout", 31), ("offered", 32),
                  ("declined", 40), ("offered", 41), ("deferred", 45), ("offered", 46), ("accepted", 50),
                  ("failure", 110)),
        # a follow-up's owner accepted it when it came due and did not confirm it; the next rep took it over
        _transfer("g", "completed", ("requested", 0), ("offered", 1), ("accepted", 2), ("ack_timeout", 62),
                  ("offered", 63), ("accepted", 64), ("connected", 70), ("outcome", 80)),
        # a failure with no offer accepted before it (the alert could not be delivered) is no missed take-over
        _transfer("h", "recovering", ("requested", 0), ("offered", 1), ("failure", 2)),
        # the rep booked a callback instead; when it came due, the prospect had left before she answered
        _transfer("i", "cancelled", ("requested", 0), ("offered", 1), ("follow_up", 5), ("offered", 600),
                  ("cancelled", 610)),
        # a follow-up booked from the queue, with no offer open, is no offer's end
        _transfer("j", "callback_scheduled", ("requested", 0), ("queued", 1), ("follow_up", 20)),
    ]
    offers = metrics(records).offers
    assert offers.model_dump() == {"made": 11, "accepted": 5, "declined": 1, "deferred": 1, "expired": 1,
                                   "not_taken_over": 2, "callback": 1, "withdrawn": 1}
    assert metrics([]).offers.model_dump() == dict.fromkeys(offers.model_dump(), 0)


def test_no_transfers_give_null_rates_not_errors():
    figures = metrics([])
    assert figures.transfers == 0
    for rate in (figures.completion, figures.continuation, figures.conversion, figures.context_utilisation.summary):
        assert (rate.numerator, rate.denominator, rate.value) == (0, 0, None)
    assert figures.pickup.p50_seconds is None and figures.pickup.p90_seconds is None
    assert figures.satisfaction.mean_csat is None and figures.satisfaction.count == 0
    assert figures.by_branch == {} and figures.by_category == {}


def test_transfers_in_live_steps_leave_every_rate_null():
    figures = metrics([KNOWN[-1]])
    assert figures.completion.value is None and figures.continuation.value is None
    assert figures.pickup.count == 0 and figures.by_branch == {"immediate": 1}


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([7.0], 50, 7.0), ([7.0], 90, 7.0), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 90, 4),
    (list(range(1, 11)), 90, 9), ([3, 1, 2], 50, 2), ([], 50, None),
])
def test_percentile_is_the_nearest_rank(values, p, expected):
    assert percentile(values, p) == expected


def test_series_counts_each_transfer_in_its_creation_bucket_and_keeps_quiet_buckets():
    late = KNOWN[1].model_copy(update={"created_at": T0 + timedelta(hours=2, minutes=5)})
    buckets = series([KNOWN[0], late], T0, T0 + timedelta(hours=3), "hour")
    assert [b.start.hour for b in buckets] == [9, 10, 11]
    assert [b.metrics.transfers for b in buckets] == [1, 0, 1]
    assert buckets[1].metrics.completion.value is None
    assert buckets[2].metrics.conversion.value == 0
    days = series(KNOWN, T0, T0 + timedelta(days=1), "day")  # 09:00 to 09:00 overlaps two days
    assert [b.start for b in days] == [T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=1)]


def test_feedback_report_ranks_missing_fields_and_tracks_repeats():
    def rep(tid: str, missing: tuple[str, ...], repeated: bool | None, improve: str | None = None, minute: int = 0):
        return RepFeedbackRecord(transfer_id=tid, rep_id="sarah", at=T0 + timedelta(minutes=minute),
                                 context_helpful=not missing, missing=missing, prospect_repeated=repeated,
                                 improve=improve)

    report = feedback_report(
        [rep("a", ("budget", "timeline"), True, "Ask the budget first", 1), rep("b", ("budget",), False, "  ", 2),
         rep("c", (), False, "Great summary", 3), rep("d", ("budget",), None)],
        [ProspectFeedbackRecord(transfer_id="a", at=T0, csat=4, comment="Quick"),
         ProspectFeedbackRecord(transfer_id="b", at=T0, csat=1)],
    )
    assert report.rep_answers == 4
    assert (report.prospect_repeated.numerator, report.prospect_repeated.denominator) == (1, 3)
    assert [(m.field, m.count) for m in report.missing] == [("budget", 3), ("timeline", 1)]
    assert (report.missing[0].prospect_repeated.numerator, report.missing[0].prospect_repeated.denominator) == (1, 2)
    assert report.missing[1].prospect_repeated.value == 1
    assert report.context_helpful.value == 0.25
    assert [c.text for c in report.improvements] == ["Great summary", "Ask the budget first"]
    assert [(c.text, c.csat) for c in report.prospect_comments] == [("Quick", 4)]


def test_empty_feedback_report():
    report = feedback_report([], [])
    assert report.rep_answers == 0 and report.prospect_repeated.value is None and report.missing == []


def test_step_seconds_times_each_workflow_step_from_the_events():
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    kinds = [("requested", 0), ("offered", 2), ("accepted", 12), ("connected", 20), ("outcome", 620)]
    record = TransferRecord(transfer_id="t", status="completed", created_at=start,
                            events=[Event(kind=kind, at=start + timedelta(seconds=s)) for kind, s in kinds])
    queued = TransferRecord(transfer_id="q", status="queued", created_at=start,
                            events=[Event(kind="requested", at=start)])
    assert step_seconds([record, queued]) == {"routing": [2.0], "rep_answer": [10.0], "take_over": [8.0],
                                              "conversation": [600.0]}


# ---- promises: follow-ups kept or broken ---------------------------------------------------------------------------

GRACE = timedelta(minutes=15)


def _promise(tid: str, due_hours: float, taken_over_minutes: float | None = None, **fields) -> Promise:
    due = T0 + timedelta(hours=due_hours)
    taken = None if taken_over_minutes is None else due + timedelta(minutes=taken_over_minutes)
    return Promise(transfer_id=tid, made_at=T0, due=due, channel="phone", owner="sarah", taken_over_at=taken,
                   status=fields.pop("status", "callback_scheduled"), **fields)


def test_a_promise_is_kept_when_a_rep_takes_over_within_the_grace_of_its_due_time():
    now = T0 + timedelta(days=1)
    assert not broken(_promise("early", 1, taken_over_minutes=-30), now, GRACE)
    assert not broken(_promise("just", 1, taken_over_minutes=15), now, GRACE)
    assert broken(_promise("late", 1, taken_over_minutes=16), now, GRACE)
    assert broken(_promise("never", 1), now, GRACE)
    assert not broken(_promise("not yet decided", 1), T0 + timedelta(hours=1, minutes=14), GRACE)


def test_a_promise_due_at_the_end_of_time_is_simply_not_due_yet():
    end_of_time = Promise(transfer_id="far", made_at=T0, due=datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
                          channel="phone", status="callback_scheduled")
    assert not broken(end_of_time, T0, GRACE)
    assert promises_due([end_of_time], T0, datetime.max.replace(tzinfo=UTC), now=T0, grace=GRACE).due == 1


def test_promises_due_in_a_window_count_kept_and_list_broken_ones_earliest_first():
    promises = [_promise("kept", 2, taken_over_minutes=5), _promise("late", 5, taken_over_minutes=40),
                _promise("never", 3), _promise("before", -1), _promise("after", 30),
                _promise("pending", 23.9)]
    day = promises_due(promises, T0, T0 + timedelta(days=1), now=T0 + timedelta(hours=24), grace=GRACE)
    assert day.due == 4  # kept, late, never, pending
    assert (day.kept.numerator, day.kept.denominator) == (1, 3)  # pending's grace is not over
    assert [p.transfer_id for p in day.broken] == ["never", "late"]
