"""Tables of the built-in CRM: accounts and their activity history."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from store.portable import BigId, UtcDateTime


class CrmAccount(SQLModel, table=True):
    __tablename__ = "crm_account"

    account_id: str = Field(primary_key=True)
    company: str | None = Field(default=None, index=True)
    contact_name: str | None = None
    email: str | None = None
    phone: str | None = None
    # Match keys kept beside the values as entered, so lookups are plain indexed equality.
    email_key: str | None = Field(default=None, index=True)
    phone_key: str | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class CrmActivity(SQLModel, table=True):
    __tablename__ = "crm_activity"
    __table_args__ = (Index("ix_crm_activity_account_at", "account_id", "at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    key: str = Field(unique=True)
    account_id: str = Field(foreign_key="crm_account.account_id")
    at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    kind: str
    text: str = Field(sa_type=Text)


def email_key(email: str | None) -> str | None:
    return (email.strip().lower() or None) if email else None


def phone_key(phone: str | None) -> str | None:
    """Digits only: "+1 (415) 555-0100" and "+1.415.555.0100" are the same phone."""
    return (re.sub(r"\D", "", phone) or None) if phone else None
