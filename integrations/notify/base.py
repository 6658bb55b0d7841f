"""Notifier interface: a transfer publishes notices; adapters deliver them to bots, reps, prospects, ops."""

from __future__ import annotations

from abc import ABC, abstractmethod
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from domain.notices import Notice


class DeliveryError(Exception):
    """A notice could not be accepted or sent. `retryable=False` means the data is wrong: retrying won't help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Notifier(ABC):
    @abstractmethod
    def publish(self, notices: list[Notice]) -> list[int]:
        """Accept notices for delivery; returns their outbox ids in order.

        Idempotent on (transfer_id, key): publishing a key again returns the id it got the first time.
        Raises DeliveryError when a notice cannot be accepted.
        """


def ensure_deliverable(notices: list[Notice]) -> None:
    """Refuse, before anything is stored, notices that no retry could ever deliver."""
    for notice in notices:
        if notice.callback_url is not None:
            url = urlsplit(notice.callback_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise DeliveryError(f"{notice.key}: callback_url must be an http(s) URL", retryable=False)
        if notice.email_to is not None:
            _ensure_email(notice)
        if notice.chat_to is not None and not isinstance(notice.payload.get("chat_text"), str):
            raise DeliveryError(f"{notice.key}: a chat post needs a string payload 'chat_text'", retryable=False)


def _ensure_email(notice: Notice) -> None:
    try:
        validate_email(notice.email_to, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DeliveryError(f"{notice.key}: email_to is not a valid address", retryable=False) from exc
    subject, body = notice.payload.get("subject"), notice.payload.get("body")
    if not isinstance(subject, str) or not subject.strip() or not isinstance(body, str):
        raise DeliveryError(f"{notice.key}: an e-mail needs string payload 'subject' and 'body'", retryable=False)
    if not isinstance(notice.payload.get("html", ""), str):
        raise DeliveryError(f"{notice.key}: an e-mail's payload 'html' must be a string", retryable=False)
    if "\r" in subject or "\n" in subject:
        raise DeliveryError(f"{notice.key}: the e-mail subject must be one line", retryable=False)
