from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.context import Prospect
from integrations.crm.builtin import BuiltinCRM


@pytest.fixture
def crm(db) -> BuiltinCRM:
    crm = BuiltinCRM(db)
    crm.upsert_account(
        "acc-1", company="Acme", contact_name="Ann Lee", email="Ann@Example.com", phone="+1 (415) 555-0100"
    )
    crm.upsert_account("acc-2", company="Beta GmbH", email="bob@beta.example", phone="+49 30 1234567")
    return crm


@pytest.mark.parametrize(
    ("prospect", "account_id", "matched_by"),
    [
        # The most specific identifier wins even when a weaker one points elsewhere.
        (Prospect(account_id="acc-1", email="bob@beta.example"), "acc-1", "account_id"),
        (Prospect(account_id="unknown", email="ann@EXAMPLE.com", company="Beta GmbH"), "acc-1", "email"),
        (Prospect(email="nobody@example.com", phone="1.415.555.0100", company="Beta GmbH"), "acc-1", "phone"),
        (Prospect(phone="000", company="Beta GmbH"), "acc-2", "company"),
    ],
)
def test_lookup_order(crm, prospect, account_id, matched_by):
    profile = crm.lookup(prospect)
    assert (profile.account_id, profile.matched_by) == (account_id, matched_by)


@pytest.mark.parametrize(
    "prospect",
    [Prospect(), Prospect(company="acme"), Prospect(email="ann@example.org"), Prospect(phone="(415) 555-0100")],
)
def test_lookup_without_a_match(crm, prospect):
    assert crm.lookup(prospect) is None


def test_upsert_changes_only_the_fields_given(crm):
    profile = crm.upsert_account("acc-1", phone="+1 415 555 0199")
    assert (profile.company, profile.email, profile.phone) == ("Acme", "Ann@Example.com", "+1 415 555 0199")
    assert crm.lookup(Prospect(phone="14155550199")).account_id == "acc-1"


def test_log_activity_is_idempotent_and_history_is_newest_first(crm):
    ann = Prospect(email="ann@example.com")
    at = datetime(2030, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    crm.log_activity("t-1:transfer", ann, "transfer", "Warm transfer to Mei", at)
    crm.log_activity("t-1:transfer", ann, "transfer", "Warm transfer to Mei (retry)", at)
    crm.log_activity("t-1:outcome", ann, "outcome", "Demo booked", at + timedelta(hours=1))

    history = crm.lookup(ann).history
    assert [(a.kind, a.text) for a in history] == [("outcome", "Demo booked"), ("transfer", "Warm transfer to Mei")]
    assert history[1].at == at and history[1].at.tzinfo is UTC


def test_log_activity_files_a_new_prospect_under_one_new_account(crm):
    newcomer = Prospect(name="Chen Wei", email="chen@gamma.example", company="Gamma", phone="+86 10 5555 0000")
    now = datetime.now(UTC)
    crm.log_activity("t-9:transfer", newcomer, "transfer", "first contact", now)
    crm.log_activity("t-9:outcome", newcomer, "outcome", "nurture", now)

    by_email = crm.lookup(Prospect(email="CHEN@gamma.example"))
    assert (by_email.company, by_email.contact_name, by_email.phone) == ("Gamma", "Chen Wei", "+86 10 5555 0000")
    assert len(by_email.history) == 2
    assert crm.lookup(Prospect(company="Gamma")).account_id == by_email.account_id


def test_log_activity_keeps_a_given_but_unknown_account_id(crm):
    crm.log_activity("k", Prospect(account_id="sf-0042", company="Delta"), "note", "hello", datetime.now(UTC))
    assert crm.lookup(Prospect(account_id="sf-0042")).company == "Delta"


def test_log_activity_files_nothing_for_a_prospect_with_nothing_to_file_it_under(crm):
    assert crm.log_activity("k", Prospect(name="Anonymous"), "note", "hello", datetime.now(UTC)) is False
    assert crm.lookup(Prospect(name="Anonymous")) is None
    assert crm.log_activity("k2", Prospect(name="Ann", company="Delta"), "note", "hello", datetime.now(UTC)) is True
