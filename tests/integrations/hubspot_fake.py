"""HubSpot's CRM API faked at its HTTP boundary (respx), in its real request and response shapes: records with
`properties` and `associations`, search's `{"total", "results", "paging"}`, batch read's `{"status", "results"}`,
v4 association pages, owners, and errors as `{"status": "error", "message", "correlationId", "category"}`.

Only what the adapter uses is there, but that much behaves as HubSpot does: search matches strings case-blind and
leaves out records HubSpot has not indexed yet (`unindexed`), a contact's e-mail is unique (409 naming the
contact), a wrong token is 401. `fail(...)` queues answers for the next requests, one each: responses,
exceptions, functions of the request, or ANSWER (HubSpot's own); `outage` answers every request while set.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import respx

BASE = "https://api.hubapi.com"
TOKEN = "pat-na1-tests-only"
SINGULAR = {"contacts": "contact", "companies": "company", "notes": "note", "calls": "call", "meetings": "meeting",
            "emails": "email"}
TO_NOTES = {"contacts": 201, "companies": 189}  # HubSpot-defined association types of a record to its notes
ALWAYS = ("hs_object_id", "createdate", "lastmodifieddate")  # HubSpot returns these whatever was asked

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
ANSWER: Answer = httpx.Response(599)  # queued: this request gets HubSpot's own answer (see `fail`)


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    body: dict | None
    headers: httpx.Headers


@dataclass
class FakeHubSpot:
    token: str = TOKEN
    records: dict[str, dict[str, dict]] = field(default_factory=lambda: {kind: {} for kind in SINGULAR})
    links: set[tuple[str, str, str, str, str]] = field(default_factory=set)  # (from type, id, to type, id, label)
    owners: dict[str, dict] = field(default_factory=dict)
    unindexed: set[str] = field(default_factory=set)  # record ids search does not find yet
    seen: list[Seen] = field(default_factory=list)
    queued: list[Answer] = field(default_factory=list)
    outage: Answer | None = None  # while set, every request gets it
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(501))

    # ---- building HubSpot's state -----------------------------------------------------------------------

    def add(self, object_type: str, created: str = "2025-01-02T09:00:00Z", **properties: str | None) -> str:
        record_id = str(next(self._ids))
        self.records[object_type][record_id] = {"id": record_id, "createdAt": created, "updatedAt": created,
                                                "archived": False, "properties": {"hs_object_id": record_id,
                                                                                  **properties}}
        return record_id

    def owner(self, email: str, first: str = "Mei", last: str = "Lin") -> str:
        owner_id = str(next(self._ids))
        self.owners[owner_id] = {"id": owner_id, "email": email, "firstName": first, "lastName": last,
                                 "userId": int(owner_id) * 10, "createdAt": "2024-05-01T08:00:00Z",
                                 "updatedAt": "2024-05-01T08:00:00Z", "archived": False}
        return owner_id

    def link(self, from_type: str, from_id: str, to_type: str, to_id: str, *, primary: bool = False) -> None:
        label = f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
        back = f"{SINGULAR[to_type]}_to_{SINGULAR[from_type]}"
        for added in ([label, f"{label}_unlabeled"] if primary else [label]):
            self.links.add((from_type, from_id, to_type, to_id, added))
        self.links.add((to_type, to_id, from_type, from_id, back))

    def engagement(self, object_type: str, on: tuple[str, str], **properties: str | None) -> str:
        record_id = self.add(object_type, **properties)
        self.link(on[0], on[1], object_type, record_id)
        return record_id

    def fail(self, *answers: Answer) -> None:
        self.queued.extend(answers)

    def notes_on(self, object_type: str, record_id: str) -> list[dict]:
        return [self.records["notes"][to_id] for kind, from_id, to_type, to_id, _ in sorted(self.links)
                if (kind, from_id, to_type) == (object_type, record_id, "notes")]

    def requests(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if (s.method, s.path) == (method, path)]

    # ---- answering ----------------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        params = {name: values[-1] for name, values in parse_qs(request.url.query.decode()).items()}
        self.seen.append(Seen(request.method, request.url.path, params, body, request.headers))
        answer = self.queued.pop(0) if self.queued else ANSWER if self.outage is None else self.outage
        if isinstance(answer, Exception):
            raise answer
        if answer is ANSWER:
            return self.answer(request, body, params)
        return answer(request) if callable(answer) else answer

    def answer(self, request: httpx.Request, body: dict | None = None,
               params: dict[str, str] | None = None) -> httpx.Response:
        """HubSpot's own answer, as if nothing were queued."""
        body = json.loads(request.content) if body is None and request.content else body
        params = params if params is not None else {
            name: values[-1] for name, values in parse_qs(request.url.query.decode()).items()}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
        parts = request.url.path.strip("/").split("/")
        match request.method, parts:
            case "POST", ["crm", "v3", "objects", kind, "search"]:
                return self._search(kind, body)
            case "POST", ["crm", "v3", "objects", kind, "batch", "read"]:
                return self._batch_read(kind, body)
            case "GET", ["crm", "v3", "objects", kind, record_id]:
                return self._get(kind, record_id, params)
            case "PATCH", ["crm", "v3", "objects", kind, record_id]:
                return self._update(kind, record_id, body)
            case "POST", ["crm", "v3", "objects", kind]:
                return self._create(kind, body)
            case "GET", ["crm", "v3", "owners", owner_id]:
                owner = self.owners.get(owner_id)
                return httpx.Response(200, json=owner) if owner else error(404, "OBJECT_NOT_FOUND", "Not found")
            case "GET", ["crm", "v4", "objects", kind, record_id, "associations", to_type]:
                return self._v4_links(kind, record_id, to_type, params)
        return error(404, "OBJECT_NOT_FOUND", f"no route {request.method} {request.url.path}")

    def _shown(self, record: dict, properties: list[str]) -> dict:
        shown = {name: record["properties"].get(name) for name in [*ALWAYS, *properties]}
        return {**{k: v for k, v in record.items() if k != "properties"}, "properties": shown}

    def _search(self, kind: str, body: dict) -> httpx.Response:
        def matches(record: dict, group: dict) -> bool:
            return all(f["operator"] == "EQ" and str(record["properties"].get(f["propertyName"]) or "").lower()
                       == str(f["value"]).lower() for f in group["filters"])

        found = [record for record_id, record in self.records[kind].items() if record_id not in self.unindexed
                 and any(matches(record, group) for group in body.get("filterGroups", []))]
        found.sort(key=lambda record: int(record["id"]), reverse=True)
        limit = body.get("limit", 10)
        answer = {"total": len(found), "results": [self._shown(r, body.get("properties", [])) for r in found[:limit]]}
        if len(found) > limit:
            answer["paging"] = {"next": {"after": str(limit), "link": "?after=" + str(limit)}}
        return httpx.Response(200, json=answer)

    def _batch_read(self, kind: str, body: dict) -> httpx.Response:
        ids = [item["id"] for item in body["inputs"]]
        found = [self._shown(self.records[kind][i], body.get("properties", [])) for i in ids if i in self.records[kind]]
        answer = {"status": "COMPLETE", "results": found, "startedAt": now(), "completedAt": now()}
        missing = [i for i in ids if i not in self.records[kind]]
        if missing:  # HubSpot: 207 Multi-Status, the ids it could not read among its errors
            answer |= {"numErrors": 1, "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND", "message":
                                                   "Could not get some objects", "context": {"ids": missing}}]}
        return httpx.Response(207 if missing else 200, json=answer)

    def _get(self, kind: str, record_id: str, params: dict[str, str]) -> httpx.Response:
        record = self.records.get(kind, {}).get(record_id)
        if record is None:
            return error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
        shown = self._shown(record, params.get("properties", "").split(",") if params.get("properties") else [])
        wanted = [t for t in params.get("associations", "").split(",") if t]
        associations = {}
        for to_type in wanted:
            results = [{"id": to_id, "type": label} for kind_, from_id, to_type_, to_id, label in sorted(self.links)
                       if (kind_, from_id, to_type_) == (kind, record_id, to_type)]
            if results:
                associations[to_type] = {"results": results}
        return httpx.Response(200, json={**shown, **({"associations": associations} if associations else {})})

    def _update(self, kind: str, record_id: str, body: dict) -> httpx.Response:
        record = self.records.get(kind, {}).get(record_id)
        if record is None:
            return error(404, "OBJECT_NOT_FOUND", "resource not found")
        record["properties"].update(body["properties"])
        return httpx.Response(200, json=self._shown(record, list(body["properties"])))

    def _create(self, kind: str, body: dict) -> httpx.Response:
        properties = body.get("properties", {})
        if kind == "notes" and "hs_timestamp" not in properties:
            return error(400, "VALIDATION_ERROR", "Property values were not valid")
        email = (properties.get("email") or "").lower()
        for record_id, record in self.records[kind].items():
            if kind == "contacts" and email and (record["properties"].get("email") or "").lower() == email:
                return error(409, "CONFLICT", f"Contact already exists. Existing ID: {record_id}")
        record_id = self.add(kind, created=now(), **properties)
        for association in body.get("associations", []):
            (to_type,) = [t for t, typ in (("contacts", 202), ("companies", 190))
                          if association["types"][0]["associationTypeId"] == typ]
            self.link(kind, record_id, to_type, association["to"]["id"])
        return httpx.Response(201, json=self._shown(self.records[kind][record_id], list(properties)))

    def _v4_links(self, kind: str, record_id: str, to_type: str, params: dict[str, str]) -> httpx.Response:
        ids = sorted({int(to_id) for kind_, from_id, to_type_, to_id, _ in self.links
                      if (kind_, from_id, to_type_) == (kind, record_id, to_type)})
        start, limit = int(params.get("after", 0)), int(params.get("limit", 500))
        page = {"results": [{"toObjectId": i, "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": TO_NOTES.get(kind), "label": None}]}
            for i in ids[start:start + limit]]}
        if start + limit < len(ids):
            page["paging"] = {"next": {"after": str(start + limit), "link": None}}
        return httpx.Response(200, json=page)


def error(status: int, category: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """An error as HubSpot's API words it."""
    return httpx.Response(status, headers=headers, json={"status": "error", "message": message,
                                                         "correlationId": str(uuid.uuid4()), "category": category})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def hubspot_on_respx(fake: FakeHubSpot, base: str = BASE) -> Iterator[respx.MockRouter]:
    """`fake` answers every request to `base`; requests elsewhere (the tests' own API on loopback) go through."""
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=base).mock(side_effect=fake)
        router.route().pass_through()
        yield router
