"""Who may do what, over HTTP against the real stack: a bot key sees only the transfers it started, reps see
colleagues without their contact details, keys never travel in a query string, and a rep's calendar feed is read
with a revocable token that the access log never prints."""

from __future__ import annotations

import asyncio
import logging

import httpx
from temporalio.service import RPCError, RPCStatusCode

from api.transfer_client import _rpc_error
from tests.e2e.conftest import ADMIN_KEY, stack_on
from workflows.watchdog import WatchdogWorkflow


async def _bot_key(stack) -> str:
    async with stack.http(ADMIN_KEY) as admin:
        return (await admin.post("/v1/api-keys", json={"role": "bot"})).json()["key"]


def _start(transfer_id: str, context: dict) -> dict:
    return {"transfer_id": transfer_id, "context": {**context, "transfer_id": transfer_id},
            "routing": {"team": "enterprise"}}


async def test_a_bot_key_sees_and_acts_on_only_the_transfers_it_started(stack, acme_context):
    sarah_key = stack.rep("sarah")
    own_key, other_key = await _bot_key(stack), await _bot_key(stack)
    async with stack.http(own_key) as own, stack.http(other_key) as other, stack.http(ADMIN_KEY) as admin, \
            stack.http(sarah_key) as sarah:
        assert (await own.post("/v1/transfers", json=_start("xfer_owned", acme_context))).status_code == 201
        taken = await other.post("/v1/transfers", json=_start("xfer_owned", acme_context))  # the same body
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "conflict"

        for refused in (await other.get("/v1/transfers/xfer_owned"),
                        await other.get("/v1/transfers/xfer_owned/events"),
                        await other.post("/v1/transfers/xfer_owned/prospect", json={"action": "proceed"}),
                        await other.post("/v1/transfers/xfer_owned/feedback", json={"from": "prospect", "csat": 1})):
            assert refused.status_code == 404, refused.text
            assert refused.json()["error"] == {"code": "not_found", "message": "No transfer xfer_owned.",
                                               "details": None}  # as if there were none
        assert (await own.get("/v1/transfers/xfer_owned")).json()["status"] == "preparing"  # nothing changed
        assert (await admin.get("/v1/transfers/xfer_owned")).status_code == 200  # an admin key sees every transfer

        assert (await own.post("/v1/transfers/xfer_owned/prospect", json={"action": "proceed"})).status_code == 200
        for action in ({"action": "accept"}, {"action": "ack"}, {"action": "outcome", "outcome": "converted"}):
            assert (await sarah.post("/v1/transfers/xfer_owned/rep", json=action)).status_code == 200
        assert (await sarah.post("/v1/transfers/xfer_owned/feedback",
                                 json={"from": "rep", "context_helpful": True, "prospect_repeated": False})).is_success
        stolen = await other.post("/v1/transfers/xfer_owned/feedback", json={"from": "prospect", "csat": 1})
        assert stolen.status_code == 404
        assert (await own.post("/v1/transfers/xfer_owned/feedback", json={"from": "prospect", "csat": 5})).is_success

        await asyncio.wait_for(stack.client.get_workflow_handle("xfer_owned").result(), 30)
        late = await other.post("/v1/transfers/xfer_owned/feedback", json={"from": "prospect", "csat": 1})
        assert late.status_code == 404  # closed, and still not the other key's to know of
        closed = await own.post("/v1/transfers/xfer_owned/prospect", json={"action": "left"})
        assert closed.status_code == 409 and closed.json()["error"]["code"] == "closed"


async def test_reps_see_colleagues_names_and_presence_not_how_to_reach_them(stack):
    sarah_key = stack.rep("sarah", name="Sarah Chen", email="sarah@example.com", phone="+1-555-0100")
    stack.rep("alex", name="Alex Rivera", email="alex@example.com", phone="+1-555-0101", skills=["sso"])
    async with stack.http(sarah_key) as sarah, stack.http(ADMIN_KEY) as admin:
        listed = {entry["rep"]["id"]: entry for entry in (await sarah.get("/v1/reps")).json()}
        alex = listed["alex"]
        assert alex["presence"] == "available" and alex["rep"]["name"] == "Alex Rivera"
        assert alex["rep"]["skills"] == ["sso"]
        assert "email" not in alex["rep"] and "phone" not in alex["rep"] and "working_hours" not in alex["rep"]
        assert listed["sarah"]["rep"]["email"] == "sarah@example.com"  # her own profile, whole
        one = (await sarah.get("/v1/reps/alex")).json()
        assert one["rep"]["name"] == "Alex Rivera" and "phone" not in one["rep"]
        assert (await admin.get("/v1/reps/alex")).json()["rep"]["phone"] == "+1-555-0101"


async def test_a_key_in_a_query_string_is_no_key(stack):
    wei_key = stack.rep("wei")
    async with httpx.AsyncClient(base_url=stack.url) as anyone:
        issued = await anyone.post(f"/v1/api-keys?key={ADMIN_KEY}", json={"role": "admin"})
        assert issued.status_code == 401
        assert (await anyone.get(f"/v1/reps/wei/calendar.ics?key={wei_key}")).status_code == 401
        assert (await anyone.get(f"/v1/transfers/x?key={ADMIN_KEY}")).status_code == 401


async def test_a_calendar_token_reads_one_feed_until_it_is_replaced_or_revoked(stack):
    wei_key, sarah_key = stack.rep("wei", name="Wei Zhang"), stack.rep("sarah")
    async with stack.http(wei_key) as wei, stack.http(sarah_key) as sarah, stack.http(ADMIN_KEY) as admin, \
            httpx.AsyncClient() as calendar_app:
        issued = await wei.post("/v1/reps/wei/calendar-token")
        assert issued.status_code == 201
        url = issued.json()["url"]
        assert url.startswith(f"{stack.url}/v1/reps/wei/calendar.ics?token=wt_cal_")
        feed = await calendar_app.get(url)  # no key: what a calendar app can do
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert "X-WR-CALNAME:Warm Transfer: Wei Zhang" in feed.text

        token = url.split("token=")[1]
        assert (await calendar_app.get(f"{stack.url}/v1/reps/sarah/calendar.ics?token={token}")).status_code == 401
        as_key = await calendar_app.get(f"{stack.url}/v1/reps/me", headers={"Authorization": f"Bearer {token}"})
        assert as_key.status_code == 401  # it reads the feed and nothing else
        assert (await sarah.post("/v1/reps/wei/calendar-token")).status_code == 403  # not hers to issue

        replaced = (await admin.post("/v1/reps/wei/calendar-token")).json()["url"]
        assert (await calendar_app.get(url)).status_code == 401
        assert (await calendar_app.get(replaced)).status_code == 200
        assert (await wei.delete("/v1/reps/wei/calendar-token")).status_code == 204
        assert (await calendar_app.get(replaced)).status_code == 401
        assert (await wei.get("/v1/reps/wei/calendar.ics")).status_code == 200  # the rep's key still reads it


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_the_access_log_never_prints_a_token_or_key(stack):
    wei_key = stack.rep("wei")
    access = logging.getLogger("uvicorn.access")
    lines, level = Lines(), access.level
    access.addHandler(lines)
    access.setLevel(logging.INFO)  # the stack serves with warnings only; a deployment logs access at info
    try:
        async with stack.http(wei_key) as wei, httpx.AsyncClient() as calendar_app:
            url = (await wei.post("/v1/reps/wei/calendar-token")).json()["url"]
            assert (await calendar_app.get(url)).status_code == 200
            await calendar_app.get(f"{stack.url}/v1/reps/wei/calendar.ics?key={wei_key}&x=1")
            token = url.split("token=")[1]
            # The server decodes a parameter's name: however it is spelt, its value is not logged.
            for spelling in ("%74oken=", "TOK%45N=", "x=1;token=", "token%3D", "x=1&tok%65n="):
                await calendar_app.get(f"{stack.url}/v1/reps/wei/calendar.ics?{spelling}{token}")
    finally:
        access.removeHandler(lines)
        access.setLevel(level)
    feed_lines = [line for line in lines.lines if "calendar.ics" in line]
    assert len(feed_lines) == 7
    assert not any(token in line or wei_key in line for line in lines.lines)
    assert "token=[redacted]" in feed_lines[0] and "key=[redacted]&x=1" in feed_lines[1]


async def test_a_rep_acting_on_a_transfer_not_offered_to_them_learns_nothing_of_it(stack, acme_context):
    sarah_key, priya_key = stack.rep("sarah"), stack.rep("priya", team="smb")
    async with stack.http(stack.bot_key) as bot, stack.http(sarah_key) as sarah, stack.http(priya_key) as priya:
        assert (await bot.post("/v1/transfers", json=_start("xfer_sarahs", acme_context))).status_code == 201
        feedback = {"from": "rep", "context_helpful": True, "prospect_repeated": False}
        for stage in ("preparing", "offered", "closed"):
            for refused in (await priya.post("/v1/transfers/xfer_sarahs/rep", json={"action": "accept"}),
                            await priya.post("/v1/transfers/xfer_sarahs/rep", json={"action": "ack"}),
                            await priya.post("/v1/transfers/xfer_sarahs/feedback", json=feedback)):
                assert refused.status_code == 404, (stage, refused.text)
                assert refused.json()["error"]["message"] == "No transfer xfer_sarahs."
            if stage == "preparing":
                await bot.post("/v1/transfers/xfer_sarahs/prospect", json={"action": "proceed"})
            elif stage == "offered":
                await bot.post("/v1/transfers/xfer_sarahs/prospect", json={"action": "left"})
                await asyncio.wait_for(stack.client.get_workflow_handle("xfer_sarahs").result(), 30)
        late = await sarah.post("/v1/transfers/xfer_sarahs/rep", json={"action": "accept"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "closed"  # hers: she may know it ended


async def test_an_id_of_a_workflow_that_is_not_a_transfer_is_no_transfer(stack, acme_context):
    await stack.client.execute_workflow(WatchdogWorkflow.run, id="warm-transfer-watchdog-guessed",
                                        task_queue=stack.settings.task_queue)
    sarah_key = stack.rep("sarah")
    async with stack.http(stack.bot_key) as bot, stack.http(ADMIN_KEY) as admin, stack.http(sarah_key) as sarah:
        for refused in (await admin.get("/v1/transfers/warm-transfer-watchdog-guessed"),
                        await bot.get("/v1/transfers/warm-transfer-watchdog-guessed"),
                        await admin.get("/v1/transfers/warm-transfer-watchdog-guessed/brief"),
                        await bot.post("/v1/transfers/warm-transfer-watchdog-guessed/prospect",
                                       json={"action": "proceed"}),
                        await sarah.post("/v1/transfers/warm-transfer-watchdog-guessed/rep",
                                         json={"action": "accept"})):
            assert refused.status_code == 404, refused.text
        taken = await bot.post("/v1/transfers", json=_start("warm-transfer-watchdog-guessed", acme_context))
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "conflict", taken.text

        # One still running, that no worker will ever answer.
        await stack.client.start_workflow(WatchdogWorkflow.run, id="foreign-running", task_queue="nobody-polls")
        assert (await admin.get("/v1/transfers/foreign-running")).status_code == 404
        taken = await bot.post("/v1/transfers", json=_start("foreign-running", acme_context))
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "conflict", taken.text


async def test_actions_racing_a_transfer_to_its_end_are_told_it_closed(stack, acme_context):
    sarah_key = stack.rep("sarah")
    async with stack.http(stack.bot_key) as bot, stack.http(sarah_key) as sarah:
        assert (await bot.post("/v1/transfers", json=_start("xfer_race", acme_context))).status_code == 201
        await bot.post("/v1/transfers/xfer_race/prospect", json={"action": "proceed"})
        for action in ({"action": "accept"}, {"action": "ack"}, {"action": "outcome", "outcome": "converted"}):
            assert (await sarah.post("/v1/transfers/xfer_race/rep", json=action)).status_code == 200
        await sarah.post("/v1/transfers/xfer_race/feedback",
                         json={"from": "rep", "context_helpful": True, "prospect_repeated": False})
        # The first CSAT ends the transfer; the others arrive as it closes.
        answers = await asyncio.gather(*(bot.post("/v1/transfers/xfer_race/feedback",
                                                  json={"from": "prospect", "csat": 5}) for _ in range(6)))
        assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409, 409, 409], \
            [answer.text for answer in answers]


def test_an_update_the_server_aborts_as_the_transfer_closes_is_told_it_closed():
    """Temporal's answer to an update admitted just before the workflow completed (seen in the race above)."""
    aborted = RPCError("workflow update was aborted by closing workflow", RPCStatusCode.ABORTED, b"")
    assert (_rpc_error(aborted, "xfer_race").status, _rpc_error(aborted, "xfer_race").code) == (409, "closed")


async def test_a_calendar_token_of_a_rep_that_does_not_exist_is_not_found_to_issue_or_revoke(stack):
    wei_key = stack.rep("wei")
    async with stack.http(ADMIN_KEY) as admin, stack.http(wei_key) as wei:
        for answer in (await admin.post("/v1/reps/ghost/calendar-token"),
                       await admin.delete("/v1/reps/ghost/calendar-token")):
            assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", answer.text
        assert (await wei.delete("/v1/reps/ghost/calendar-token")).status_code == 403  # not his, whether it exists
        assert (await admin.delete("/v1/reps/wei/calendar-token")).status_code == 204  # none issued: nothing to do
        document = (await admin.get("/openapi.json")).json()
        assert "404" in document["paths"]["/v1/reps/{rep_id}/calendar-token"]["delete"]["responses"]


async def test_a_key_of_the_wrong_role_is_told_which_it_needs_with_the_right_article(stack):
    wei_key = stack.rep("wei")
    async with stack.http(ADMIN_KEY) as admin, stack.http(wei_key) as wei, stack.http(stack.bot_key) as bot:
        messages = [(await client.get(path)).json()["error"]["message"]
                    for client, path in ((admin, "/v1/reps/me"), (bot, "/v1/reps/me"), (wei, "/v1/metrics"))]
    assert messages == ["This needs a rep key; yours is an admin key.", "This needs a rep key; yours is a bot key.",
                        "This needs an admin key; yours is a rep key."]


async def test_an_admin_lists_and_revokes_keys_and_a_revoked_key_stops_working_at_once(stack):
    async with stack.http(ADMIN_KEY) as admin, httpx.AsyncClient(base_url=stack.url) as anyone:
        issued = (await admin.post("/v1/api-keys", json={"role": "bot"})).json()
        listed = {key["id"]: key for key in (await admin.get("/v1/api-keys")).json()}
        assert listed[issued["id"]]["prefix"] == issued["key"][:12] and listed[issued["id"]]["revoked_at"] is None
        assert not any(issued["key"] in str(key) for key in listed.values())  # never the key itself
        mine = [key for key in listed.values() if key["setting"] == "WT_ADMIN_KEY"]
        assert [key["prefix"] for key in mine] == [ADMIN_KEY[:12]]

        bot = {"Authorization": f"Bearer {issued['key']}"}
        assert (await anyone.get("/v1/api-keys")).status_code == 401
        refused = await anyone.delete(f"/v1/api-keys/{issued['id']}", headers=bot)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert (await anyone.delete(f"/v1/api-keys/{issued['id']}")).status_code == 401
        missing = await admin.delete("/v1/api-keys/999999")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

        assert (await anyone.post("/v1/triggers/evaluate", headers=bot, json={"messages": []})).status_code != 401
        revoked = await admin.delete(f"/v1/api-keys/{issued['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert (await anyone.post("/v1/triggers/evaluate", headers=bot, json={"messages": []})).status_code == 401
        again = await admin.delete(f"/v1/api-keys/{issued['id']}")  # idempotent
        assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]

        last = await admin.delete(f"/v1/api-keys/{mine[0]['id']}")  # the only admin key
        assert last.status_code == 409 and last.json()["error"]["code"] == "conflict"
        other = (await admin.post("/v1/api-keys", json={"role": "admin"})).json()
        assert (await admin.delete(f"/v1/api-keys/{mine[0]['id']}")).status_code == 200  # now it may go
        assert (await admin.get("/v1/api-keys")).status_code == 401  # at once, its own key too
        async with stack.http(other["key"]) as successor:
            assert (await successor.get("/v1/api-keys")).status_code == 200


async def test_a_new_wt_admin_key_revokes_the_one_it_stood_for_and_no_other(local_env, tmp_path):
    new_key = "wt-admin-key-after-rotation-0123456789abcdef"
    async with stack_on(local_env.client, tmp_path) as before, before.http(ADMIN_KEY) as admin:
        issued_admin = (await admin.post("/v1/api-keys", json={"role": "admin"})).json()["key"]

    def rotated(stack) -> None:  # the API started again, on the same database, with a new WT_ADMIN_KEY
        stack.settings = stack.settings.model_copy(update={"admin_key": new_key})

    async with stack_on(local_env.client, tmp_path, rotated) as after, after.http(ADMIN_KEY) as old, \
            after.http(new_key) as new, after.http(issued_admin) as issued:
        assert (await old.get("/v1/api-keys")).status_code == 401
        assert (await issued.get("/v1/api-keys")).status_code == 200  # issued through the API: kept
        listed = (await new.get("/v1/api-keys")).json()
        setting_keys = {key["prefix"]: key["revoked_at"] is not None for key in listed if key["setting"]}
        assert setting_keys == {ADMIN_KEY[:12]: True, new_key[:12]: False}


async def test_every_answer_forbids_framing_and_sniffing_and_the_apis_are_not_cached(stack):
    async with stack.http(ADMIN_KEY) as admin:
        answers = {path: await admin.get(path) for path in ("/docs", "/v1/transfers/nope", "/console", "/dashboard",
                                                             "/v1/reps", "/openapi.json")}
        answers["issued key"] = await admin.post("/v1/api-keys", json={"role": "bot"})
    for path, answer in answers.items():
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Referrer-Policy"] == "no-referrer", path
    for path in ("/v1/transfers/nope", "/v1/reps", "issued key"):  # keys and prospects' details stay in no cache
        assert answers[path].headers["Cache-Control"] == "no-store", path
    assert answers["/console"].headers["Cache-Control"] == "no-cache"  # a page's own headers are kept
    assert answers["/console"].headers["Content-Security-Policy"].startswith("default-src 'self'")
