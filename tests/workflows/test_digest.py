"""The daily digest on the time-skipping test server: yesterday's figures, read from the app database by the real
activities, e-mailed (text and HTML) to each manager through a real SMTP server on loopback, once."""

from __future__ import annotations

from datetime import timedelta

from domain.digest import previous_day
from domain.records import TransferEvent, TransferFacts
from tests.workflows.harness import SCHEDULED, Harness
from workflows.digest import DigestWorkflow

MANAGERS = ["lee@example.com", "kim@example.com"]


def record(harness: Harness, tid: str, created, status: str, events: list[tuple[str, float, dict]],
           **facts) -> None:
    """What the transfer's publish activity would have stored: its facts and events ((kind, minutes after it
    was created, data))."""
    rows = [TransferEvent(seq=i, at=created + timedelta(minutes=m), status=status, kind=kind, rep_id="sarah",
                          detail=kind, data=data) for i, (kind, m, data) in enumerate(events, start=1)]
    harness.services.transfers.record(TransferFacts(transfer_id=tid, status=status, created_at=created,
                                                    team="enterprise", rep_id="sarah", **facts), rows, created)


async def test_the_digest_emails_yesterdays_figures_to_each_manager_once(time_skipping_env, tmp_path, smtp_server):
    inbox, port = smtp_server
    # Nothing here waits on a timer; a test server left to skip time with no workflow open leaps ten years ahead.
    with time_skipping_env.auto_time_skipping_disabled():
        await _digest_of_yesterday(time_skipping_env, tmp_path, inbox, port)


async def _digest_of_yesterday(time_skipping_env, tmp_path, inbox, port) -> None:
    async with Harness(time_skipping_env.client, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                       digest_to=MANAGERS, digest_timezone="America/New_York") as harness:
        harness.rep("sarah", name="Sarah Chen")
        now = await time_skipping_env.get_current_time()
        yesterday = previous_day(now, "America/New_York")
        morning = yesterday.start + timedelta(hours=9)
        record(harness, "xfer_won", morning, "completed",
               [("requested", 0, {}), ("offered", 0.5, {}), ("accepted", 1.5, {}), ("connected", 2, {}),
                ("continuation", 3, {}), ("outcome", 20, {})], outcome="demo_booked", branch="immediate")
        harness.services.transfers.save_feedback("xfer_won", "rep", "sarah", {
            "context_helpful": True, "missing": ["budget owner"], "prospect_repeated": False,
            "improve": "Name the decision maker"}, morning + timedelta(minutes=30))
        harness.services.transfers.save_feedback("xfer_won", "prospect", None, {"csat": 5, "comment": "Seamless"},
                                                 morning + timedelta(minutes=31))
        due = (morning + timedelta(hours=5)).isoformat()
        record(harness, "xfer_missed", morning, "callback_scheduled",
               [("requested", 0, {}), ("follow_up", 1, {"channel": "phone", "due": due})], branch="callback")
        record(harness, "xfer_today", yesterday.end + timedelta(minutes=1), "cancelled", [("requested", 0, {})])
        record(harness, "xfer_before", yesterday.start - timedelta(hours=1), "cancelled", [("requested", 0, {})])

        handle = await harness.client.start_workflow(DigestWorkflow.run, id="digest-test",
                                                     task_queue=harness.task_queue)
        result = await handle.result()
        digest = result.digest
        assert digest.window.day == yesterday.day and result.recipients == 2
        assert digest.metrics.transfers == 2  # created yesterday in New York, not today or the day before
        assert (digest.metrics.completion.numerator, digest.metrics.completion.denominator) == (1, 2)
        assert digest.metrics.pickup.p50_seconds == 90 and digest.metrics.satisfaction.mean_csat == 5
        assert [p.transfer_id for p in digest.promises.broken] == ["xfer_missed"]
        assert digest.feedback.missing[0].field == "budget owner"

        assert harness.services.integrations.email.run_once() == 2
        assert sorted(to for _, [to] in inbox.envelopes) == sorted(MANAGERS)
        message = inbox.messages[0]
        assert message["Subject"] == f"Warm Transfer daily digest for {yesterday.day:%a %-d %b %Y}"
        assert message.get_content_type() == "multipart/alternative"
        text, rich = (part.get_content() for part in message.iter_parts())
        assert "Transfer completion                   50% (1 of 2)" in text
        assert "xfer_missed" in text and "Sarah Chen" in text and "Name the decision maker" in text
        assert "<td>50% (1 of 2)</td>" in rich and "<td>xfer_missed</td>" in rich and "Seamless" in rich

        again = await harness.client.execute_workflow(DigestWorkflow.run, id="digest-again",
                                                      task_queue=harness.task_queue)
        assert again.digest.window.day == yesterday.day
        assert harness.services.integrations.email.run_once() == 0  # that day's digest went out already
        await harness.keep_history(handle, "digest", folder=SCHEDULED)
