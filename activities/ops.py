"""Notices to ops and managers, who are party to no transfer: the watchdog's alerts and the daily digest.

They go through the notifier like a transfer's notices (the outbox, then the e-mail and Slack dispatchers), filed
under a name no transfer id can take (transfer ids have no '/'), so they never mix with a transfer's notices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from temporalio.exceptions import ApplicationError

from domain.notices import Notice
from integrations.notify.base import DeliveryError, Notifier


def ops_file(name: str) -> str:
    """The outbox's transfer id for the notices of `name` (watchdog, digest)."""
    return f"ops/{name}"


def emails(name: str, kind: str, key: str, addresses: Sequence[str], payload: dict) -> list[Notice]:
    """One e-mail notice per address, each keyed by `key` and its address, so a retry sends none twice."""
    return [Notice(transfer_id=ops_file(name), key=f"{key}:{_address_key(address)}", audience="ops", kind=kind,
                   payload=payload, email_to=address)
            for address in dict.fromkeys(addresses)]


def _address_key(address: str) -> str:
    """Stands for the address in the key: keys are logged, addresses are not."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def publish(notifier: Notifier, notices: list[Notice]) -> None:
    if not notices:
        return
    try:
        notifier.publish(notices)
    except DeliveryError as exc:
        raise ApplicationError(str(exc), type="DeliveryError") from exc
