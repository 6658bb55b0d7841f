"""The seed's transfer metrics, computed from stored facts and events (never from counters that can drift).

Pure functions over plain records; the store assembles the records, the API serves the results.
Every rate carries its numerator and denominator, and is null (not 0, not an error) when nothing
was there to count. docs/metrics.md repeats each definition.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

# A transfer that is in one of these has settled, for better or worse: it ended, or it waits for a
# scheduled follow-up. Transfers still moving through the live steps are left out of the completion rate.
ENDED_STATUSES = frozenset({"completed", "cancelled", "abandoned"})
FOLLOW_UP_STATUSES = frozenset({"callback_scheduled", "email_follow_up", "async_follow_up"})
CONVERTED_OUTCOMES = frozenset({"converted", "demo_booked"})
# The console items reported even when nobody opened them, so a chart's categories stay put.
CONSOLE_ITEMS = ("summary_seen", "talking_points_seen", "transcript_expanded", "opener_copied", "checklist")
UNKNOWN = "unknown"

Bucket = Literal["hour", "day"]


class Event(BaseModel, frozen=True):
    kind: str
    at: datetime
    rep_id: str | None = None


class TransferRecord(BaseModel, frozen=True):
    """One transfer as the metrics see it: its latest facts, its events, what reps opened, its CSAT."""

    transfer_id: str
    status: str
    created_at: datetime
    branch: str | None = None
    category: str | None = None
    outcome: str | None = None
    events: tuple[Event, ...] = ()
    opened: frozenset[tuple[str, str]] = frozenset()  # (rep_id, console item)
    csat: int | None = None


class RepFeedbackRecord(BaseModel, frozen=True):
    transfer_id: str
    rep_id: str | None
    at: datetime
    context_helpful: bool | None = None
    missing: tuple[str, ...] = ()
    prospect_repeated: bool | None = None
    improve: str | None = None


class ProspectFeedbackRecord(BaseModel, frozen=True):
    transfer_id: str
    at: datetime
    csat: int
    comment: str | None = None


class Rate(BaseModel):
    numerator: int
    denominator: int
    value: float | None  # null when the denominator is 0

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Rate:
        return cls(numerator=numerator, denominator=denominator,
                   value=numerator / denominator if denominator else None)


class Pickup(BaseModel):
    count: int
    p50_seconds: float | None
    p90_seconds: float | None


class Satisfaction(BaseModel):
    count: int
    mean_csat: float | None


class Utilisation(BaseModel):
    summary: Rate
    items: dict[str, Rate]


class Offers(BaseModel):
    """What became of the offers made to reps (each offer counts, so a transfer may count several times)."""

    made: int = 0  # `offered` events: a rep was offered the transfer (live, or a follow-up coming due)
    accepted: int = 0  # `accepted`
    declined: int = 0  # `declined`
    deferred: int = 0  # `deferred`: passed on to a colleague
    expired: int = 0  # `offer_timeout`: left unanswered until the offer lapsed (the rep is set away)
    not_taken_over: int = 0  # accepted, then not taken over in time: a `failure` (or `ack_timeout`) before `connected`
    callback: int = 0  # answered with a callback the rep booked (`follow_up` while the offer was open)
    withdrawn: int = 0  # the prospect left while it was open (`cancelled`)


class Metrics(BaseModel):
    transfers: int
    completion: Rate
    pickup: Pickup
    satisfaction: Satisfaction
    continuation: Rate
    conversion: Rate
    context_utilisation: Utilisation
    by_branch: dict[str, int]
    by_category: dict[str, int]
    faults: dict[str, int]
    # Defaulted: the digest workflow's recorded histories hold Metrics from before offers were counted, and replay.
    offers: Offers = Offers()


class BucketMetrics(BaseModel):
    start: datetime
    metrics: Metrics


def _has(record: TransferRecord, kind: str) -> bool:
    return any(event.kind == kind for event in record.events)


def _first_at(record: TransferRecord, kind: str) -> datetime | None:
    return min((event.at for event in record.events if event.kind == kind), default=None)


def reached_connected(record: TransferRecord) -> bool:
    """A rep took over: the transfer has a `connected` event (whatever happened after)."""
    return _has(record, "connected")


def completion_rate(records: Iterable[TransferRecord]) -> Rate:
    """Transfers that reached `connected` ÷ transfers that settled.

    Settled: reached `connected`, or ended (completed, cancelled, abandoned), or wait for a scheduled
    follow-up (callback, e-mail, async). Transfers still in a live step (preparing, offered, queued,
    recovering, ...) are in neither count: they have not had their chance yet.
    """
    settled = [r for r in records
               if reached_connected(r) or r.status in ENDED_STATUSES or r.status in FOLLOW_UP_STATUSES]
    return Rate.of(sum(reached_connected(r) for r in settled), len(settled))


def interval_seconds(record: TransferRecord, start_kind: str, end_kind: str) -> float | None:
    """Seconds from the first `start_kind` event to the first `end_kind` event; None if either is missing."""
    start, end = _first_at(record, start_kind), _first_at(record, end_kind)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def pickup_seconds(record: TransferRecord) -> float | None:
    """Seconds from the first `requested` event to the first `accepted` event; None if either is missing."""
    return interval_seconds(record, "requested", "accepted")


# The workflow's steps as intervals between its first events of each kind (for latency monitoring).
STEPS: dict[str, tuple[str, str]] = {
    "routing": ("requested", "offered"),  # from the bot's request to the first offer
    "rep_answer": ("offered", "accepted"),  # the rep reads the alert and accepts
    "take_over": ("accepted", "connected"),  # from accepting to "taking over"
    "conversation": ("connected", "outcome"),  # the rep's conversation, to the outcome
}

# The integrations whose failures a transfer's timeline records, by the event kind that records them: the CRM
# unavailable when the transfer was planned, a delivery attempt that failed on a channel outside the app.
FAULTS: dict[str, str] = {"crm": "crm_unavailable", "webhook": "webhook_failed", "email": "email_failed",
                          "chat": "chat_failed"}

# The offers' ends, by the event kind that records each (docs/metrics.md).
OFFER_ENDS: dict[str, str] = {"accepted": "accepted", "declined": "declined", "deferred": "deferred",
                              "expired": "offer_timeout"}
# Recorded when an accepted transfer was not taken over in time: live (recovery), or a follow-up's owner.
MISSED_TAKE_OVER = ("failure", "ack_timeout")
# Ends an offer has only by what follows it: the event kind recorded next while it is open.
ENDS_BY_WHAT_FOLLOWS: dict[str, str] = {"follow_up": "callback", "cancelled": "withdrawn"}
_OFFER_CLOSED = frozenset({*OFFER_ENDS.values(), *MISSED_TAKE_OVER})  # recorded ends: what follows is no offer's end

# The event kinds the formulas read; the store loads no others.
EVENT_KINDS = tuple(sorted({"requested", "offered", "accepted", "connected", "continuation", *FAULTS.values(),
                            *OFFER_ENDS.values(), *MISSED_TAKE_OVER, *ENDS_BY_WHAT_FOLLOWS}
                           | {kind for kinds in STEPS.values() for kind in kinds}))


def step_seconds(records: Iterable[TransferRecord]) -> dict[str, list[float]]:
    """Per step of STEPS, the seconds it took in each transfer that went through it."""
    records = list(records)
    return {step: [t for r in records if (t := interval_seconds(r, *kinds)) is not None]
            for step, kinds in STEPS.items()}


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p% of the values at or below it (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def pickup(records: Iterable[TransferRecord]) -> Pickup:
    """Time to rep pickup over the transfers a rep accepted: p50 and p90 (nearest rank), in seconds."""
    times = [t for t in map(pickup_seconds, records) if t is not None]
    return Pickup(count=len(times), p50_seconds=percentile(times, 50), p90_seconds=percentile(times, 90))


def satisfaction(records: Iterable[TransferRecord]) -> Satisfaction:
    """Prospect satisfaction after the transfer: the mean CSAT (1-5) of the prospects who answered."""
    scores = [r.csat for r in records if r.csat is not None]
    return Satisfaction(count=len(scores), mean_csat=sum(scores) / len(scores) if scores else None)


def continuation_rate(records: Iterable[TransferRecord]) -> Rate:
    """Connected transfers in which the prospect replied to the rep (a `continuation` event) ÷ connected."""
    connected = [r for r in records if reached_connected(r)]
    return Rate.of(sum(_has(r, "continuation") for r in connected), len(connected))


def conversion_rate(records: Iterable[TransferRecord]) -> Rate:
    """Transfers with outcome `converted` or `demo_booked` ÷ transfers with any recorded outcome."""
    outcomes = [r.outcome for r in records if r.outcome is not None]
    return Rate.of(sum(o in CONVERTED_OUTCOMES for o in outcomes), len(outcomes))


def console_item(item: str) -> str:
    """`checklist:3` counts as `checklist`: a transfer used the checklist if its rep ticked any item."""
    return item.split(":", 1)[0]


def items_opened_by_connected_rep(record: TransferRecord) -> set[str]:
    """What the rep(s) who took the transfer over opened; a rep who only saw the offer does not count."""
    connected_reps = {e.rep_id for e in record.events if e.kind == "connected"}
    return {console_item(item) for rep_id, item in record.opened if rep_id in connected_reps}


def context_utilisation(records: Iterable[TransferRecord]) -> Utilisation:
    """Connected transfers whose rep opened at least the summary (`summary_seen`) ÷ connected transfers;
    per item, connected transfers whose rep opened that item ÷ connected transfers."""
    opened = [items_opened_by_connected_rep(r) for r in records if reached_connected(r)]
    counts = Counter(item for items in opened for item in items)
    names = dict.fromkeys([*CONSOLE_ITEMS, *sorted(counts)])
    return Utilisation(summary=Rate.of(counts["summary_seen"], len(opened)),
                       items={name: Rate.of(counts[name], len(opened)) for name in names})


def counts_by_branch(records: Iterable[TransferRecord]) -> dict[str, int]:
    """Transfers per branch (immediate, queued, callback, email, async, failed, abandoned, cancelled);
    a transfer that has not reached a branch yet counts as `unknown`."""
    return dict(Counter(r.branch or UNKNOWN for r in records).most_common())


def counts_by_category(records: Iterable[TransferRecord]) -> dict[str, int]:
    """Transfers per trigger category (positive, necessary, rescue); none given counts as `unknown`."""
    return dict(Counter(r.category or UNKNOWN for r in records).most_common())


def faults(records: Iterable[TransferRecord]) -> dict[str, int]:
    """Per integration (crm, webhook, email, chat), the transfers in which it failed at least once."""
    records = list(records)
    return {name: sum(_has(r, kind) for r in records) for name, kind in FAULTS.items()}


def not_taken_over(record: TransferRecord) -> int:
    """How often the transfer was accepted and then not taken over: a `failure` or `ack_timeout` event after an
    `accepted` one, with no `connected` between."""
    missed, accepted = 0, False
    for event in record.events:
        if event.kind == "accepted":
            accepted = True
        elif event.kind == "connected":
            accepted = False
        elif event.kind in MISSED_TAKE_OVER and accepted:
            missed, accepted = missed + 1, False
    return missed


def offers(records: Iterable[TransferRecord]) -> Offers:
    """Offers made to reps, and how many were accepted, declined, deferred, left to expire, or accepted and then
    not taken over in time (docs/metrics.md)."""
    records = list(records)
    kinds = Counter(event.kind for record in records for event in record.events)
    followed = Counter(end for record in records for end in ended_by_what_followed(record))
    return Offers(made=kinds["offered"], **{end: kinds[kind] for end, kind in OFFER_ENDS.items()},
                  not_taken_over=sum(map(not_taken_over, records)), **followed)


def ended_by_what_followed(record: TransferRecord) -> list[str]:
    """The ends of the transfer's offers told only by the event after them (ENDS_BY_WHAT_FOLLOWS): a callback the
    rep booked instead of accepting, the prospect leaving while the offer was open."""
    ends, open_offer = [], False
    for event in record.events:
        if event.kind == "offered":
            open_offer = True
        elif open_offer and event.kind in ENDS_BY_WHAT_FOLLOWS:
            ends.append(ENDS_BY_WHAT_FOLLOWS[event.kind])
            open_offer = False
        elif event.kind in _OFFER_CLOSED:
            open_offer = False
    return ends


def metrics(records: Sequence[TransferRecord]) -> Metrics:
    return Metrics(
        transfers=len(records),
        completion=completion_rate(records),
        pickup=pickup(records),
        satisfaction=satisfaction(records),
        continuation=continuation_rate(records),
        conversion=conversion_rate(records),
        context_utilisation=context_utilisation(records),
        by_branch=counts_by_branch(records),
        by_category=counts_by_category(records),
        faults=faults(records),
        offers=offers(records),
    )


_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def bucket_start(at: datetime, bucket: Bucket) -> datetime:
    """The start of the hour or (UTC) day `at` falls in."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    return hour if bucket == "hour" else hour.replace(hour=0)


def bucket_count(start: datetime, end: datetime, bucket: Bucket) -> int:
    """How many buckets overlap [start, end), counted without listing them."""
    whole, part = divmod(end - bucket_start(start, bucket), _STEPS[bucket])
    return max(0, whole + (1 if part else 0))


def bucket_starts(start: datetime, end: datetime, bucket: Bucket) -> list[datetime]:
    """Every bucket overlapping [start, end), so a chart shows quiet periods as gaps, not as nothing."""
    first = bucket_start(start, bucket)
    return [first + n * _STEPS[bucket] for n in range(bucket_count(start, end, bucket))]


def series(records: Sequence[TransferRecord], start: datetime, end: datetime, bucket: Bucket) -> list[BucketMetrics]:
    """The same metrics per bucket of `created_at`: a transfer counts in the bucket it was created in."""
    grouped: dict[datetime, list[TransferRecord]] = {s: [] for s in bucket_starts(start, end, bucket)}
    for record in records:
        grouped.setdefault(bucket_start(record.created_at, bucket), []).append(record)
    return [BucketMetrics(start=s, metrics=metrics(grouped[s])) for s in sorted(grouped)]


class Promise(BaseModel, frozen=True):
    """A follow-up promised to the prospect (a `follow_up` event): a rep calls back or writes by `due`."""

    transfer_id: str
    made_at: datetime
    due: datetime
    channel: str  # phone or email
    owner: str | None = None  # the rep who follows up; None: the first rep free then
    taken_over_at: datetime | None = None  # when a rep first took the transfer over after the promise was made
    status: str  # the transfer's status now


class Promises(BaseModel):
    due: int  # follow-ups due in the window
    kept: Rate  # taken over within the grace of their due time ÷ those whose grace is over
    broken: list[Promise]  # earliest due first


def broken(promise: Promise, now: datetime, grace: timedelta) -> bool:
    """Nobody took the transfer over by `grace` after the promise's due time, and that time has passed."""
    # Subtracting the grace, not adding it: a due time near datetime.max must not overflow.
    return now - grace >= promise.due and (promise.taken_over_at is None
                                           or promise.taken_over_at - grace > promise.due)


def promises_due(promises: Iterable[Promise], start: datetime, end: datetime, now: datetime,
                 grace: timedelta) -> Promises:
    """The follow-ups due in [start, end): how many, how many of those whose grace is over were kept (a rep
    took the transfer over by `grace` after the due time), and the broken ones."""
    due = [p for p in promises if start <= p.due < end]
    decided = [p for p in due if now - grace >= p.due]
    missed = sorted((p for p in decided if broken(p, now, grace)), key=lambda p: (p.due, p.transfer_id))
    return Promises(due=len(due), kept=Rate.of(len(decided) - len(missed), len(decided)), broken=missed)


class MissingField(BaseModel):
    field: str
    count: int  # rep answers that named this field as missing
    prospect_repeated: Rate  # of those answers, how many said the prospect had to repeat something


class Comment(BaseModel):
    transfer_id: str
    at: datetime
    text: str
    rep_id: str | None = None
    csat: int | None = None


class FeedbackReport(BaseModel):
    rep_answers: int
    context_helpful: Rate
    prospect_repeated: Rate
    missing: list[MissingField]  # most often named first
    improvements: list[Comment]  # the reps' "how could the handoff improve?", newest first
    prospect_comments: list[Comment]  # newest first


def feedback_report(reps: Iterable[RepFeedbackRecord], prospects: Iterable[ProspectFeedbackRecord],
                    recent: int = 10) -> FeedbackReport:
    """What reps said was missing from the context package, ranked by how often (ties by name), with
    how often the prospect had to repeat themselves: overall (answers saying so ÷ answers to the
    question) and per missing field; plus the latest improvement ideas and prospect comments."""
    reps, prospects = list(reps), list(prospects)

    def repeated(answers: list[RepFeedbackRecord]) -> Rate:
        answered = [a.prospect_repeated for a in answers if a.prospect_repeated is not None]
        return Rate.of(sum(answered), len(answered))

    named = Counter(field for answer in reps for field in set(answer.missing))
    missing = [MissingField(field=field, count=count,
                            prospect_repeated=repeated([a for a in reps if field in a.missing]))
               for field, count in sorted(named.items(), key=lambda pair: (-pair[1], pair[0]))]
    helpful = [a.context_helpful for a in reps if a.context_helpful is not None]
    improvements = [Comment(transfer_id=a.transfer_id, at=a.at, text=a.improve.strip(), rep_id=a.rep_id)
                    for a in reps if a.improve and a.improve.strip()]
    comments = [Comment(transfer_id=p.transfer_id, at=p.at, text=p.comment.strip(), csat=p.csat)
                for p in prospects if p.comment and p.comment.strip()]
    return FeedbackReport(
        rep_answers=len(reps),
        context_helpful=Rate.of(sum(helpful), len(helpful)),
        prospect_repeated=repeated(reps),
        missing=missing,
        improvements=_newest(improvements, recent),
        prospect_comments=_newest(comments, recent),
    )


def _newest(comments: list[Comment], limit: int) -> list[Comment]:
    return sorted(comments, key=lambda c: c.at, reverse=True)[:limit]
