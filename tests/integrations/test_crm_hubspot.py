"""The HubSpot CRM against HubSpot's API faked at its HTTP boundary (tests/integrations/hubspot_fake.py): lookups,
notes written once, and every way HubSpot fails turned into CrmUnavailable without a word of personal data."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.accounts import AccountActivity
from domain.context import Prospect
from integrations.crm.base import CrmUnavailable
from integrations.crm.guarded import CALL_THREADS, GuardedCRM
from integrations.crm.hubspot import HubSpotAccess, HubSpotCRM
from store.crm_notes import NoteWrites
from store.db import Database
from store.schema import migrate
from tests.conftest import drip_server
from tests.integrations.hubspot_fake import ANSWER, TOKEN, FakeHubSpot, error, hubspot_on_respx

OLA = Prospect(name="Ola Nordmann", email="Ola@Fjord.example", phone="+47 912 34 567", company="Fjord AS")
PERSONAL = ("ola", "fjord", "nordmann", "912", "mei@")  # none of it may reach an error or a log line
_CORRELATION_ID = re.compile(r"correlationId [0-9a-f-]{36}")
AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(db)
    yield db
    db.dispose()


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with hubspot_on_respx(fake):
        yield fake


@pytest.fixture
def crm(sqlite_db, hubspot) -> Iterator[HubSpotCRM]:
    crm = HubSpotCRM(HubSpotAccess(TOKEN), NoteWrites(sqlite_db), timeout=5)
    yield crm
    crm.close()


@pytest.fixture
def ola(hubspot: FakeHubSpot) -> dict[str, str]:
    """Ola as a sales team's HubSpot knows her: her company, her owner (Mei), and what happened before."""
    owner = hubspot.owner("mei@ourteam.example")
    company = hubspot.add("companies", name="Fjord AS", domain="fjord.example")
    contact = hubspot.add("contacts", email="ola@fjord.example", firstname="Ola", lastname="Nordmann",
                          phone="+47 912 34 567", company="Fjord (typed by hand)", hubspot_owner_id=owner)
    hubspot.link("contacts", contact, "companies", company, primary=True)
    on = ("contacts", contact)
    hubspot.engagement("notes", on, hs_timestamp="2026-01-10T09:00:00Z", hs_note_body=(
        "<div><p>Asked about <strong>SSO</strong> &amp; SCIM.</p><p>Budget in Q2.</p></div>"))
    hubspot.engagement("calls", on, hs_timestamp="2026-02-01T15:00:00.000Z", hs_call_title="Discovery call",
                       hs_call_body="<p>Wants 500 seats</p>")
    hubspot.engagement("meetings", on, hs_timestamp="1767258000000", hs_meeting_title="Demo",  # epoch ms: 2026-01-01
                       hs_meeting_body=None)
    hubspot.engagement("emails", on, hs_timestamp="2026-02-20T08:00:00Z", hs_email_subject="Re: pricing",
                       hs_email_text="Can you send the enterprise price list?")
    hubspot.engagement("notes", on, hs_timestamp="2026-02-25T10:00:00Z", hs_note_body=(
        "<p>Demo booked</p><p>Warm Transfer · transfer_outcome · [wt:t-7:outcome]</p>"))
    return {"contact": contact, "company": company, "owner": owner}


def test_a_contact_found_by_email_comes_with_company_owner_and_history(crm, hubspot, ola):
    profile = crm.lookup(Prospect(email=" OLA@fjord.EXAMPLE"))

    assert (profile.account_id, profile.matched_by) == (ola["contact"], "email")
    assert (profile.contact_name, profile.email, profile.phone) == ("Ola Nordmann", "ola@fjord.example",
                                                                    "+47 912 34 567")
    assert profile.company == "Fjord AS"  # the associated company's name, not the free-text property
    assert profile.owner_email == "mei@ourteam.example"
    assert profile.history == [  # newest first; HubSpot's rich text as plain text; our own note by its kind
        AccountActivity(at=datetime(2026, 2, 25, 10, tzinfo=UTC), kind="transfer_outcome", text="Demo booked"),
        AccountActivity(at=datetime(2026, 2, 20, 8, tzinfo=UTC), kind="email",
                        text="Re: pricing: Can you send the enterprise price list?"),
        AccountActivity(at=datetime(2026, 2, 1, 15, tzinfo=UTC), kind="call", text="Discovery call: Wants 500 seats"),
        AccountActivity(at=datetime(2026, 1, 10, 9, tzinfo=UTC), kind="note",
                        text="Asked about SSO & SCIM.\nBudget in Q2."),
        AccountActivity(at=datetime(2026, 1, 1, 9, tzinfo=UTC), kind="meeting", text="Demo"),
    ]
    [search] = hubspot.requests("POST", "/crm/v3/objects/contacts/search")
    assert search.body["filterGroups"] == [
        {"filters": [{"propertyName": "email", "operator": "EQ", "value": "ola@fjord.example"}]}]
    assert all(s.headers["Authorization"] == f"Bearer {TOKEN}" for s in hubspot.seen)
    assert not any("ola" in s.path.lower() or "ola" in str(s.params).lower() for s in hubspot.seen)  # body only


@pytest.mark.parametrize(("prospect", "matched_by"), [
    (Prospect(account_id="{contact}", email="someone.else@example.com"), "account_id"),
    (Prospect(account_id="99999", email="ola@fjord.example"), "email"),  # a HubSpot id HubSpot does not have
    (Prospect(account_id="SF-0042", email="ola@fjord.example"), "email"),  # not a HubSpot id at all
    (Prospect(email="nobody@example.com", phone="+47 912 34 567"), "phone"),
])
def test_the_most_specific_identifier_wins(crm, ola, prospect, matched_by):
    if prospect.account_id == "{contact}":
        prospect = prospect.model_copy(update={"account_id": ola["contact"]})
    profile = crm.lookup(prospect)
    assert (profile.account_id, profile.matched_by) == (ola["contact"], matched_by)


def test_a_company_known_only_by_name_is_the_account(crm, hubspot, ola):
    hubspot.engagement("notes", ("companies", ola["company"]), hs_timestamp="2026-02-02T10:00:00Z",
                       hs_note_body="Renewal talks")
    profile = crm.lookup(Prospect(company="fjord as"))
    assert (profile.account_id, profile.matched_by, profile.company) == (f"company:{ola['company']}", "company",
                                                                        "Fjord AS")
    assert (profile.contact_name, profile.email) == (None, None)
    assert [(a.kind, a.text) for a in profile.history] == [("note", "Renewal talks")]
    assert crm.lookup(Prospect(account_id=profile.account_id)).matched_by == "account_id"


def test_nothing_found_is_none_and_nothing_to_look_for_asks_nothing(crm, hubspot, ola):
    assert crm.lookup(Prospect(email="nobody@example.com", company="Nobody Ltd")) is None
    asked = len(hubspot.seen)
    assert crm.lookup(Prospect(name="Ola")) is None
    assert len(hubspot.seen) == asked


def test_the_history_keeps_the_newest_few(crm, hubspot, ola):
    for day in range(1, 16):
        hubspot.engagement("notes", ("contacts", ola["contact"]), hs_timestamp=f"2026-03-{day:02d}T09:00:00Z",
                           hs_note_body=f"note {day}")
    history = crm.lookup(OLA).history
    assert [a.text for a in history] == [f"note {day}" for day in range(15, 5, -1)]


def test_an_owner_who_left_and_a_deleted_company_leave_gaps_not_failures(crm, hubspot, ola):
    del hubspot.owners[ola["owner"]], hubspot.records["companies"][ola["company"]]
    profile = crm.lookup(OLA)
    assert (profile.owner_email, profile.company) == (None, "Fjord (typed by hand)")


# ---- HubSpot failing ----------------------------------------------------------------------------------

FAILURES = {
    "token refused": (error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found for ola"),
                      "answered 401 INVALID_AUTHENTICATION to searching contacts (correlationId "),
    "scope missing": (error(403, "MISSING_SCOPES", "This app hasn't been granted all required scopes"),
                      "answered 403 MISSING_SCOPES to searching contacts"),
    "rate limit, no time to wait": (error(429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.",
                                          {"Retry-After": "10"}),
                                    "answered 429 RATE_LIMITS (retry after 10 s, more than the time left)"),
    "rate limit, no Retry-After": (error(429, "RATE_LIMITS", "You have reached your daily limit."),
                                   "answered 429 RATE_LIMITS to searching contacts"),
    "server error": (error(500, "INTERNAL_ERROR", "internal error"), "answered 500 INTERNAL_ERROR"),
    "gateway page": (httpx.Response(502, text="<html>Bad Gateway ola@fjord.example</html>"),
                     "answered 502 to searching contacts"),
    "not JSON": (httpx.Response(200, text="<html>ola@fjord.example</html>"),
                 "answered searching contacts with something unexpected"),
    "wrong shape": (httpx.Response(200, json={"total": 1, "results": [{"id": "ola@fjord.example"}]}),
                    "answered searching contacts with something unexpected"),
    "redirect": (httpx.Response(302, headers={"Location": "https://app.hubspot.com/login"},
                                text="<html>Sign in, ola@fjord.example</html>"),
                 "answered 302 to searching contacts: redirects are not followed"),
    "timeout": (httpx.ReadTimeout("timed out"), "did not answer in time (searching contacts)"),
    "unreachable": (httpx.ConnectError("[Errno 111] Connection refused"),
                    "unreachable (searching contacts: ConnectError)"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_every_failure_is_crm_unavailable_in_words_without_personal_data(crm, hubspot, ola, caplog, failure):
    answer, reason = FAILURES[failure]
    hubspot.fail(answer)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CrmUnavailable) as unavailable:
        GuardedCRM(crm, timeout=5).lookup(OLA)
    message = str(unavailable.value)
    assert message.startswith("lookup failed: HubSpot ") and reason in message
    # HubSpot's correlation id is a random UUID, which may well contain "912".
    said = _CORRELATION_ID.sub("", f"{message}\n{caplog.text}").lower()
    assert not any(word in said for word in PERSONAL)
    assert len(hubspot.requests("POST", "/crm/v3/objects/contacts/search")) == 1  # failed fast: asked once


DRIP = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"


@pytest.mark.timeout(10)
def test_a_hubspot_that_drips_its_answer_is_given_up_at_the_timeout_in_all(sqlite_db):
    with drip_server(DRIP, b" ", every=0.2) as drip:
        crm = HubSpotCRM(HubSpotAccess(TOKEN, f"http://127.0.0.1:{drip.port}"), NoteWrites(sqlite_db), timeout=1)
        started = time.monotonic()
        with pytest.raises(CrmUnavailable, match=r"did not answer in time \(searching contacts\)"):
            crm.lookup(OLA)
        assert time.monotonic() - started < 1.5
        assert drip.let_go()  # the connection is closed, not left to drip
        crm.close()


def test_calls_given_up_on_leave_no_thread_behind(sqlite_db):
    """GuardedCRM has 8 threads: calls still dripping in each would leave none for the calls after them."""
    with drip_server(DRIP, b" ", every=0.2) as drip:
        crm = GuardedCRM(HubSpotCRM(HubSpotAccess(TOKEN, f"http://127.0.0.1:{drip.port}"), NoteWrites(sqlite_db),
                                    timeout=0.5), timeout=0.5)
        with ThreadPoolExecutor(CALL_THREADS) as callers:
            calls = [callers.submit(crm.lookup, OLA) for _ in range(CALL_THREADS)]
        assert all(isinstance(call.exception(), CrmUnavailable) for call in calls)
        assert crm.lookup(Prospect(name="Ola")) is None  # nothing to look for: answered at once, by a free thread
        assert drip.let_go()


def test_an_answer_too_large_is_not_read_to_its_end(sqlite_db):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    with drip_server(head, b" " * 65536, every=0) as drip:
        crm = HubSpotCRM(HubSpotAccess(TOKEN, f"http://127.0.0.1:{drip.port}"), NoteWrites(sqlite_db), timeout=5)
        with pytest.raises(CrmUnavailable, match="answered searching contacts with more than 8 MiB"):
            crm.lookup(OLA)
        assert drip.let_go() and drip.sent < 30_000_000
        crm.close()


def test_a_rate_limit_that_ends_within_the_time_left_is_waited_out(crm, hubspot, ola):
    hubspot.fail(error(429, "RATE_LIMITS", "You have reached your secondly limit.", {"Retry-After": "1"}))
    assert crm.lookup(OLA).account_id == ola["contact"]
    assert len(hubspot.requests("POST", "/crm/v3/objects/contacts/search")) == 2


def test_a_failure_after_the_contact_is_found_fails_the_whole_lookup(crm, hubspot, ola):
    hubspot.fail(ANSWER, error(503, "SERVICE_UNAVAILABLE", "try again"))  # the search goes through
    with pytest.raises(CrmUnavailable, match="answered 503 SERVICE_UNAVAILABLE to reading contacts"):
        crm.lookup(OLA)


# ---- notes --------------------------------------------------------------------------------------------


def test_a_note_goes_on_the_contact_once_however_often_it_is_asked(crm, hubspot, ola):
    assert crm.log_activity("t-1:outcome", OLA, "transfer_outcome", "Converted <3\nNext: onboarding", AT)
    assert crm.log_activity("t-1:outcome", OLA, "transfer_outcome", "Converted (asked again)", AT)

    [create] = hubspot.requests("POST", "/crm/v3/objects/notes")
    assert create.body == {
        "properties": {"hs_timestamp": "2026-03-02T14:30:00.000Z",
                       "hs_note_body": "<p>Converted &lt;3</p><p>Next: onboarding</p>"
                                       "<p>Warm Transfer · transfer_outcome · [wt:t-1:outcome]</p>"},
        "associations": [{"to": {"id": ola["contact"]},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]}
    assert len(hubspot.notes_on("contacts", ola["contact"])) == 3  # the two before, and this one
    history = crm.lookup(OLA).history
    assert (history[0].kind, history[0].text) == ("transfer_outcome", "Converted <3\nNext: onboarding")


def test_a_note_whose_answer_never_came_is_found_not_written_again(crm, hubspot, ola):
    def written_then_lost(request: httpx.Request) -> httpx.Response:
        hubspot.answer(request)  # HubSpot writes the note ...
        raise httpx.ReadTimeout("... and its answer is lost")

    hubspot.fail(ANSWER, written_then_lost)  # the contact search, then the note's write
    with pytest.raises(CrmUnavailable, match="did not answer in time"):
        crm.log_activity("t-2:outcome", OLA, "transfer_outcome", "Demo booked", AT)
    assert crm.log_activity("t-2:outcome", OLA, "transfer_outcome", "Demo booked", AT)

    assert len(hubspot.requests("POST", "/crm/v3/objects/notes")) == 1
    assert hubspot.requests("GET", f"/crm/v4/objects/contacts/{ola['contact']}/associations/notes")
    marks = [n for n in hubspot.notes_on("contacts", ola["contact"]) if "[wt:t-2:outcome]" in
             n["properties"]["hs_note_body"]]
    assert len(marks) == 1


def test_a_note_whose_write_failed_on_hubspots_side_unwritten_is_written_once_later(crm, hubspot, ola):
    hubspot.fail(ANSWER, error(502, "BAD_GATEWAY", "upstream"))  # the search, then the write fails
    with pytest.raises(CrmUnavailable, match="answered 502"):
        crm.log_activity("t-3:outcome", OLA, "transfer_outcome", "Lost", AT)
    assert crm.log_activity("t-3:outcome", OLA, "transfer_outcome", "Lost", AT)
    assert len(hubspot.requests("POST", "/crm/v3/objects/notes")) == 2
    assert len(hubspot.notes_on("contacts", ola["contact"])) == 3


def test_a_note_refused_outright_is_written_next_time_without_looking_for_it(crm, hubspot, ola):
    hubspot.fail(ANSWER, error(429, "RATE_LIMITS", "limit"))
    with pytest.raises(CrmUnavailable, match="429"):
        crm.log_activity("t-4:outcome", OLA, "transfer_outcome", "Nurture", AT)
    assert crm.log_activity("t-4:outcome", OLA, "transfer_outcome", "Nurture", AT)
    assert not any(s.path.startswith("/crm/v4/") for s in hubspot.seen)  # surely not written: nothing to look for
    assert len(hubspot.requests("POST", "/crm/v3/objects/notes")) == 2


def test_a_note_being_written_by_another_attempt_waits(crm, hubspot, ola, sqlite_db):
    NoteWrites(sqlite_db).claim("t-5:outcome", datetime.now(UTC), timedelta(minutes=1))
    with pytest.raises(CrmUnavailable, match="being written by another attempt"):
        crm.log_activity("t-5:outcome", OLA, "transfer_outcome", "Converted", AT)
    assert not hubspot.requests("POST", "/crm/v3/objects/notes")


def test_a_prospect_hubspot_does_not_know_becomes_a_contact(crm, hubspot):
    new = Prospect(name="Kari Berg Hansen", email="kari@nordlys.example", company="Nordlys")
    assert crm.log_activity("t-6:outcome", new, "transfer_outcome", "Demo booked", AT)
    [created] = hubspot.requests("POST", "/crm/v3/objects/contacts")
    assert created.body == {"properties": {"firstname": "Kari", "lastname": "Berg Hansen",
                                           "email": "kari@nordlys.example", "company": "Nordlys"}}
    profile = crm.lookup(new)
    assert (profile.contact_name, [a.text for a in profile.history]) == ("Kari Berg Hansen", ["Demo booked"])


def test_a_contact_search_has_not_indexed_yet_is_found_by_its_email_conflict(crm, hubspot):
    kari = hubspot.add("contacts", email="kari@nordlys.example")
    hubspot.unindexed.add(kari)  # created seconds ago: search does not show it yet
    assert crm.log_activity("t-7:outcome", Prospect(email="kari@nordlys.example"), "transfer_outcome", "Lost", AT)
    assert len(hubspot.records["contacts"]) == 1 and len(hubspot.notes_on("contacts", kari)) == 1


def test_a_company_alone_becomes_a_company_and_a_name_alone_is_not_filed(crm, hubspot):
    assert crm.log_activity("t-8:outcome", Prospect(company="Nordlys"), "transfer_outcome", "Lost", AT)
    [company] = hubspot.records["companies"]
    assert hubspot.notes_on("companies", company)
    note = hubspot.requests("POST", "/crm/v3/objects/notes")[0].body
    assert note["associations"][0]["types"][0]["associationTypeId"] == 190
    asked = len(hubspot.seen)
    assert crm.log_activity("t-9:outcome", Prospect(name="Kari"), "transfer_outcome", "Lost", AT) is False
    assert len(hubspot.seen) == asked


def test_upsert_updates_the_contact_named_or_adds_one(crm, hubspot, ola):
    updated = crm.upsert_account(ola["contact"], phone="+47 400 00 000")
    assert (updated.phone, updated.email) == ("+47 400 00 000", "ola@fjord.example")
    added = crm.upsert_account("SF-0042", contact_name="Per", email="per@fjell.example")
    assert re.fullmatch(r"[0-9]+", added.account_id) and added.contact_name == "Per"
