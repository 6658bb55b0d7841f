"""The rep directory: create, patch, presence, teams and the live load."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.reps import RepPatch, RepProfile
from store.capacity import CapacityStore
from store.errors import Conflict, NotFound
from store.reps import RepStore
from tests.store.support import NOW, profile


def test_create_returns_the_new_rep_and_a_second_create_conflicts(reps: RepStore) -> None:
    created = reps.create(profile("ana", team="enterprise", capacity=3), presence="available")
    assert (created.profile.team, created.profile.capacity, created.presence, created.active) == \
        ("enterprise", 3, "available", 0)

    with pytest.raises(Conflict):
        reps.create(profile("ana", team="smb"))
    assert reps.get("ana").profile.team == "enterprise"


def test_update_merges_the_patch_and_moves_the_rep_to_its_new_team(reps: RepStore) -> None:
    reps.create(profile("ana", team="enterprise", skills=["pricing"]))

    updated = reps.update("ana", RepPatch(team="smb", title="AE"))

    assert (updated.profile.team, updated.profile.title, updated.profile.skills) == ("smb", "AE", ["pricing"])
    assert [s.profile.id for s in reps.list("smb")] == ["ana"]
    assert reps.list("enterprise") == []


def test_a_team_found_with_reps_is_trusted_a_while_and_one_emptied_here_is_not(db) -> None:
    now = [0.0]
    here, elsewhere = RepStore(db, clock=lambda: now[0]), RepStore(db)  # two processes on one database
    elsewhere.create(profile("ana", team="enterprise"))
    assert not here.team_seen("enterprise") and here.has_team("enterprise") and here.team_seen("enterprise")
    assert not here.has_team("enterpirse")

    elsewhere.update("ana", RepPatch(team="smb"))  # another process empties the team
    assert here.team_seen("enterprise")  # trusted a while, without a database read ...
    now[0] += RepStore.TEAM_TRUSTED_SECONDS
    assert not here.team_seen("enterprise") and not here.has_team("enterprise")  # ... then asked again

    assert here.has_team("smb")
    here.update("ana", RepPatch(team="enterprise"))  # emptied through this process: at once
    assert not here.team_seen("smb") and not here.has_team("smb")


# RepPatch refuses these itself (the API answers 422); the store does not count on it.
@pytest.mark.parametrize("patch", [RepPatch.model_construct(name=None), RepPatch.model_construct(languages=None)],
                         ids=["no name", "no language"])
def test_a_patch_whose_merged_profile_is_invalid_changes_nothing(reps: RepStore, patch: RepPatch) -> None:
    before = reps.create(profile("ana"))

    with pytest.raises(ValidationError):
        reps.update("ana", patch)
    assert reps.get("ana") == before


def test_presence_is_stored_and_an_unknown_rep_is_not_found(reps: RepStore) -> None:
    reps.create(profile("ana"))

    assert reps.set_presence("ana", "busy", NOW).presence == "busy"
    assert reps.get("ana").presence == "busy"
    with pytest.raises(NotFound):
        reps.set_presence("nobody", "available", NOW)
    with pytest.raises(NotFound):
        reps.update("nobody", RepPatch(title="AE"))
    with pytest.raises(NotFound):
        reps.get("nobody")
    assert (reps.exists("ana"), reps.exists("nobody")) == (True, False)


def test_list_filters_by_team_and_orders_by_id(reps: RepStore) -> None:
    for rep_id, team in [("cy", "smb"), ("ana", "smb"), ("bo", "enterprise")]:
        reps.create(profile(rep_id, team=team))

    assert [s.profile.id for s in reps.list("smb")] == ["ana", "cy"]
    assert [s.profile.id for s in reps.list()] == ["ana", "bo", "cy"]


def test_load_counts_the_seats_each_rep_holds(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", capacity=3), presence="available")
    reps.create(profile("bo", capacity=3), presence="available")
    for transfer_id in ("t1", "t2"):
        assert capacity.reserve(transfer_id, "ana", NOW)

    assert {s.profile.id: s.active for s in reps.list()} == {"ana": 2, "bo": 0}
    assert reps.get("ana").last_assigned_at == NOW
    capacity.release("t1", NOW)
    assert reps.get("ana").active == 1


def test_anyone_can_take_now_only_when_a_rep_is_available_on_shift_with_a_free_seat(reps: RepStore) -> None:
    assert not reps.anyone_can_take_now(NOW)
    reps.create(profile("ana"), presence="away")
    assert not reps.anyone_can_take_now(NOW)
    reps.set_presence("ana", "available", NOW)
    assert reps.anyone_can_take_now(NOW)


def test_a_slack_member_id_leads_to_one_rep(reps: RepStore) -> None:
    reps.create(profile("ana", slack_user_id="U0ANA"))
    reps.create(profile("ben"))
    assert reps.by_slack_user("U0ANA").profile.id == "ana"
    assert reps.by_slack_user("U0BEN") is None

    with pytest.raises(Conflict):
        reps.update("ben", RepPatch(slack_user_id="U0ANA"))
    with pytest.raises(Conflict):
        reps.create(profile("cy", slack_user_id="U0ANA"))
    reps.update("ana", RepPatch.model_validate({"slack_user_id": None}))
    assert reps.update("ben", RepPatch(slack_user_id="U0ANA")).profile.slack_user_id == "U0ANA"
    assert reps.by_slack_user("U0ANA").profile.id == "ben"


def test_the_colleagues_an_offer_can_be_deferred_to_can_take_one_now(reps: RepStore) -> None:
    for rep_id, team, presence in (("ana", "enterprise", "available"), ("ben", "enterprise", "available"),
                                   ("cy", "enterprise", "busy"), ("dee", "smb", "available")):
        reps.create(profile(rep_id, team=team), presence=presence)
    reps.create(RepProfile(id="eve", name="Eve", team="enterprise", working_hours={}), presence="available")  # no hours
    assert [state.profile.id for state in reps.free_colleagues("ana", NOW)] == ["ben"]
