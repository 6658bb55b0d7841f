"""HubSpot as the CRM, through its CRM v3 API (httpx, a private app's token).

A prospect is found the interface's way, most specific first: `account_id` when it is a HubSpot record id (a
contact's `51`, or `company:7` for a company), then a contact by e-mail (the search API: the address goes in the
request body, never in a URL that logs could show), by phone, then a company by exact name. The profile is the
record with its primary company's name, its owner's e-mail (the rep with that e-mail is preferred) and its newest
notes, calls, meetings and e-mails as the account history.

A transfer's note goes on the contact (or company) as a HubSpot note, ending with `Warm Transfer · <kind> ·
[wt:<key>]`. A repeat records nothing: `crm_note_write` (store/crm_notes.py) has every key written, and a write
whose answer never came (a timeout, a 5xx) is looked for among the record's notes, by that mark, before it is sent
again. HubSpot has no idempotency key of its own, and its search index lags writes by seconds, so neither a plain
retry nor a search could promise one note per key. A prospect HubSpot does not know yet becomes a contact (or a
company, if a company name is all there is).

Every operation has `timeout` seconds in all, each call the time left (integrations.http: from connecting to the
answer's last byte); a 429 waits out its Retry-After when the time left allows it, and fails at once otherwise. A
redirect is not followed. Every failure is HubSpotUnavailable, a CrmUnavailable whose message says what failed
(status, HubSpot's error category and correlation id), never what was looked for.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from domain.accounts import AccountActivity, AccountProfile
from domain.context import Prospect
from integrations.crm.base import CRM, CrmUnavailable
from integrations.http import Answer, AnswerTooLarge, client, exchange
from store.crm import email_key
from store.crm_notes import NoteWrites

HUBSPOT_API = "https://api.hubapi.com"
PROPERTIES = {"contacts": ["email", "firstname", "lastname", "phone", "mobilephone", "company", "hubspot_owner_id"],
              "companies": ["name", "hubspot_owner_id"]}
LAST_TOUCHED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate"}
# Engagement object -> (its kind in the history, its title property, its body property).
ENGAGEMENTS = {"notes": ("note", None, "hs_note_body"), "calls": ("call", "hs_call_title", "hs_call_body"),
               "meetings": ("meeting", "hs_meeting_title", "hs_meeting_body"),
               "emails": ("email", "hs_email_subject", "hs_email_text")}
LINKED = {"contacts": ["companies", *ENGAGEMENTS], "companies": list(ENGAGEMENTS)}
PRIMARY_COMPANY = "contact_to_company"  # the v3 association type of a contact's primary company
NOTE_TO = {"contacts": 202, "companies": 190}  # HubSpot-defined association types of a note to its record
READ_LIMIT = 100  # records per batch read: of each kind of engagement, the newest 100 by id are read
TEXT_LIMIT = 500  # characters of an engagement the history keeps
NOTE_LIMIT = 60_000  # characters of a note's text sent (HubSpot takes 65,536 in all)
# Bytes of an answer read: a batch read of 100 notes of 65,536 characters each is all but 7 MB.
ANSWER_LIMIT = 8 * 2**20
PARALLEL_READS = 6  # a profile's company, owner and engagements are read at once
LEASE = timedelta(minutes=1)  # a note's write is held this long: far longer than an attempt, which `timeout` ends
FOOTER = "Warm Transfer"
_MARK = re.compile(rf"\n?{FOOTER} · (?P<kind>[^\s·]+) · \[wt:(?P<key>[^\]\s]+)\]")
_EXISTING = re.compile(r"Existing ID: ([0-9]{1,20})")
_CATEGORY = re.compile(r"[A-Z_]{1,64}")
_CORRELATION = re.compile(r"[0-9a-fA-F-]{8,64}")

RecordId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Ref = tuple[str, str]  # (object type, record id)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class HubSpotAccess:
    token: str  # a private app's access token
    base_url: str = HUBSPOT_API


class HubSpotUnavailable(CrmUnavailable):
    """HubSpot could not answer, or refused. `maybe_done`: the request may have been carried out all the same (no
    answer came, or HubSpot failed on its side)."""

    def __init__(self, reason: str, *, maybe_done: bool = False):
        super().__init__(f"HubSpot {reason}")
        self.maybe_done = maybe_done


class _AlreadyThere(HubSpotUnavailable):
    """409: the contact to create exists (HubSpot names its id)."""

    def __init__(self, record_id: str):
        super().__init__("has the record already")
        self.record_id = record_id


class HubSpotCRM(CRM):
    def __init__(self, access: HubSpotAccess, writes: NoteWrites, *, timeout: float = 3.0, history_limit: int = 10):
        self.writes, self.timeout, self.history_limit = writes, timeout, history_limit
        self.client = client(base_url=access.base_url, headers={"Authorization": f"Bearer {access.token}"})
        self._reads = ThreadPoolExecutor(PARALLEL_READS, thread_name_prefix="hubspot")

    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        deadline = self._deadline()
        found = self._find(prospect, deadline, linked=True)
        return self._profile(*found, deadline) if found else None

    def upsert_account(
        self,
        account_id: str,
        *,
        company: str | None = None,
        contact_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> AccountProfile:
        """Update the HubSpot record `account_id` names; a new contact (HubSpot gives its id) if it names none."""
        deadline = self._deadline()
        object_type, record_id = _account_ref(account_id) or ("contacts", None)
        if object_type == "companies":
            properties = {"name": company} if company else {}
        else:
            properties = _contact_properties(contact_name, email, phone, company)
        updated = record_id is not None and self._call(
            _Record, deadline, "PATCH", f"/crm/v3/objects/{object_type}/{record_id}", f"updating {object_type}",
            json={"properties": properties}, missing_ok=True)
        if not updated:
            record_id = self._create(object_type, properties, deadline)
        record = self._get((object_type, record_id), deadline, linked=True)
        if record is None:
            raise HubSpotUnavailable(f"lost the {object_type} record it just wrote")
        return self._profile(object_type, record, "account_id", deadline)

    def log_activity(self, key: str, prospect: Prospect, kind: str, text: str, at: datetime) -> bool:
        deadline = self._deadline()
        write = self.writes.claim(key, datetime.now(UTC), LEASE)
        if write is None:
            raise HubSpotUnavailable("note is being written by another attempt")
        if write.note_id is not None:
            return True
        unsure, sending = write.unsure, False
        try:
            ref = _ledger_ref(write.record) or self._target(prospect, deadline)
            if ref is None:
                self.writes.release(key, unsure=False)
                return False
            if unsure:  # an earlier write got no answer: it is there if the record's notes carry the key
                note_id = self._written_note(ref, key, deadline)
                if note_id is not None:
                    self.writes.written(key, note_id)
                    return True
                unsure = False
            self.writes.sending(key, f"{ref[0]}/{ref[1]}")
            sending = True
            note_id = self._create_note(ref, key, kind, text, at, deadline)
        except Exception as err:
            maybe_done = not isinstance(err, HubSpotUnavailable) or err.maybe_done
            self.writes.release(key, unsure=maybe_done if sending else unsure)
            raise
        self.writes.written(key, note_id)
        return True

    def close(self) -> None:
        self._reads.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    # ---- finding and reading records ------------------------------------------------------------------

    def _find(self, prospect: Prospect, deadline: float, *, linked: bool) -> tuple[str, _Record, str] | None:
        """(object type, record, matched by) of the first record matched, the most specific way first; with
        `linked`, the record carries its associations."""
        ref = _account_ref(prospect.account_id)
        if ref is not None and (record := self._get(ref, deadline, linked=linked)) is not None:
            return ref[0], record, "account_id"
        for matched_by, object_type, filter_groups in _searches(prospect):
            found = self._call(_Records, deadline, "POST", f"/crm/v3/objects/{object_type}/search",
                               f"searching {object_type}", json={
                                   "filterGroups": filter_groups, "properties": PROPERTIES[object_type], "limit": 1,
                                   # Several records may share an e-mail or a name: the one touched last, as ours.
                                   "sorts": [{"propertyName": LAST_TOUCHED[object_type], "direction": "DESCENDING"}]})
            if not found.results:
                continue
            record = found.results[0]
            if linked:
                record = self._get((object_type, record.id), deadline, linked=True)
            if record is not None:
                return object_type, record, matched_by
        return None

    def _get(self, ref: Ref, deadline: float, *, linked: bool) -> _Record | None:
        object_type, record_id = ref
        params = {"properties": ",".join(PROPERTIES[object_type])}
        if linked:
            params["associations"] = ",".join(LINKED[object_type])
        return self._call(_Record, deadline, "GET", f"/crm/v3/objects/{object_type}/{record_id}",
                          f"reading {object_type}", params=params, missing_ok=True)

    def _profile(self, object_type: str, record: _Record, matched_by: str, deadline: float) -> AccountProfile:
        """The record, its company's name, its owner's e-mail and its history, the last three read at once."""
        props = record.properties
        company_id = _primary_company(record) if object_type == "contacts" else None
        owner_id = props.get("hubspot_owner_id")
        company = self._reads.submit(self._company_name, company_id, deadline) if company_id else None
        owner = self._reads.submit(self._owner_email, owner_id, deadline) if owner_id else None
        engagements = [self._reads.submit(self._activities, kind, ids, deadline)
                       for kind in ENGAGEMENTS if (ids := _linked_ids(record, kind))]
        history = sorted((activity for reading in engagements for activity in reading.result()),
                         key=lambda activity: activity.at, reverse=True)[:self.history_limit]
        if object_type == "companies":
            return AccountProfile(account_id=f"company:{record.id}", company=props.get("name"), contact_name=None,
                                  email=None, phone=None, matched_by=matched_by, history=history,
                                  owner_email=owner.result() if owner else None)
        name = " ".join(part for part in (props.get("firstname"), props.get("lastname")) if part)
        return AccountProfile(account_id=record.id, company=(company.result() if company else None) or props.get(
            "company"), contact_name=name or None, email=props.get("email"),
            phone=props.get("phone") or props.get("mobilephone"), matched_by=matched_by, history=history,
            owner_email=owner.result() if owner else None)

    def _company_name(self, company_id: str, deadline: float) -> str | None:
        company = self._get(("companies", company_id), deadline, linked=False)
        return company.properties.get("name") if company else None

    def _owner_email(self, owner_id: str, deadline: float) -> str | None:
        if not re.fullmatch(r"[0-9]{1,20}", owner_id):
            return None
        owner = self._call(_Owner, deadline, "GET", f"/crm/v3/owners/{owner_id}", "reading an owner",
                           missing_ok=True)
        return owner.email if owner else None

    def _activities(self, object_type: str, ids: list[str], deadline: float) -> list[AccountActivity]:
        kind, title, body = ENGAGEMENTS[object_type]
        newest = sorted(ids, key=int, reverse=True)[:READ_LIMIT]
        found = self._call(_Records, deadline, "POST", f"/crm/v3/objects/{object_type}/batch/read",
                           f"reading {object_type}", json={
                               "properties": ["hs_timestamp", body, *([title] if title else [])],
                               "inputs": [{"id": record_id} for record_id in newest]})
        return [activity for record in found.results if (activity := _activity(record, kind, title, body))]

    # ---- writing ---------------------------------------------------------------------------------------

    def _target(self, prospect: Prospect, deadline: float) -> Ref | None:
        """The record a note about the prospect goes on: the one matched, else a new contact (or company)."""
        found = self._find(prospect, deadline, linked=False)
        if found is not None:
            return found[0], found[1].id
        if prospect.email or prospect.phone:
            properties = _contact_properties(prospect.name, prospect.email, prospect.phone, prospect.company)
            return "contacts", self._create("contacts", properties, deadline)
        if prospect.company:
            return "companies", self._create("companies", {"name": prospect.company}, deadline)
        return None

    def _create(self, object_type: str, properties: dict[str, str], deadline: float) -> str:
        try:
            return self._call(_Record, deadline, "POST", f"/crm/v3/objects/{object_type}", f"creating {object_type}",
                              json={"properties": properties}).id
        except _AlreadyThere as there:  # e-mail is unique among contacts: a contact made by an unanswered create
            return there.record_id

    def _create_note(self, ref: Ref, key: str, kind: str, text: str, at: datetime, deadline: float) -> str:
        object_type, record_id = ref
        return self._call(_Record, deadline, "POST", "/crm/v3/objects/notes", "creating a note", json={
            "properties": {"hs_timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           "hs_note_body": _note_body(kind, text, key)},
            "associations": [{"to": {"id": record_id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO[object_type]}]}]}).id

    def _written_note(self, ref: Ref, key: str, deadline: float) -> str | None:
        """The id of the record's note that carries `key`'s mark, if there is one: read from the record's
        associations (v4), which, unlike search, show a note as soon as it is written."""
        object_type, record_id = ref
        ids: list[str] = []
        after: str | None = None
        while True:
            page = self._call(_LinkPage, deadline, "GET", f"/crm/v4/objects/{object_type}/{record_id}/associations/"
                              "notes", "listing notes", params={"limit": 500, **({"after": after} if after else {})})
            ids += [link.to_object_id for link in page.results]
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                break
        mark = f"[wt:{key}]"
        newest_first = sorted(set(ids), key=int, reverse=True)
        for start in range(0, len(newest_first), READ_LIMIT):
            found = self._call(_Records, deadline, "POST", "/crm/v3/objects/notes/batch/read", "reading notes", json={
                "properties": ["hs_note_body"],
                "inputs": [{"id": note_id} for note_id in newest_first[start:start + READ_LIMIT]]})
            for note in found.results:
                if mark in (note.properties.get("hs_note_body") or ""):
                    return note.id
        return None

    # ---- HTTP ------------------------------------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self.timeout

    def _call(self, answer: type[M], deadline: float, method: str, path: str, what: str, *,
              json: dict | None = None, params: dict | None = None, missing_ok: bool = False) -> M | None:
        """HubSpot's answer to one request, as `answer`; None for a 404 when `missing_ok`."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HubSpotUnavailable(f"took longer than {self.timeout:g} s in all ({what})")
            try:
                response = exchange(self.client, method, path, timeout=left, limit=ANSWER_LIMIT, json=json,
                                    params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:  # nothing reached HubSpot
                raise HubSpotUnavailable(f"unreachable ({what}: {type(err).__name__})") from None
            except httpx.TimeoutException:
                raise HubSpotUnavailable(f"did not answer in time ({what})", maybe_done=True) from None
            except AnswerTooLarge as err:
                raise HubSpotUnavailable(f"answered {what} with {err}", maybe_done=True) from None
            except httpx.HTTPError as err:
                raise HubSpotUnavailable(f"connection failed ({what}: {type(err).__name__})", maybe_done=True) from None
            wait = _retry_after(response) if response.status_code == 429 else None
            if wait is None or wait >= deadline - time.monotonic():
                break
            time.sleep(wait)  # HubSpot said when, and the time left allows it
        if missing_ok and response.status_code == 404:
            return None
        if 300 <= response.status_code < 400:  # its body is a page for a browser, not an answer
            raise HubSpotUnavailable(f"answered {response.status_code} to {what}: redirects are not followed")
        if response.status_code >= 400:
            raise _refusal(response, what)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError:  # its message would quote the answer: the prospect's data
            raise HubSpotUnavailable(f"answered {what} with something unexpected", maybe_done=True) from None


# ---- HubSpot's shapes, as far as they are read ---------------------------------------------------------


class _Link(BaseModel):
    id: RecordId
    type: str = ""


class _Links(BaseModel):
    results: list[_Link] = []


class _Record(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)
    id: RecordId
    properties: dict[str, str | None] = {}
    associations: dict[str, _Links] = {}
    created_at: datetime | None = Field(None, alias="createdAt")


class _Records(BaseModel):
    """A search's answer (with `total` and `paging`) or a batch read's (with `status`)."""

    results: list[_Record]


class _Owner(BaseModel):
    id: str
    email: str | None = None


class _LinkV4(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)
    to_object_id: RecordId = Field(alias="toObjectId")


class _After(BaseModel):
    after: str


class _Paging(BaseModel):
    next: _After | None = None


class _LinkPage(BaseModel):
    results: list[_LinkV4]
    paging: _Paging | None = None


# ---- mapping -------------------------------------------------------------------------------------------


def _account_ref(account_id: str | None) -> Ref | None:
    """The HubSpot record an account id names: `51` a contact, `company:7` a company; None for any other id."""
    kind, _, number = (account_id or "").rpartition(":")
    object_type = {"": "contacts", "company": "companies"}.get(kind)
    return (object_type, number) if object_type and re.fullmatch(r"[0-9]{1,20}", number) else None


def _ledger_ref(record: str | None) -> Ref | None:
    """The record a note's ledger entry names ("contacts/51"), if an earlier attempt chose one."""
    object_type, _, record_id = (record or "").partition("/")
    return (object_type, record_id) if object_type in NOTE_TO and record_id else None


def _searches(prospect: Prospect) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """(matched by, object type, filter groups, ORed) for each identifier the prospect has, in the interface's
    order."""
    if email := email_key(prospect.email):
        yield "email", "contacts", [_equal("email", email)]
    if prospect.phone:
        yield "phone", "contacts", [_equal("phone", prospect.phone), _equal("mobilephone", prospect.phone)]
    if prospect.company:
        yield "company", "companies", [_equal("name", prospect.company)]


def _equal(name: str, value: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


def _contact_properties(name: str | None, email: str | None, phone: str | None,
                        company: str | None) -> dict[str, str]:
    first, _, last = (name or "").strip().partition(" ")
    values = {"firstname": first, "lastname": last.strip(), "email": email, "phone": phone, "company": company}
    return {name: value for name, value in values.items() if value}


def _primary_company(record: _Record) -> str | None:
    links = record.associations.get("companies", _Links()).results
    primary = [link.id for link in links if link.type == PRIMARY_COMPANY]
    return (primary or [link.id for link in links] or [None])[0]


def _linked_ids(record: _Record, object_type: str) -> list[str]:
    return list({link.id for link in record.associations.get(object_type, _Links()).results})


def _activity(record: _Record, kind: str, title: str | None, body: str) -> AccountActivity | None:
    props = record.properties
    at = _when(props.get("hs_timestamp")) or record.created_at
    if at is None:
        return None
    text = _plain(props.get(body) or "")
    if mark := _MARK.search(text):  # one of ours: its kind, as the built-in CRM keeps it, and its text
        kind, text = mark["kind"], text[:mark.start()].rstrip()
    text = ": ".join(part for part in ((props.get(title) or "").strip() if title else "", text) if part)
    return AccountActivity(at=at, kind=kind, text=text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…")


def _when(value: str | None) -> datetime | None:
    """hs_timestamp: ISO 8601 as the v3 API answers it, or milliseconds since the epoch."""
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, UTC) if value.isdigit() else datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _note_body(kind: str, text: str, key: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text[:NOTE_LIMIT].splitlines() if line.strip())
    return f"{paragraphs}<p>{FOOTER} · {html.escape(kind)} · [wt:{key}]</p>"


class _TextOf(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(rich: str) -> str:
    """The text of HubSpot's rich text (HTML): one line per paragraph, spaces collapsed."""
    parser = _TextOf()
    parser.feed(rich)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _retry_after(response: Answer) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,3})?", value) else None


def _refusal(response: Answer, what: str) -> HubSpotUnavailable:
    """HubSpot's refusal in words that quote nothing sent: its status, error category and correlation id. Its
    `message` can quote the request (an e-mail, a name), so it is read only for the id of a contact that exists."""
    try:
        error = response.json()
    except ValueError:
        error = None
    error = error if isinstance(error, dict) else {}
    message, category, correlation = (str(error.get(name, "")) for name in ("message", "category", "correlationId"))
    if response.status_code == 409 and (existing := _EXISTING.search(message)):
        return _AlreadyThere(existing[1])
    reason = f"answered {response.status_code}" + (f" {category}" if _CATEGORY.fullmatch(category) else "")
    if response.status_code == 429 and (wait := _retry_after(response)) is not None:
        reason += f" (retry after {wait:g} s, more than the time left)"
    reason += f" to {what}"
    if _CORRELATION.fullmatch(correlation):
        reason += f" (correlationId {correlation})"
    return HubSpotUnavailable(reason, maybe_done=response.status_code >= 500)
