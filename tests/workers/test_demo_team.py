"""The demo team `up` seeds: idempotent, with working keys, and an after-hours rep who is never on shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import Settings
from domain.hours import is_working, next_opening
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
