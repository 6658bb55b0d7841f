"""The embedded CRM: accounts and activities in the app database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlmodel import Session, select, update

from domain.accounts import AccountActivity, AccountProfile
from domain.context import Prospect
from integrations.crm.base import CRM
from store.crm import CrmAccount, CrmActivity, email_key, phone_key
from store.db import Database
from store.portable import insert_ignoring_conflicts


class BuiltinCRM(CRM):
    def __init__(self, db: Database, history_limit: int = 20):
        self.db = db
        self.history_limit = history_limit

    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        with self.db.read() as session:
            match = _match(session, prospect)
            return self._profile(session, *match) if match else None

    def upsert_account(
        self,
        account_id: str,
        *,
        company: str | None = None,
        contact_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> AccountProfile:
        values = _account_row(account_id, company=company, contact_name=contact_name, email=email, phone=phone)
        changes = {name: value for name, value in values.items() if value is not None and name != "created_at"}
        with self.db.session() as session:
            insert_ignoring_conflicts(session, CrmAccount.__table__, [values], ["account_id"])
            session.exec(update(CrmAccount).where(CrmAccount.account_id == account_id).values(changes))
            return self._profile(session, session.get(CrmAccount, account_id), "account_id")

    def log_activity(self, key: str, prospect: Prospect, kind: str, text: str, at: datetime) -> bool:
        with self.db.session() as session:
            match = _match(session, prospect)
            if match:
                account_id = match[0].account_id
            else:
                account_id = prospect.account_id or _derived_account_id(prospect)
                if account_id is None:
                    return False
                new_account = _account_row(
                    account_id,
                    company=prospect.company,
                    contact_name=prospect.name,
                    email=prospect.email,
                    phone=prospect.phone,
                )
                insert_ignoring_conflicts(session, CrmAccount.__table__, [new_account], ["account_id"])
            insert_ignoring_conflicts(
                session,
                CrmActivity.__table__,
                [{"key": key, "account_id": account_id, "at": at, "kind": kind, "text": text}],
                ["key"],
            )
        return True

    def _profile(self, session: Session, account: CrmAccount, matched_by: str) -> AccountProfile:
        activities = session.exec(
            select(CrmActivity)
            .where(CrmActivity.account_id == account.account_id)
            .order_by(CrmActivity.at.desc(), CrmActivity.id.desc())
            .limit(self.history_limit)
        )
        return AccountProfile(
            account_id=account.account_id,
            company=account.company,
            contact_name=account.contact_name,
            email=account.email,
            phone=account.phone,
            matched_by=matched_by,
            history=[AccountActivity(at=a.at, kind=a.kind, text=a.text) for a in activities],
        )


def _match(session: Session, prospect: Prospect) -> tuple[CrmAccount, str] | None:
    """The first account found by account_id, e-mail, phone digits, company: the most specific wins."""
    for matched_by, column, value in (
        ("account_id", CrmAccount.account_id, prospect.account_id),
        ("email", CrmAccount.email_key, email_key(prospect.email)),
        ("phone", CrmAccount.phone_key, phone_key(prospect.phone)),
        ("company", CrmAccount.company, prospect.company),
    ):
        if value:
            # Several accounts may share an e-mail or a company: take the one touched last.
            query = select(CrmAccount).where(column == value).order_by(CrmAccount.updated_at.desc()).limit(1)
            account = session.exec(query).first()
            if account:
                return account, matched_by
    return None


def _account_row(
    account_id: str, *, company: str | None, contact_name: str | None, email: str | None, phone: str | None
) -> dict:
    now = datetime.now(UTC)
    return {
        "account_id": account_id,
        "company": company,
        "contact_name": contact_name,
        "email": email,
        "phone": phone,
        "email_key": email_key(email),
        "phone_key": phone_key(phone),
        "created_at": now,
        "updated_at": now,
    }


def _derived_account_id(prospect: Prospect) -> str | None:
    """The same prospect always yields the same id, so a retried or concurrent first write creates one account;
    None if nothing identifies them."""
    identity = email_key(prospect.email) or prospect.company or phone_key(prospect.phone)
    return "wt-" + hashlib.sha256(identity.encode()).hexdigest()[:16] if identity else None
