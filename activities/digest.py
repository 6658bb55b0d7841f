"""The managers' daily digest: gather yesterday's figures (the dashboard's own computations), then e-mail them."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity

from activities.models import DigestRequest, DigestSent
from activities.ops import emails, publish
from domain.digest import DailyDigest, previous_day, render_digest
from domain.metrics import feedback_report, metrics, promises_due
from integrations.notify.base import Notifier
from store.metrics import MetricsStore, Scope
from store.reps import RepStore


class DigestActivities:
    def __init__(self, figures: MetricsStore, reps: RepStore, notifier: Notifier, recipients: list[str],
                 timezone: str, grace: timedelta):
        self.figures, self.reps, self.notifier = figures, reps, notifier
        self.recipients, self.timezone, self.grace = recipients, timezone, grace

    @activity.defn(name="gather_digest")
    def gather(self, request: DigestRequest) -> DailyDigest:
        """The day before `request.at`: the six metrics and the feedback report of the transfers created that day,
        as /v1/metrics and /v1/feedback/report compute them, and the follow-ups due that day."""
        window = previous_day(request.at, self.timezone)
        scope = Scope(start=window.start, end=window.end)
        promises = promises_due(self.figures.promises(touched_since=window.start), window.start, window.end,
                                request.at, self.grace)
        report = feedback_report(*self.figures.feedback(scope))
        named = {p.owner for p in promises.broken if p.owner} | {c.rep_id for c in report.improvements if c.rep_id}
        return DailyDigest(window=window, metrics=metrics(self.figures.transfers(scope)), promises=promises,
                           feedback=report, grace_minutes=round(self.grace.total_seconds() / 60),
                           rep_names={rep_id: self.reps.get(rep_id).profile.name
                                      for rep_id in sorted(named) if self.reps.exists(rep_id)})

    @activity.defn(name="send_digest")
    def send(self, digest: DailyDigest) -> DigestSent:
        """E-mail the digest, text and HTML, to each manager; once per day, however often it is retried."""
        mail = render_digest(digest)
        notices = emails("digest", "daily_digest", f"digest:{digest.window.day.isoformat()}", self.recipients,
                         {"subject": mail.subject, "body": mail.text, "html": mail.html})
        publish(self.notifier, notices)
        return DigestSent(recipients=len(notices))

    def all(self) -> list:
        return [self.gather, self.send]
