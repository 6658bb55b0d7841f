"""Any CRM, bounded: a call that fails, takes longer than its timeout or answers nonsense raises CrmUnavailable, so
a CRM that is down, slow or broken can delay a transfer by at most the timeout, never stop it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CallTimedOut
from datetime import datetime
from typing import Any, TypeVar

from domain.accounts import AccountProfile
from domain.context import Prospect
from integrations.crm.base import CRM, CrmUnavailable

T = TypeVar("T")
# Calls that outlive their timeout keep their thread until they end; this many may hang before new calls wait too.
CALL_THREADS = 8


class GuardedCRM(CRM):
    def __init__(self, crm: CRM, timeout: float):
        self.crm, self.timeout = crm, timeout
        self._calls = ThreadPoolExecutor(CALL_THREADS, thread_name_prefix="crm")

    def lookup(self, prospect: Prospect) -> AccountProfile | None:
        return self._bounded("lookup", lambda: self.crm.lookup(prospect), (AccountProfile, type(None)))

    def upsert_account(self, account_id: str, **fields: Any) -> AccountProfile:
        return self._bounded("upsert_account", lambda: self.crm.upsert_account(account_id, **fields), (AccountProfile,))

    def log_activity(self, key: str, prospect: Prospect, kind: str, text: str, at: datetime) -> bool:
        return self._bounded("log_activity", lambda: self.crm.log_activity(key, prospect, kind, text, at), (bool,))

    def _bounded(self, name: str, call: Callable[[], T], answers: tuple[type, ...]) -> T:
        try:
            answer = self._calls.submit(call).result(timeout=self.timeout)
        except CallTimedOut:
            raise CrmUnavailable(f"no answer to {name} within {self.timeout:g} s") from None
        except CrmUnavailable as err:  # the adapter said why, in words fit for the timeline
            raise CrmUnavailable(f"{name} failed: {err}") from err
        except Exception as err:  # whatever the adapter raises, the transfer must go on
            # The error's class, not its text: an adapter's message can quote the prospect it looked for.
            raise CrmUnavailable(f"{name} failed: {type(err).__name__}") from err
        if not isinstance(answer, answers):
            raise CrmUnavailable(f"{name} answered nonsense ({type(answer).__name__})")
        return answer
