"""The brief the rep console shows for one transfer: everything a rep needs, in the rep's language."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.accounts import AccountProfile
from domain.context import ContextPackage
from domain.lifecycle import Status
from domain.scripts.render import first_name
from domain.scripts.rep import RepAlert, checklist, opener, quick_summary, rep_alert, talking_points, things_to_avoid
from domain.view import BriefFacts, TransferView


class TransferBrief(BaseModel):
    """Everything the console shows a rep about one transfer, in the rep's language; prospect data as written."""

    transfer_id: str
    status: Status
    locale: str
    offer_expires_at: datetime | None
    alert: RepAlert
    summary: str
    talking_points: list[str]
    avoid: list[str]
    next_steps: list[str]
    opener: str
    checklist: list[str]
    still_unknown: list[str]
    context: ContextPackage
    account: AccountProfile | None
    crm_unavailable: str | None = None  # the CRM could not be read: why (the account is then unknown, not absent)


def rep_brief(view: TransferView, facts: BriefFacts, account: AccountProfile | None, crm_unavailable: str | None,
              locale: str) -> TransferBrief:
    context = facts.context
    points = checklist(context, locale)
    return TransferBrief(
        transfer_id=view.transfer_id,
        status=view.status,
        locale=locale,
        offer_expires_at=view.offer_expires_at,
        alert=rep_alert(context, locale),
        summary=quick_summary(context, locale),
        # An approach we derived is made of the points, things to avoid and next step shown beside it (and was
        # written in the prospect's language): only the bot's own is a talking point.
        talking_points=talking_points(
            context.model_copy(update={"recommended_approach": None}) if facts.approach_derived else context, locale),
        avoid=things_to_avoid(context, locale),
        next_steps=points[-1:],  # the checklist ends with the next step
        # Said to the prospect, so in their language, whatever the rep reads the rest in.
        opener=opener(context, first_name(view.rep.name if view.rep else None), facts.bot_name,
                      facts.prospect_locale or locale),
        checklist=points,
        still_unknown=view.collect,
        context=context,
        account=account,
        crm_unavailable=crm_unavailable,
    )
