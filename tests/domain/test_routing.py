from datetime import UTC, datetime, timedelta

from domain.reps import RepProfile, RepState
from domain.requests import Routing
from domain.routing import can_take_now, eligible, on_shift, rank, rank_reasons

MONDAY_NOON = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2024, 1, 20, 12, 0, tzinfo=UTC)


def rep(rep_id: str, *, presence="available", active=0, capacity=1, last=None, **profile) -> RepState:
    profile.setdefault("name", rep_id.title())
    return RepState(
        profile=RepProfile(id=rep_id, capacity=capacity, **profile),
        presence=presence,
        active=active,
        last_assigned_at=last,
    )


def ids(states) -> list[str]:
    return [s.profile.id for s in states]


def test_eligible_requires_team_and_language_only_when_asked():
    profile = RepProfile(id="a", name="A", team="enterprise", languages=["en", "zh"], skills=["sso"])
    assert eligible(profile, Routing())
    assert eligible(profile, Routing(team="enterprise", language="zh"))
    assert not eligible(profile, Routing(team="smb"))
    assert not eligible(profile, Routing(language="de"))
    assert eligible(profile, Routing(skills=["salesforce"]))  # skills are preferences


def test_on_shift_needs_hours_and_presence():
    assert on_shift(rep("a", presence="busy"), MONDAY_NOON)
    assert not on_shift(rep("a", presence="offline"), MONDAY_NOON)
    assert not on_shift(rep("a"), SATURDAY_NOON)
    assert not on_shift(rep("a", timezone="Asia/Shanghai"), MONDAY_NOON)  # 20:00 in Shanghai


def test_can_take_now_needs_available_presence_and_a_free_seat():
    assert can_take_now(rep("a"), MONDAY_NOON)
    assert not can_take_now(rep("a", presence="busy"), MONDAY_NOON)
    assert not can_take_now(rep("a", active=1, capacity=1), MONDAY_NOON)
    assert can_take_now(rep("a", active=1, capacity=2), MONDAY_NOON)
    assert not can_take_now(rep("a"), SATURDAY_NOON)


def test_preferred_rep_comes_first_even_when_busy():
    states = [rep("a"), rep("b", presence="busy"), rep("c")]
    assert ids(rank(states, Routing(preferred_rep_id="b"), MONDAY_NOON)) == ["b", "a", "c"]


def test_skills_never_outweigh_preference_or_availability():
    skilled = {"skills": ["salesforce", "sso", "api"]}
    states = [
        rep("busy_expert", presence="busy", **skilled),
        rep("free_novice"),
        rep("preferred"),
        rep("expert", **skilled),
    ]
    routing = Routing(preferred_rep_id="preferred", skills=["salesforce", "sso", "api"])
    assert ids(rank(states, routing, MONDAY_NOON)) == ["preferred", "expert", "free_novice", "busy_expert"]


def test_reps_who_can_take_it_now_come_before_those_who_cannot():
    states = [rep("a", presence="busy", skills=["sso"]), rep("b", active=1), rep("c")]
    assert ids(rank(states, Routing(skills=["sso"]), MONDAY_NOON)) == ["c", "a", "b"]


def test_language_and_team_filter():
    states = [rep("a", languages=["en"]), rep("b", languages=["en", "zh"]), rep("c", languages=["zh"], team="smb")]
    assert ids(rank(states, Routing(language="zh"), MONDAY_NOON)) == ["b", "c"]
    assert ids(rank(states, Routing(language="zh", team="sales"), MONDAY_NOON)) == ["b"]


def test_more_matching_skills_first():
    states = [rep("a", skills=["sso"]), rep("b", skills=["sso", "salesforce"]), rep("c")]
    assert ids(rank(states, Routing(skills=["salesforce", "sso"]), MONDAY_NOON)) == ["b", "a", "c"]


def test_least_loaded_relative_to_capacity():
    states = [rep("a", active=2, capacity=3), rep("b", active=1, capacity=4), rep("c", active=1, capacity=2)]
    assert ids(rank(states, Routing(), MONDAY_NOON)) == ["b", "c", "a"]


def test_longest_idle_first_and_never_assigned_most_idle():
    earlier = MONDAY_NOON - timedelta(hours=3)
    states = [
        rep("a", last=MONDAY_NOON - timedelta(minutes=5)),
        rep("b", last=earlier),
        rep("c"),
        rep("d", last=earlier.replace(tzinfo=None) + timedelta(minutes=1)),  # naive is read as UTC
    ]
    assert ids(rank(states, Routing(), MONDAY_NOON)) == ["c", "b", "d", "a"]


def test_id_breaks_ties_deterministically():
    states = [rep("c"), rep("a"), rep("b")]
    assert ids(rank(states, Routing(), MONDAY_NOON)) == ["a", "b", "c"]


def test_exclude_removes_reps_even_the_preferred_one():
    states = [rep("a"), rep("b"), rep("c")]
    ranked = rank(states, Routing(preferred_rep_id="a"), MONDAY_NOON, exclude={"a", "c"})
    assert ids(ranked) == ["b"]


def test_capacity_full_rep_ranks_after_free_ones_but_is_kept():
    states = [rep("full", active=3, capacity=3), rep("free", active=2, capacity=3)]
    assert ids(rank(states, Routing(), MONDAY_NOON)) == ["free", "full"]


def test_empty_pool():
    assert rank([], Routing(), MONDAY_NOON) == []


def test_rank_reasons():
    state = rep("a", languages=["en", "zh"], skills=["salesforce", "sso"], team="enterprise", capacity=3, active=1)
    routing = Routing(preferred_rep_id="a", team="enterprise", language="zh", skills=["salesforce"])
    assert rank_reasons(state, routing, MONDAY_NOON) == [
        "preferred rep",
        "available now",
        "team: enterprise",
        "speaks zh",
        "skills: salesforce",
        "load 1/3",
        "never assigned",
    ]
    busy = rep("b", presence="busy", last=MONDAY_NOON - timedelta(minutes=42))
    assert rank_reasons(busy, Routing(), MONDAY_NOON) == ["on shift, busy", "load 0/1", "idle 42 min"]
    assert rank_reasons(rep("c"), Routing(), SATURDAY_NOON)[0] == "off shift"
