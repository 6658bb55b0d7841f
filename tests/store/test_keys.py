"""API keys and calendar tokens: issued once, resolved by hash, never stored in the clear."""

from __future__ import annotations

from sqlmodel import select

from store.db import Database
from store.keys import CalendarTokenStore, KeyStore, Principal, hash_key
from store.tables import ApiKeyRow, CalendarTokenRow
from tests.store.support import NOW


def stored_keys(db: Database) -> list[ApiKeyRow]:
    with db.session() as session:
        return list(session.exec(select(ApiKeyRow)).all())


def test_an_issued_key_resolves_to_its_role_and_rep(db: Database) -> None:
    keys = KeyStore(db)
    key = keys.issue("rep", "ana", NOW)

    (row,) = stored_keys(db)
    assert keys.resolve(key) == Principal(role="rep", rep_id="ana", key_prefix=key[:12], key_id=row.id)
    admin = keys.resolve(keys.issue("admin", None, NOW))
    assert admin.role == "admin" and admin.key_id != row.id  # each key is told apart: transfers record it


def test_an_unknown_or_revoked_key_resolves_to_nobody(db: Database) -> None:
    keys = KeyStore(db)
    key = keys.issue("bot", None, NOW)
    assert keys.resolve(key + "x") is None
    assert keys.resolve("") is None

    with db.session() as session:
        row = session.exec(select(ApiKeyRow)).one()
        row.revoked_at = NOW
        session.add(row)
    assert keys.resolve(key) is None


def test_only_a_hash_of_the_key_is_stored(db: Database) -> None:
    key = KeyStore(db).issue("admin", None, NOW)

    (row,) = stored_keys(db)
    assert row.key_hash == hash_key(key)
    assert not any(key in str(value) for value in row.model_dump().values())


def test_registering_the_same_key_again_changes_nothing(db: Database) -> None:
    keys = KeyStore(db)
    keys.register("wt_demo_admin_key", "admin", None, NOW)
    keys.register("wt_demo_admin_key", "bot", None, NOW)

    assert [row.role for row in stored_keys(db)] == ["admin"]
    assert keys.resolve("wt_demo_admin_key").role == "admin"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def revoke_all(db: Database) -> None:
    with db.session() as session:
        for row in session.exec(select(ApiKeyRow)).all():
            row.revoked_at = NOW
            session.add(row)


def test_a_resolved_key_is_remembered_for_a_while_then_read_again(db: Database) -> None:
    clock = Clock()
    keys = KeyStore(db, remember_seconds=30, clock=clock)
    key = keys.issue("bot", None, NOW)
    assert keys.remembered(key) is None  # never resolved yet

    principal = keys.resolve(key)
    revoke_all(db)
    clock.now = 29.9
    assert keys.remembered(key) == principal
    clock.now = 30.0
    assert keys.remembered(key) is None
    assert keys.resolve(key) is None
    assert keys.remembered(key) is None


def test_an_unknown_key_is_never_remembered(db: Database) -> None:
    keys = KeyStore(db)
    assert keys.resolve("wt_bot_nobody") is None
    assert keys.remembered("wt_bot_nobody") is None


def test_a_calendar_token_reads_its_reps_feed_until_revoked_or_replaced(db: Database) -> None:
    tokens = CalendarTokenStore(db)
    first = tokens.issue("ana", NOW)
    assert first.startswith("wt_cal_") and tokens.rep_for(first) == "ana"
    assert tokens.rep_for(first + "x") is None and tokens.rep_for("") is None

    second = tokens.issue("ana", NOW)  # a new feed URL replaces the old one
    assert tokens.rep_for(first) is None and tokens.rep_for(second) == "ana"
    other = tokens.issue("ben", NOW)
    assert tokens.revoke("ana", NOW) is True and tokens.revoke("ana", NOW) is False  # nothing left to revoke
    assert tokens.rep_for(second) is None and tokens.rep_for(other) == "ben"


def test_only_a_hash_of_a_calendar_token_is_stored(db: Database) -> None:
    token = CalendarTokenStore(db).issue("ana", NOW)

    with db.session() as session:
        (row,) = session.exec(select(CalendarTokenRow)).all()
    assert row.token_hash == hash_key(token)
    assert not any(token in str(value) for value in row.model_dump().values())
