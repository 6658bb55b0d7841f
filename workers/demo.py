"""The demo: a sales team that `warm-transfer up` seeds, and three transfers played over the real HTTP API.

The demo keys are fixed and printed so anyone can try the API at once. Only `up` registers them (it
listens on 127.0.0.1 by default); the scale-out `api` and `worker` commands never do.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import textwrap
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from warm_transfer_client import (
    ApiError,
    ProspectFeedback,
    RepFeedback,
    TransferView,
    Unreachable,
    WarmTransfer,
    WarmTransferError,
)
from warm_transfer_client.models import ProspectActionName, QueueInfo, RepActionName

from domain.reps import WEEKDAYS, RepProfile
from store.errors import Conflict
from workers.services import Services

ADMIN_KEY = "wt_admin_demo"
BOT_KEY = "wt_bot_demo"
ACME_CONTEXT = Path(__file__).with_name("demo_acme_context.json")  # the seed's example package, as is
BOT_NAME = "Ava"


def rep_key(rep_id: str) -> str:
    return f"wt_rep_{rep_id}_demo"


# Real reps keep office hours. The demo's live reps work around the clock so the immediate and queued
# scenarios run whenever the demo is started; the after-hours rep's shift is set (when `up` first seeds the
# team, and again by the demo) to a window that excludes the current time, so that branch always shows.
AROUND_THE_CLOCK: dict = {day: [("00:00", "24:00")] for day in WEEKDAYS}
AFTER_HOURS_REP, AFTER_HOURS_TZ = "lena", "Europe/Berlin"


def after_hours_shift(now: datetime, tz: str) -> dict:
    """A daily two-hour shift starting six hours from now in `tz`: off shift now, opening later."""
    start = (now.astimezone(ZoneInfo(tz)).hour + 6) % 24
    end = "24:00" if start >= 22 else f"{start + 2:02d}:00"
    return {day: [(f"{start:02d}:00", end)] for day in WEEKDAYS}


def demo_team(now: datetime) -> list[RepProfile]:
    return [
        RepProfile(id="sarah", name="Sarah Chen", title="Senior Account Executive",
                   expertise="enterprise rollouts of 500+ seats: Salesforce integration, SSO/SAML and migrations",
                   email="sarah.chen@example.com", phone="+1-555-010-2001", team="enterprise",
                   skills=["salesforce", "sso", "migration", "enterprise-pricing"], languages=["en"], capacity=2,
                   timezone="America/New_York", working_hours=AROUND_THE_CLOCK),
        RepProfile(id="alex", name="Alex Rivera", title="Account Executive",
                   expertise="custom reporting and security reviews for large sales teams",
                   email="alex.rivera@example.com", phone="+1-555-010-2002", team="enterprise",
                   skills=["salesforce", "reporting", "security-review"], languages=["en", "es"], capacity=2,
                   timezone="America/Chicago", working_hours=AROUND_THE_CLOCK),
        RepProfile(id="wei", name="Wei Zhang", title="Solutions Engineer",
                   expertise="APIs, SSO and data migration for customers across APAC",
                   email="wei.zhang@example.com", phone="+86-21-5550-2003", team="enterprise",
                   skills=["api", "sso", "migration"], languages=["zh", "en"], capacity=2,
                   timezone="Asia/Shanghai", working_hours=AROUND_THE_CLOCK, locale="zh"),
        RepProfile(id="priya", name="Priya Nair", title="Account Executive, Small Business",
                   expertise="getting small teams live in a day: onboarding, billing and plan choice",
                   email="priya.nair@example.com", phone="+91-80-5550-2004", team="smb",
                   skills=["onboarding", "billing"], languages=["en"], capacity=1,
                   timezone="Asia/Kolkata", working_hours=AROUND_THE_CLOCK),
        RepProfile(id=AFTER_HOURS_REP, name="Lena Fischer", title="Account Executive, EMEA",
                   expertise="GDPR, data residency in the EU and DACH-region rollouts",
                   email="lena.fischer@example.com", phone="+49-30-5550-2005", team="emea",
                   skills=["gdpr", "data-residency"], languages=["en", "de"], capacity=2,
                   timezone=AFTER_HOURS_TZ, working_hours=after_hours_shift(now, AFTER_HOURS_TZ)),
    ]


def seed_demo(services: Services, now: datetime) -> list[tuple[str, str]]:
    """Add the demo reps who are missing (available) and register the demo keys. Returns (who, key) pairs.

    A demo rep already in the directory is left as it is: what an admin changed (capacity, hours, presence)
    survives a restart of `up` on the same data."""
    keys = [("admin", ADMIN_KEY, "admin", None), ("bot", BOT_KEY, "bot", None)]
    for profile in demo_team(now):
        with contextlib.suppress(Conflict):
            services.reps.create(profile, "available")
        keys.append((f"rep {profile.name} ({profile.team})", rep_key(profile.id), "rep", profile.id))
    for _, key, role, rep_id in keys:
        services.keys.register(key, role, rep_id, now)
    # A demo key an admin revoked stays revoked: say so rather than offer a key that answers 401.
    return [(who, key if services.keys.resolve(key) else f"{key} (revoked)") for who, key, _, _ in keys]


# ---- the scenario driver ------------------------------------------------------------------------


class DemoError(Exception):
    """A step did not go as the demo expects; the message says what happened and what to do."""


class Api:
    """The demo's clients of the API (the bots' client, clients/python), over one connection pool: the bot's, the
    admin's, and each rep's with their own key."""

    def __init__(self, base_url: str, bot_key: str, admin_key: str):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=60)
        self.bot, self.admin = self._client(bot_key), self._client(admin_key)
        self._reps: dict[str, WarmTransfer] = {}
        self.started: list[str] = []  # transfer ids, to end them if the demo is interrupted

    def _client(self, key: str) -> WarmTransfer:
        return WarmTransfer(key, self.base_url, http_client=self.http)

    def rep(self, rep_id: str) -> WarmTransfer:
        """The rep's client, with their own key."""
        return self._reps.setdefault(rep_id, self._client(rep_key(rep_id)))


class Transfer:
    """One transfer as the bot sees it; prints each step, and the bot's lines as they appear."""

    def __init__(self, api: Api, request: dict, conversation: list[dict]):
        """Evaluates the conversation, as a bot does before it transfers, and starts the transfer with the
        evaluation, so the metrics count it by trigger category."""
        self.api, self.id = api, request["transfer_id"]
        self.view: TransferView | None = None
        self.lines_shown = 0
        self.first_queue: QueueInfo | None = None
        evaluation = api.bot.evaluate({"messages": conversation, "locale": "en"})
        self._show("bot", "start the transfer", api.bot.start(request, evaluation=evaluation))
        api.started.append(self.id)

    @property
    def status(self) -> str:
        return self.view.status

    def prospect(self, action: ProspectActionName, **fields) -> None:
        self._show("prospect", _describe(action, fields), self.api.bot.prospect(self.id, action, **fields))

    def rep(self, action: RepActionName, **fields) -> None:
        """The offered rep acts, with their own key."""
        view = self.api.rep(self.view.rep.id).rep(self.id, action, **fields)
        self._show(self._rep_first_name, _describe(action, fields), view)

    def close_with_feedback(self, outcome: str, missing: list[str], csat: int) -> None:
        """Outcome, then the feedback the workflow waits for: the rep's, then the prospect's CSAT."""
        self.rep("outcome", outcome=outcome)
        self.expect("completed")
        rep = self.api.rep(self.view.rep.id)
        self._show(self._rep_first_name, f"feedback: context helpful, missing {missing or 'nothing'}",
                   rep.feedback(self.id, RepFeedback(context_helpful=True, missing=missing, prospect_repeated=False,
                                                     improve="Keep the notes this short.")))
        self._show("prospect", f"CSAT {csat}/5", self.api.bot.feedback(self.id, ProspectFeedback(csat=csat)))

    @property
    def _rep_first_name(self) -> str:
        return self.view.rep.name.split()[0]

    def wait_for(self, status: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        view = self.api.bot.view(self.id)
        while view.status != status and time.monotonic() < deadline:
            time.sleep(0.2)
            view = self.api.bot.view(self.id)
        self._show("bot", f"poll until {status}", view)
        self.expect(status)

    def expect(self, status: str) -> None:
        if self.status != status:
            last = self.view.timeline[-1].detail if self.view.timeline else "no timeline"
            raise DemoError(f"transfer {self.id} is {self.status}, expected {status} (last event: {last})")

    def _show(self, actor: str, what: str, view: TransferView) -> None:
        new_rep = view.rep and view.rep != (self.view and self.view.rep)
        rep = f"   (rep: {view.rep.name})" if new_rep else ""
        self.view = view
        self.first_queue = self.first_queue or view.queue
        print(f"  {actor:<9} {what:<52} -> {view.status}{rep}")
        for line in view.bot_lines[self.lines_shown:]:
            choices = f"  [{' | '.join(line.choices)}]" if line.choices else ""
            print(textwrap.fill(f'{BOT_NAME} says ({line.kind}): "{line.text}"{choices}', width=110,
                                initial_indent=" " * 12, subsequent_indent=" " * 14))
        self.lines_shown = len(view.bot_lines)

    def print_timeline(self) -> None:
        print(f"  Timeline of {self.id}:")
        for entry in self.view.timeline:
            print(f"    {entry.at:%H:%M:%S}  {entry.status:<18} {entry.detail}")


def _describe(action: str, fields: dict) -> str:
    details = ", ".join(f"{k}={v}" for k, v in fields.items())
    return f"{action} ({details})" if details else action


@dataclass
class Result:
    label: str
    transfer: Transfer
    detail: str


def _new_id(name: str) -> str:
    return f"demo-{name}-{secrets.token_hex(3)}"


# What John Smith said to the bot before it handed him over (evaluated before the transfer starts).
ACME_CONVERSATION = [
    {"role": "prospect", "text": "Hi, I'm looking at your enterprise plan for our sales org, about 500 users."},
    {"role": "bot", "text": "Happy to help! Our Salesforce integration is two-way and real time, with SSO/SAML."},
    {"role": "prospect", "text": "Great. We want to roll out in Q2. Can we set up a demo with someone this week?"},
]


def _chat(company: str, need: str) -> list[dict]:
    """A short chat in which the prospect asks for sales."""
    return [{"role": "prospect", "text": f"Hi, I'm with {company}. We're looking for {need}."},
            {"role": "bot", "text": "Sure, I can tell you about our plans."},
            {"role": "prospect", "text": "Thanks. Can I talk to someone from your sales team about it?"}]


def _request(team: str, name: str, email: str, company: str, need: str, size: str, score: int) -> dict:
    """A transfer request for a short chat: who, what they need, how qualified."""
    transfer_id = _new_id(team)
    return {"transfer_id": transfer_id, "routing": {"team": team}, "bot": {"name": BOT_NAME},
            "context": {
                "transfer_id": transfer_id,
                "prospect": {"name": name, "email": email, "company": company},
                "conversation": {"channel": "web_chat", "duration_minutes": 6, "messages_exchanged": 11},
                "summary": {"entry_point": "Pricing page chat", "initial_question": need, "key_needs": [need]},
                "qualification": {"company_size": size, "score": score},
                "sentiment": {"overall": "positive", "frustration_level": "none", "buying_intent": "medium"},
                "transfer_reason": f"Wants to talk to sales: {need}"}}


def _banner(title: str) -> None:
    print(f"\n== {title} ==")


def seed_scenario(api: Api) -> Result:
    _banner("(a) The seed's scenario: John Smith of Acme Corp, 500-user enterprise deal")
    context = json.loads(ACME_CONTEXT.read_text())
    context["transfer_id"] = _new_id("acme")
    transfer = Transfer(api, {
        "transfer_id": context["transfer_id"], "context": context, "bot": {"name": BOT_NAME, "locale": "en"},
        "routing": {"team": "enterprise", "skills": ["salesforce", "sso", "migration"], "language": "en",
                    "preferred_rep_id": "sarah", "priority": 1}}, ACME_CONVERSATION)
    transfer.expect("preparing")
    transfer.prospect("note", note="Our Salesforce admin will join the call; we need to go live before June.")
    transfer.expect("offered")
    transfer.rep("accept")
    transfer.expect("connecting")
    transfer.rep("ack")
    transfer.expect("connected")
    transfer.prospect("replied")
    transfer.close_with_feedback("demo_booked", missing=["current contract end date"], csat=5)
    transfer.print_timeline()
    return Result("(a) seed scenario, Acme Corp", transfer, f"outcome {transfer.view.outcome}")


def queued_scenario(api: Api) -> Result:
    _banner("(b) Queued: the small-business team's only rep is busy, the prospect waits")
    busy = api.admin.request("GET", "/v1/reps/priya")["active"]
    if busy:
        raise DemoError(f"Priya Nair (team smb, one seat) still holds {busy} transfer(s), probably from an "
                        "interrupted demo. Finish it from the console, or start over: stop `up`, remove .data/.")
    first = Transfer(api, _request("smb", "Dana Lee", "dana@brightside.example", "Brightside Bakery",
                                   "monthly billing for 12 seats", "10-20 employees", 62),
                     _chat("Brightside Bakery", "monthly billing for 12 seats"))
    first.prospect("proceed")
    first.rep("accept")
    first.rep("ack")
    first.expect("connected")
    print("  -- Priya is now busy; a second prospect asks for the same team --")
    second = Transfer(api, _request("smb", "Tom Becker", "tom@cornerbooks.example", "Corner Books",
                                    "onboarding help for 5 users", "1-10 employees", 48),
                      _chat("Corner Books", "onboarding help for 5 users"))
    second.prospect("proceed")
    second.expect("queued")
    queue = second.view.queue
    print(f"  -- queued at position {queue.position}, estimated wait {queue.eta_seconds // 60} min "
          f"{queue.eta_seconds % 60} s --")
    second.prospect("wait")
    first.close_with_feedback("converted", missing=[], csat=4)
    print("  -- Priya's seat is free again: the queue offers it to the waiting prospect --")
    second.wait_for("offered")
    second.rep("accept")
    second.rep("ack")
    second.prospect("replied")
    second.close_with_feedback("nurture", missing=["number of locations"], csat=4)
    second.print_timeline()
    return Result("(b) queued behind a busy rep", second,
                  f"was queued at #{second.first_queue.position}, offered when the seat freed; "
                  f"outcome {second.view.outcome}")


def after_hours_scenario(api: Api) -> Result:
    _banner("(c) After hours: nobody in EMEA is on shift, the prospect chooses e-mail")
    shift = after_hours_shift(datetime.now(UTC), AFTER_HOURS_TZ)
    api.admin.request("PATCH", f"/v1/reps/{AFTER_HOURS_REP}", {"working_hours": shift})
    print(f"  -- Lena Fischer works {shift['mon'][0][0]}-{shift['mon'][0][1]} {AFTER_HOURS_TZ} (not now) --")
    transfer = Transfer(api, _request("emea", "Marta Kowalska", "marta@vistula.example", "Vistula Logistics",
                                      "EU data residency for 80 users", "200 employees", 71),
                        _chat("Vistula Logistics", "EU data residency for 80 users"))
    transfer.expect("after_hours")
    transfer.prospect("email", email="marta@vistula.example")
    transfer.expect("async_follow_up")
    transfer.print_timeline()
    follow_up_at = transfer.view.model_dump(mode="json")["follow_up_at"]  # as the API writes it
    return Result("(c) after hours, e-mail", transfer, f"follow-up at {follow_up_at}")


def _prepare_team(api: Api) -> None:
    """Make the demo reps available again (an unanswered offer sets a rep away)."""
    for profile in demo_team(datetime.now(UTC)):
        api.admin.request("PUT", f"/v1/reps/{profile.id}/presence", {"status": "available"})


def _end_interrupted(api: Api) -> None:
    """Best effort, silently: end the transfers of an interrupted demo so no rep's seat stays taken."""
    for transfer_id in api.started:
        with contextlib.suppress(WarmTransferError):  # "left" is refused where it does not apply, e.g. once completed
            api.bot.prospect(transfer_id, "left")
        with contextlib.suppress(WarmTransferError):
            view = api.bot.view(transfer_id)
            if view.status == "connected":  # the rep holds the seat until an outcome
                api.rep(view.rep.id).rep(transfer_id, "outcome", outcome="lost")


def run_demo(base_url: str, bot_key: str, admin_key: str) -> None:
    """Play the three scenarios; raises DemoError with a clear message when a step goes wrong."""
    api = Api(base_url, bot_key, admin_key)
    with api.http:
        try:
            _prepare_team(api)
            try:
                results = [seed_scenario(api), queued_scenario(api), after_hours_scenario(api)]
            except BaseException:  # a failed step, Ctrl-C, a closed pipe
                _end_interrupted(api)
                raise
        except Unreachable as err:
            raise DemoError(f"Cannot reach the Warm Transfer API at {api.base_url} ({err.__cause__}). "
                            f"Start the stack first: `make up`.") from err
        except ApiError as err:
            raise DemoError(str(err)) from err
    print("\nSummary")
    for result in results:
        print(f"  {result.label:<30} {result.transfer.id:<20} {result.transfer.status:<16} {result.detail}")
