"""A prospect's account as a CRM knows it: what enrichment reads and the rep sees beside the context package."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class AccountActivity(BaseModel):
    at: datetime
    kind: str
    text: str


class AccountProfile(BaseModel):
    account_id: str
    company: str | None
    contact_name: str | None
    email: str | None
    phone: str | None
    matched_by: Literal["account_id", "email", "phone", "company"]
    history: list[AccountActivity]  # newest first
    owner_email: str | None = None  # who owns the account in the CRM: the rep with this e-mail is preferred
