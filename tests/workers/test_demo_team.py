"""The demo team `up` seeds: only the reps who are missing, with working keys, and an after-hours rep who is never
on shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from config import Settings
from domain.hours import is_working, next_opening
from domain.reps import RepPatch, RepProfile
from workers.demo import ADMIN_KEY, AFTER_HOURS_REP, BOT_KEY, after_hours_shift, demo_team, rep_key, seed_demo
from workers.services import build_services

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a DST change in Europe, to be hard


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
def test_the_after_hours_shift_never_includes_now_and_opens_within_a_day(tz: str) -> None:
    for step in range(0, 8 * 24 * 60, 7):
        now = NOW + timedelta(minutes=step)
        shift = after_hours_shift(now, tz)
        assert not is_working(shift, tz, now), now
        assert timedelta(hours=3) < next_opening(shift, tz, now) - now <= timedelta(hours=24), now


def test_only_the_after_hours_rep_is_off_shift() -> None:
    for profile in demo_team(NOW):
        assert is_working(profile.working_hours, profile.timezone, NOW) == (profile.id != AFTER_HOURS_REP)


def test_seeding_twice_gives_one_team_and_working_keys(tmp_path: Path) -> None:
    services = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    first = seed_demo(services, NOW)
    assert seed_demo(services, NOW) == first
    reps = services.reps.list()
    assert sorted(s.profile.id for s in reps) == sorted(p.id for p in demo_team(NOW))
    assert all(s.presence == "available" for s in reps)
    assert services.keys.resolve(ADMIN_KEY).role == "admin"
    assert services.keys.resolve(BOT_KEY).role == "bot"
    sarah = services.keys.resolve(rep_key("sarah"))
    assert (sarah.role, sarah.rep_id) == ("rep", "sarah")
    assert {key for _, key in first} >= {ADMIN_KEY, BOT_KEY, rep_key("priya")}


def test_a_demo_key_an_admin_revoked_is_shown_revoked_not_offered(tmp_path: Path) -> None:
    services = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    seed_demo(services, NOW)
    [bot] = [row for row in services.keys.listed() if row.role == "bot"]
    services.keys.revoke(bot.id, NOW)
    shown = dict(seed_demo(services, NOW + timedelta(days=1)))  # `up` started again: the key stays revoked
    assert shown["bot"] == f"{BOT_KEY} (revoked)" and shown["admin"] == ADMIN_KEY
    assert services.keys.resolve(BOT_KEY) is None


def test_seeding_again_keeps_what_an_admin_changed_and_adds_only_missing_reps(tmp_path: Path) -> None:
    services = build_services(Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    seed_demo(services, NOW)
    services.reps.update("sarah", RepPatch(capacity=5, working_hours={"mon": [("09:00", "17:00")]}))
    services.reps.set_presence("alex", "offline", NOW)
    services.reps.create(RepProfile(id="newcomer", name="New Comer", team="smb"), "busy")
    with services.db.session() as session:  # a demo rep the admin removed from the directory
        session.exec(text("DELETE FROM reps WHERE id = 'priya'"))

    seed_demo(services, NOW + timedelta(days=1))  # `up` started again on the same data

    sarah = services.reps.get("sarah").profile
    assert sarah.capacity == 5 and sarah.working_hours == {"mon": [("09:00", "17:00")]}
    assert services.reps.get("alex").presence == "offline"
    assert services.reps.get("newcomer").presence == "busy"
    assert services.reps.get("priya").presence == "available"  # missing, so seeded again
    assert services.reps.get(AFTER_HOURS_REP).profile.working_hours == after_hours_shift(NOW, "Europe/Berlin")
