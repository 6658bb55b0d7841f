"""CRM interface: who is this prospect to us, and what happened with them before."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from domain.accounts import AccountProfile
from domain.context import Prospect


class CrmUnavailable(Exception):
    """The CRM could not be reached, took too long, or answered something that is not an answer: the transfer goes on
    without it, and says so."""


class CRM(ABC):
    @abstractmethod
    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        """The prospect's account, matched by account_id, then e-mail (any case), then phone digits,
        then exact company name; None if nothing matches."""

    @abstractmethod
    def upsert_account(
        self,
        account_id: str,
        *,
        company: str | None = None,
        contact_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> AccountProfile:
        """Create the account or update the fields given (None leaves a field as it is)."""

    @abstractmethod
    def log_activity(self, key: str, prospect: Prospect, kind: str, text: str, at: datetime) -> bool:
        """Record an activity on the prospect's account, creating the account if there is none.
        Idempotent on `key`: a repeat records nothing. False, and nothing recorded, if the prospect carries
        nothing to file it under (no account id, e-mail, company or phone): a bot may know only a first name."""
