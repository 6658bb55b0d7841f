"""Routing steps: plan who takes the transfer, place it (seat or queue), release it, reserve a named rep."""

from __future__ import annotations

from temporalio import activity

from activities.models import Placed, PlaceInput, Plan, PlanInput, Released, ReleaseInput, Reserved, ReserveInput
from domain.accounts import AccountProfile
from domain.context import Prospect
from domain.enrichment import enrich
from domain.eta import estimate_wait_seconds
from domain.hours import next_opening
from domain.placement import Placement
from domain.reps import RepState
from domain.routing import can_take_now, eligible, on_shift, rank
from domain.triggers import Policy
from domain.view import RepSummary
from integrations.crm.base import CRM, CrmUnavailable
from store.capacity import CapacityStore
from store.reps import RepStore


def release_place(reps: RepStore, capacity: CapacityStore, inp: ReleaseInput) -> Released:
    """Give up the transfer's seat and queue place (idempotent); a rep who let an offer lapse is set away."""
    if inp.mark_away and reps.exists(inp.mark_away):
        reps.set_presence(inp.mark_away, "away", inp.now)
    return Released(to_wake=capacity.release(inp.transfer_id, inp.now).to_wake(besides=inp.transfer_id))


def rep_summary(state: RepState) -> RepSummary:
    p = state.profile
    return RepSummary(id=p.id, name=p.name, title=p.title, expertise=p.expertise, locale=p.locale)


def _account_owner(candidates: list[RepState], account: AccountProfile | None) -> RepState | None:
    """The rep, among those who could take the transfer, whose e-mail is the CRM account owner's."""
    owner = (account.owner_email or "").strip().lower() if account else ""
    return next((rep for rep in candidates if owner and (rep.profile.email or "").lower() == owner), None)


class RoutingActivities:
    def __init__(
        self, reps: RepStore, capacity: CapacityStore, crm: CRM, avg_handle_seconds: int, trigger_policy: Policy
    ):
        self.reps, self.capacity, self.crm = reps, capacity, crm
        self.avg_handle_seconds = avg_handle_seconds
        self.trigger_policy = trigger_policy

    @activity.defn(name="plan")
    def plan(self, inp: PlanInput) -> Plan:
        now = inp.now
        account, crm_unavailable = self._account(inp.context.prospect)
        candidates = self.reps.list(inp.routing.team)
        owner = _account_owner(candidates, account) if inp.routing.preferred_rep_id is None else None
        routing = inp.routing.model_copy(update={"preferred_rep_id": owner.profile.id}) if owner else inp.routing
        ranked = rank(candidates, routing, now)
        enrichment = enrich(inp.context, account, self.trigger_policy, inp.locale)
        found = {"account": account, "enrichment": enrichment, "crm_unavailable": crm_unavailable,
                 "account_owner": rep_summary(owner) if owner else None}
        if not ranked:
            return Plan(**found)
        working = [s for s in ranked if on_shift(s, now)]
        best = (working or ranked)[0]
        opening = None if working else next_opening(best.profile.working_hours, best.profile.timezone, now)
        return Plan(
            best=rep_summary(best),
            alternatives=[rep_summary(s) for s in ranked if s is not best and can_take_now(s, now)][:3],
            on_shift=bool(working),
            next_opening=opening,
            best_timezone=best.profile.timezone,
            **found,
        )

    def _account(self, prospect: Prospect) -> tuple[AccountProfile | None, str | None]:
        """The prospect's CRM account, or why the CRM could not say: a transfer never waits on a broken CRM."""
        try:
            return self.crm.lookup(prospect), None
        except CrmUnavailable as err:
            activity.logger.warning("CRM unavailable, planning without it: %s", err)
            return None, str(err)

    @activity.defn(name="place")
    def place(self, inp: PlaceInput) -> Placed:
        """Seat or queue the transfer; placing again keeps its queue place and runs dispatch."""
        placement = self.capacity.place(inp.transfer_id, inp.routing, inp.now, inp.exclude)
        return self._described(placement)

    @activity.defn(name="release")
    def release(self, inp: ReleaseInput) -> Released:
        return release_place(self.reps, self.capacity, inp)

    @activity.defn(name="reserve")
    def reserve(self, inp: ReserveInput) -> Reserved:
        if not self.reps.exists(inp.rep_id):
            return Reserved(ok=False)
        if inp.routing is not None and not eligible(self.reps.get(inp.rep_id).profile, inp.routing):
            return Reserved(ok=False)  # a colleague who does not speak the prospect's language cannot take it
        ok = self.capacity.reserve(inp.transfer_id, inp.rep_id, inp.now)
        return Reserved(ok=ok, rep=rep_summary(self.reps.get(inp.rep_id)) if ok else None)

    def _described(self, placement: Placement) -> Placed:
        if placement.rep_id is not None:
            return Placed(placement=placement, rep=rep_summary(self.reps.get(placement.rep_id)))
        eta = estimate_wait_seconds(placement.position or 1, placement.seats_on_shift, self.avg_handle_seconds)
        return Placed(placement=placement, eta_seconds=eta)

    def all(self) -> list:
        return [self.plan, self.place, self.release, self.reserve]
