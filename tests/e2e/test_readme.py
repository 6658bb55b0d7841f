"""Every request body README.md shows is posted to the real API, each where its action applies, so the docs stay true.

What counts as an example: a ```http block (request line, headers, a blank line, the JSON body), whose answer is
the next ```json block before the next heading; and, in a section whose heading names `POST <path>`, the first
code span of each table row that holds a JSON object.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import get_args

from domain.requests import ProspectActionName, RepActionName
from tests.conftest import REPO
from tests.e2e.conftest import ADMIN_KEY

START, EVALUATE = "/v1/transfers", "/v1/triggers/evaluate"
PROSPECT, REP, FEEDBACK = "/v1/transfers/{id}/prospect", "/v1/transfers/{id}/rep", "/v1/transfers/{id}/feedback"
SECTION = re.compile(r"^#+ .*`POST (/v1/\S+)`")
CODE_SPAN = re.compile(r"`([^`]+)`")


@dataclass
class Example:
    path: str
    body: dict
    answer: dict | None = None

    @property
    def name(self) -> str:
        """The action, or the feedback's source; empty for the requests that have neither."""
        return self.body.get("action") or self.body.get("from") or ""


def readme_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    section: str | None = None
    awaiting_answer: Example | None = None
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("```"):
            language = line[3:].strip()
            block = list(iter(lambda: next(lines), "```"))
            if language == "http":
                awaiting_answer = _request(block)
                examples.append(awaiting_answer)
            elif language == "json":
                answer = json.loads("\n".join(block))  # every JSON block must parse, answer or not
                if awaiting_answer is not None:
                    awaiting_answer.answer, awaiting_answer = answer, None
        elif line.startswith("#"):
            match = SECTION.match(line)
            section, awaiting_answer = (match[1] if match else None), None
        elif section and line.startswith("|"):
            bodies = [span for span in CODE_SPAN.findall(line) if span.startswith("{")]
            if bodies:
                examples.append(Example(section, json.loads(bodies[0])))
    return examples


def _request(block: list[str]) -> Example:
    method, path = block[0].split()
    assert method == "POST", f"README shows a {method} request with a body: {block[0]}"
    body_start = block.index("") + 1  # after the headers
    return Example(path, json.loads("\n".join(block[body_start:])))


EXAMPLES = readme_examples((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_readme_shows_one_body_for_every_request():
    shown = sorted((example.path, example.name) for example in EXAMPLES)
    wanted = sorted([(START, ""), (EVALUATE, ""), (FEEDBACK, "rep"), (FEEDBACK, "prospect")]
                    + [(PROSPECT, action) for action in get_args(ProspectActionName)]
                    + [(REP, action) for action in get_args(RepActionName)])
    assert shown == wanted


def _example(path: str, name: str = "") -> Example:
    [found] = [example for example in EXAMPLES if (example.path, example.name) == (path, name)]
    return found


def _to_two_decimals(evaluation: dict) -> dict:
    triggers = [{**hit, "confidence": round(hit["confidence"], 2)} for hit in evaluation["triggers"]]
    return {**evaluation, "triggers": triggers}


def _body(path: str, name: str) -> dict:
    return copy.deepcopy(_example(path, name).body)


class Driver:
    """Posts README bodies as a bot and as the demo reps would, and checks each is taken (2xx)."""

    def __init__(self, bot, reps: dict) -> None:
        self.bot, self.reps = bot, reps

    async def start(self, transfer_id: str) -> dict:
        body = _body(START, "")
        body["transfer_id"] = body["context"]["transfer_id"] = transfer_id  # the README's, under an id of its own
        return await self.post(self.bot, START, body, 201)

    async def prospect(self, transfer_id: str, action: str) -> dict:
        return await self.post(self.bot, PROSPECT.format(id=transfer_id), _body(PROSPECT, action))

    async def rep(self, transfer_id: str, rep_id: str, action: str) -> dict:
        return await self.post(self.reps[rep_id], REP.format(id=transfer_id), _body(REP, action))

    async def feedback(self, transfer_id: str, source: str) -> dict:
        client = self.reps["sarah"] if source == "rep" else self.bot
        return await self.post(client, FEEDBACK.format(id=transfer_id), _body(FEEDBACK, source))

    @staticmethod
    async def post(client, path: str, body: dict, status: int = 200) -> dict:
        answer = await client.post(path, json=body)
        assert answer.status_code == status, f"POST {path} {body}: {answer.status_code} {answer.text}"
        return answer.json()


async def test_every_readme_body_is_taken_by_the_api(stack):
    # The README's defer_to is alex; both reps take one transfer at a time, so two offers fill the team.
    keys = {rep_id: stack.rep(rep_id, skills=["salesforce"], capacity=1) for rep_id in ("sarah", "alex")}
    async with stack.http(ADMIN_KEY) as admin:
        bot_key = (await admin.post("/v1/api-keys", json={"role": "bot"})).json()["key"]
    async with stack.http(bot_key) as bot, stack.http(keys["sarah"]) as sarah, stack.http(keys["alex"]) as alex:
        drive = Driver(bot, {"sarah": sarah, "alex": alex})
        # Asked while both reps are free, the evaluator answers as the README shows (a retrained model may move a
        # confidence in its third decimal).
        answer = await drive.post(bot, EVALUATE, _body(EVALUATE, ""))
        assert _to_two_decimals(answer) == _to_two_decimals(_example(EVALUATE).answer)

        started = await drive.start("xfer_readme_happy")
        assert set(started) == set(_example(START).answer)
        assert (await drive.prospect("xfer_readme_happy", "note"))["status"] == "offered"
        await drive.rep("xfer_readme_happy", "sarah", "accept")
        await drive.rep("xfer_readme_happy", "sarah", "ack")
        await drive.prospect("xfer_readme_happy", "replied")
        assert (await drive.rep("xfer_readme_happy", "sarah", "outcome"))["status"] == "completed"
        await drive.feedback("xfer_readme_happy", "rep")
        await drive.feedback("xfer_readme_happy", "prospect")

        await drive.start("xfer_readme_declined")
        await drive.prospect("xfer_readme_declined", "proceed")
        assert (await drive.rep("xfer_readme_declined", "sarah", "decline"))["rep"]["id"] == "alex"
        assert (await drive.rep("xfer_readme_declined", "alex", "schedule_callback"))["status"] == "callback_scheduled"

        await drive.start("xfer_readme_deferred")
        await drive.prospect("xfer_readme_deferred", "proceed")
        assert (await drive.rep("xfer_readme_deferred", "sarah", "defer"))["rep"]["id"] == "alex"
        await drive.start("xfer_readme_taken")
        assert (await drive.prospect("xfer_readme_taken", "proceed"))["rep"]["id"] == "sarah"

        for transfer_id, choice in (("xfer_readme_waits", "wait"), ("xfer_readme_emailed", "email")):
            await drive.start(transfer_id)
            assert (await drive.prospect(transfer_id, "proceed"))["status"] == "queued"
            await drive.prospect(transfer_id, choice)
        assert (await drive.prospect("xfer_readme_waits", "callback"))["status"] == "callback_scheduled"

        await drive.start("xfer_readme_left")
        assert (await drive.prospect("xfer_readme_left", "left"))["status"] == "cancelled"

