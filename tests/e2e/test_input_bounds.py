"""Inputs that once reached the code unchecked and answered 500 are refused with a 4xx and the JSON error body,
changing nothing: null in a PATCH, an event id that is no 64-bit id, a window of too many buckets, a moment
outside the calendar, a callback_url to where webhooks may not go, a file path the OS cannot take, a control
character in text."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from api.routers import transfers
from domain.context import PROSPECT_NOTES_MAX
from domain.requests import CALLBACK_HORIZON
from tests.e2e.conftest import ADMIN_KEY


def _problem(response, field: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    [detail] = [d for d in error["details"] if d["field"] == field]
    return detail["problem"]


REQUIRED = {"name": "x", "team": "smb", "skills": ["sso"], "languages": ["en"], "capacity": 2, "timezone": "UTC",
            "working_hours": {"mon": [["09:00", "17:00"]]}, "locale": "en"}


async def test_a_file_path_the_os_cannot_take_is_no_such_file(stack):
    """Every place that serves files: the console, the dashboard and the API docs' assets."""
    async with stack.http(ADMIN_KEY) as anyone:
        for files in ("/console", "/dashboard", "/static/swagger"):
            for name in ("%00", "main.js%00.png", "a" * 5000, "a/" * 3000):
                answer = await anyone.get(f"{files}/{name}")
                assert answer.status_code == 404, (files, name[:20], answer.status_code)
                assert answer.json()["error"]["code"] == "not_found"


async def test_a_control_character_in_text_is_refused_and_a_name_kept_on_one_line(stack, acme_context):
    def started_with(section: str, field: str, text: str) -> dict:
        context = {**acme_context, "transfer_id": None, section: {**acme_context.get(section, {}), field: text}}
        return {"context": context, "routing": {"team": "enterprise"}}

    async with stack.http(ADMIN_KEY) as admin:
        for section, field in (("prospect", "name"), ("prospect", "company")):
            refused = await admin.post("/v1/transfers", json=started_with(section, field, "John\u0000Smith"))
            assert "control characters" in _problem(refused, f"context.{section}.{field}")
        reason = {**acme_context, "transfer_id": None, "transfer_reason": "wants a demo\u0000"}
        refused = await admin.post("/v1/transfers", json={"context": reason})
        assert "control characters" in _problem(refused, "context.transfer_reason")
        refused = await admin.post("/v1/reps", json={**REQUIRED, "id": "wei", "name": "Wei\u0000Zhang"})
        assert "control characters" in _problem(refused, "name")
        assert (await admin.get("/v1/reps/wei")).status_code == 404  # nothing was added
        added = await admin.post("/v1/reps", json={**REQUIRED, "id": "wei", "name": "Wei\r\nZhang"})
        assert added.status_code == 201 and added.json()["rep"]["name"] == "Wei Zhang"


async def test_null_clears_what_a_profile_may_lack_and_is_refused_for_the_rest(stack):
    stack.rep("wei", email="wei@example.com", title="AE")
    async with stack.http(ADMIN_KEY) as admin:
        for field in REQUIRED:
            assert _problem(await admin.patch("/v1/reps/wei", json={field: None}), field)
        before = (await admin.get("/v1/reps/wei")).json()
        assert (await admin.patch("/v1/reps/wei", json={"capacity": 3, "name": None})).status_code == 422
        assert (await admin.get("/v1/reps/wei")).json() == before  # a refused patch changes nothing

        cleared = await admin.patch("/v1/reps/wei", json={"email": None, "title": None, "capacity": 3})
        assert cleared.status_code == 200
        assert cleared.json()["rep"]["email"] is None and cleared.json()["rep"]["title"] is None
        assert cleared.json()["rep"]["name"] == before["rep"]["name"] and cleared.json()["rep"]["capacity"] == 3


BAD_EVENT_IDS = ["abc", "1.5", "-1", str(2**63), "9" * 40]


async def test_an_event_id_must_be_a_64_bit_id(stack):
    wei_key = stack.rep("wei")
    async with stack.http(wei_key) as wei, stack.http(ADMIN_KEY) as admin:
        for bad in BAD_EVENT_IDS:
            assert _problem(await wei.get("/v1/reps/me/stream", headers={"Last-Event-ID": bad}), "header.last-event-id")
            assert _problem(await admin.get("/v1/transfers/xfer_1/events", headers={"Last-Event-ID": bad}),
                            "header.last-event-id")
            assert _problem(await wei.get("/v1/reps/me/stream", params={"after": bad}), "query.after")
        assert _problem(await wei.get("/v1/reps/me/stream", params={"after": ""}), "query.after")


async def test_the_largest_event_id_opens_a_stream(stack):
    wei_key = stack.rep("wei")
    async with stack.http(wei_key) as wei, \
            wei.stream("GET", "/v1/reps/me/stream", headers={"Last-Event-ID": str(2**63 - 1)}) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")


WINDOWS_OUT_OF_BOUNDS = [
    ({"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z", "bucket": "hour"}, "query.bucket"),
    ({"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z", "bucket": "day"}, "query.bucket"),
    ({"from": "0001-01-01T00:00:00+01:00"}, "query.from"),
    ({"to": "9999-12-31T23:59:59-01:00"}, "query.to"),
    ({"to": "0001-01-02T00:00:00Z"}, "query.to"),  # the default window, 7 days before it, starts before year 1
    ({"from": "2024-01-02T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "query.from"),
]


async def test_a_metrics_window_outside_the_bounds_is_refused(stack):
    async with stack.http(ADMIN_KEY) as admin:
        for params, field in WINDOWS_OUT_OF_BOUNDS:
            assert _problem(await admin.get("/v1/metrics/series", params=params), field)


async def test_the_longest_metrics_series_is_answered(stack):
    async with stack.http(ADMIN_KEY) as admin:
        answer = await admin.get("/v1/metrics/series", params={"from": "2024-01-01T00:00:00Z", "bucket": "day",
                                                               "to": "2026-09-27T00:00:00Z"})
        assert answer.status_code == 200 and len(answer.json()["buckets"]) == 1000


async def test_a_transfer_id_outside_its_pattern_is_refused(stack):
    async with stack.http(ADMIN_KEY) as admin:
        assert _problem(await admin.get("/v1/transfers/" + "x" * 101), "path.transfer_id")
        assert _problem(await admin.get("/v1/transfers/a b"), "path.transfer_id")


REFUSED_CALLBACKS = [
    "https://127.0.0.2/hooks", "https://2130706434/hooks", "https://0x7f.2/hooks", "https://[::ffff:127.0.0.2]/hooks",
    "https://[::1]/hooks", "https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/",
    "https://10.0.0.1/hooks", "https://100.64.0.1/hooks", "https://224.0.0.1/hooks", "https://0.0.0.0/hooks",
    "https://private.example/hooks", "https://user:secret@bot.example.com/hooks", "http://bot.example.com/hooks",
]


async def test_a_callback_url_to_where_webhooks_may_not_go_is_refused(stack, acme_context, monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real(
        "10.1.2.3" if host == "private.example" else host, *args, **kwargs))
    async with stack.http(ADMIN_KEY) as bot:
        for callback_url in REFUSED_CALLBACKS:
            transfer_id = f"xfer_refused_{uuid.uuid4().hex[:8]}"  # the dev server is the session's: ids must not meet
            body = {"transfer_id": transfer_id, "context": {**acme_context, "transfer_id": transfer_id},
                    "bot": {"callback_url": callback_url}}
            assert _problem(await bot.post("/v1/transfers", json=body), "bot.callback_url"), callback_url
            assert (await bot.get(f"/v1/transfers/{transfer_id}")).status_code == 404  # nothing was started


async def test_a_public_callback_url_and_an_allow_listed_one_are_taken(stack, acme_context):
    """The stack allows 127.0.0.1 (its tests' receivers); a name that does not resolve now is checked again at
    delivery."""
    async with stack.http(ADMIN_KEY) as bot:
        for n, url in enumerate(["https://bot.example.com/hooks", "https://93.184.216.34/hooks",
                                 "http://127.0.0.1:9/hooks", "https://127.1:9/hooks"]):
            body = {"transfer_id": f"xfer_taken_{n}", "context": {**acme_context, "transfer_id": f"xfer_taken_{n}"},
                    "bot": {"callback_url": url}}
            assert (await bot.post("/v1/transfers", json=body)).status_code == 201, url


async def test_a_callback_host_whose_dns_does_not_answer_holds_up_no_start(stack, acme_context, monkeypatch):
    """More starts at once than there are resolver threads, each naming a host whose DNS does not answer: each is
    taken after the wait, before any lookup ends (the webhooks' addresses are checked again at delivery)."""
    answered, finished = threading.Event(), []
    real = socket.getaddrinfo

    def silent_dns(host, *args, **kwargs):
        if not host.endswith(".silent.example"):
            return real(host, *args, **kwargs)
        answered.wait(60)  # so a broken bound fails this test instead of hanging it
        finished.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "no answer")

    monkeypatch.setattr(socket, "getaddrinfo", silent_dns)
    monkeypatch.setattr(transfers, "RESOLVE_SECONDS", 0.2)
    bodies = [{"transfer_id": f"xfer_dns_{n}_{uuid.uuid4().hex[:6]}", "context": acme_context,
               "bot": {"callback_url": f"https://hooks-{n}.silent.example/"}} for n in range(6)]
    for body in bodies:
        body["context"] = {**acme_context, "transfer_id": body["transfer_id"]}
    try:
        async with stack.http(ADMIN_KEY) as bot:
            started = await asyncio.gather(*(bot.post("/v1/transfers", json=body) for body in bodies))
            assert finished == []  # every start was answered while DNS was still silent
    finally:
        answered.set()
    assert [response.status_code for response in started] == [201] * len(bodies)


async def _offered(stack, bot, context: dict, transfer_id: str) -> None:
    """A transfer of the stack's bot offered to Sarah."""
    started = await bot.post("/v1/transfers", json={"transfer_id": transfer_id,
                                                    "context": {**context, "transfer_id": transfer_id},
                                                    "routing": {"team": "enterprise"}})
    assert started.status_code == 201, started.text
    proceed = await bot.post(f"/v1/transfers/{transfer_id}/prospect", json={"action": "proceed"})
    assert proceed.json()["status"] == "offered"


async def test_what_a_prospect_adds_stays_within_what_the_rep_can_be_given(stack, acme_context):
    sarah_key = stack.rep("sarah")
    async with stack.http(stack.bot_key) as bot, stack.http(sarah_key) as sarah:
        await _offered(stack, bot, acme_context, "xfer_bounds")
        actions = "/v1/transfers/xfer_bounds/prospect"
        room = PROSPECT_NOTES_MAX - len(acme_context.get("prospect_notes", []))
        for n in range(room):
            assert (await bot.post(actions, json={"action": "note", "note": f"note {n}"})).status_code == 200
        refused = await bot.post(actions, json={"action": "note", "note": "call me at +1-555-987-6543"})
        assert refused.status_code == 409 and "20 notes" in refused.json()["error"]["message"]
        assert (await sarah.get("/v1/transfers/xfer_bounds/brief")).status_code == 200  # the brief still reads

        for address in ("not an email\r\nBcc: evil@example.com", "not-an-email", "a@x.io, b@y.io"):
            assert "mail can be sent to" in _problem(await bot.post(actions, json={"action": "email",
                                                                                   "email": address}), "email")
        far = (datetime.now(UTC) + CALLBACK_HORIZON + timedelta(days=1)).isoformat()
        refused = await sarah.post("/v1/transfers/xfer_bounds/rep", json={"action": "schedule_callback",
                                                                          "callback_at": far})
        assert refused.status_code == 409 and "more than 365 days away" in refused.json()["error"]["message"]
        assert (await bot.get("/v1/transfers/xfer_bounds")).json()["status"] == "offered"  # nothing changed


async def test_a_team_nobody_is_in_is_refused_before_anything_starts(stack, acme_context):
    stack.rep("sarah")
    async with stack.http(stack.bot_key) as bot:
        body = {"context": {**acme_context, "transfer_id": "xfer_typo"}, "routing": {"team": "enterprsie"}}
        typo = await bot.post("/v1/transfers", json=body)
        assert "no rep is in team 'enterprsie'" in _problem(typo, "routing.team")
        assert (await bot.get("/v1/transfers/xfer_typo")).status_code == 404
        stack.rep("nina", team="enterprsie")  # a team that is there now, added by another process
        again = await bot.post("/v1/transfers", json=body)
        assert again.status_code == 201, again.text
