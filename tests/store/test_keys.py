"""API keys and calendar tokens: issued once, resolved by hash, never stored in the clear."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import select

from store.db import Database
from store.keys import CalendarTokenStore, KeyStore, LastAdminKey, Principal, hash_key
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


OLD, NEW = "wt-admin-key-from-the-setting-before-0001", "wt-admin-key-from-the-setting-now-000002"


def test_the_setting_stands_for_one_admin_key_and_a_new_value_revokes_the_old(db: Database) -> None:
    keys = KeyStore(db)
    first = keys.stand_for("WT_ADMIN_KEY", OLD, NOW)
    assert first.usable and first.revoked_others == 0 and keys.resolve(OLD).key_id == first.key_id
    issued = keys.issue("admin", None, NOW)  # another admin key, issued through the API: not the setting's
    keys.register("wt_admin_demo", "admin", None, NOW)  # nor a demo key

    later = keys.stand_for("WT_ADMIN_KEY", NEW, NOW + timedelta(days=1))  # the setting changed, the API restarted
    assert later.usable and later.revoked_others == 1
    assert keys.resolve(OLD) is None and keys.resolve(NEW).role == "admin"
    assert keys.resolve(issued).role == "admin" and keys.resolve("wt_admin_demo").role == "admin"
    again = keys.stand_for("WT_ADMIN_KEY", NEW, NOW + timedelta(days=2))  # every restart with the same value
    assert again == later.model_copy(update={"revoked_others": 0})
    assert sorted((row.prefix, row.revoked_at is not None) for row in stored_keys(db) if row.setting) == [
        (NEW[:12], False), (OLD[:12], True)]


def test_a_setting_key_registered_before_keys_were_marked_is_marked_then_revoked_when_it_changes(db: Database):
    keys = KeyStore(db)
    keys.register(OLD, "admin", None, NOW)  # what the lifespan did before
    assert keys.stand_for("WT_ADMIN_KEY", OLD, NOW).revoked_others == 0
    assert keys.stand_for("WT_ADMIN_KEY", NEW, NOW).revoked_others == 1 and keys.resolve(OLD) is None


def test_a_revoked_setting_key_stays_revoked_when_the_api_starts_again(db: Database) -> None:
    keys = KeyStore(db)
    stood = keys.stand_for("WT_ADMIN_KEY", OLD, NOW)
    keys.issue("admin", None, NOW)
    keys.revoke(stood.key_id, NOW)
    again = keys.stand_for("WT_ADMIN_KEY", OLD, NOW)
    assert not again.usable and again.key_id == stood.key_id and keys.resolve(OLD) is None


def test_processes_starting_at_once_with_the_same_value_leave_it_working(db: Database) -> None:
    keys = KeyStore(db)
    keys.stand_for("WT_ADMIN_KEY", OLD, NOW)
    with ThreadPoolExecutor(8) as pool:
        stood = list(pool.map(lambda _: KeyStore(db).stand_for("WT_ADMIN_KEY", NEW, NOW), range(8)))
    assert all(each.usable for each in stood) and len({each.key_id for each in stood}) == 1
    assert sum(each.revoked_others for each in stood) == 1
    assert keys.resolve(NEW).role == "admin" and keys.resolve(OLD) is None
    assert len(stored_keys(db)) == 2


def test_a_revoked_key_stops_working_at_once_in_this_process(db: Database) -> None:
    keys = KeyStore(db, remember_seconds=30, clock=Clock())
    bot = keys.issue("bot", None, NOW)
    principal = keys.resolve(bot)
    assert keys.remembered(bot) == principal
    revoked = keys.revoke(principal.key_id, NOW)
    assert revoked.revoked_at == NOW and keys.remembered(bot) is None and keys.resolve(bot) is None
    assert keys.revoke(principal.key_id, NOW + timedelta(hours=1)).revoked_at == NOW  # again: nothing changes
    assert keys.revoke(principal.key_id + 1000, NOW) is None


def test_the_last_admin_key_cannot_be_revoked(db: Database) -> None:
    keys = KeyStore(db)
    first, second = keys.issue("admin", None, NOW), keys.issue("admin", None, NOW)
    keys.issue("bot", None, NOW)
    keys.revoke(keys.resolve(first).key_id, NOW)
    with pytest.raises(LastAdminKey):
        keys.revoke(keys.resolve(second).key_id, NOW)
    assert keys.resolve(second).role == "admin"


def test_two_admins_revoking_the_last_two_admin_keys_at_once_leave_one(db: Database) -> None:
    keys = KeyStore(db)
    ids = [keys.resolve(keys.issue("admin", None, NOW)).key_id for _ in range(2)]

    def revoke(key_id: int) -> bool:
        try:
            return KeyStore(db).revoke(key_id, NOW) is not None
        except LastAdminKey:
            return False

    for _ in range(5):
        with ThreadPoolExecutor(2) as pool:
            assert sorted(pool.map(revoke, ids)) == [False, True]
        assert sum(row.revoked_at is None for row in stored_keys(db) if row.role == "admin") == 1
        ids = [row.id for row in stored_keys(db) if row.role == "admin" and row.revoked_at is None]
        ids.append(keys.resolve(keys.issue("admin", None, NOW)).key_id)


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
