"""E-mail for notices with `email_to` (prospect confirmations, rep alerts, ops alerts, the managers' digest) over
SMTP: plain text, and with an HTML version when the notice carries one (payload `html`)."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from integrations.notify.base import DeliveryError
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ):
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout

    def message_id(self, unique: str) -> str:
        """A Message-ID that is the same on every resend of one notice, so mail systems can drop repeats."""
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "warm-transfer.invalid"
        return f"<wt-{hashlib.sha256(unique.encode()).hexdigest()[:32]}@{domain}>"

    def send(self, to: str, subject: str, body: str, *, message_id: str, date: datetime,
             html: str | None = None) -> None:
        """`body` as plain text; with `html`, both as alternatives of one message (multipart/alternative)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message["Date"] = format_datetime(date)
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:  # the server's answer may quote the address: keep its code only
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__} {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            refused = isinstance(exc, smtplib.SMTPRecipientsRefused)  # its text lists the addresses
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}"
                                + ("" if refused else f": {exc}")) from exc


class EmailDispatcher(OutboxDispatcher):
    channel = "email"

    def __init__(
        self,
        db: Database,
        mailer: SmtpMailer,
        max_attempts: int = 8,
        *,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 4,
    ):
        super().__init__(db, max_attempts=max_attempts, batch_size=batch_size, lease=lease, concurrency=concurrency)
        self.mailer = mailer

    def send(self, delivery: PendingDelivery, now: datetime) -> None:
        row = delivery.row
        self.mailer.send(
            delivery.email_to,
            row.payload["subject"],
            row.payload["body"],
            message_id=self.mailer.message_id(f"{row.transfer_id}\n{row.key}"),
            date=row.created_at,
            html=row.payload.get("html"),
        )
