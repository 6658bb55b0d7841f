"""The rep console's brief of a transfer: the package and the bot from the workflow, the CRM account as it stands
now (the transfer's own notes included; or why the CRM could not be read), in the language the directory has for
the rep."""

from __future__ import annotations

from api.threads import blocking
from api.transfer_client import TransferClient
from domain.scripts.brief import TransferBrief, rep_brief
from domain.view import TransferView
from integrations.crm.base import CRM, CrmUnavailable
from store.errors import NotFound
from store.reps import RepStore


class Briefs:
    def __init__(self, transfers: TransferClient, crm: CRM, reps: RepStore):
        self.transfers, self.crm, self.reps = transfers, crm, reps

    async def of(self, view: TransferView) -> TransferBrief:
        facts = await self.transfers.brief_facts(view.transfer_id)
        account, unavailable = None, None
        try:
            account = await blocking(self.crm.lookup, facts.context.prospect)
        except CrmUnavailable as reason:  # the brief still reads, saying the CRM could not be reached
            unavailable = str(reason)
        locale = await blocking(self._locale, view.rep.id) if view.rep else "en"
        return rep_brief(view, facts, account, unavailable, locale)

    def _locale(self, rep_id: str) -> str:
        try:
            return self.reps.get(rep_id).profile.locale
        except NotFound:  # the rep left the directory: the brief still reads, in English
            return "en"
