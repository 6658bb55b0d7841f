"""E-mail for notices with `email_to` (prospect confirmations, rep alerts, ops alerts, the managers' digest) over
SMTP: the text, as HTML (the notice's own `html`, or the text made HTML), and a callback's invitation (text/calendar,
METHOD:REQUEST) as alternatives of one message.

Names reach headers only as the display name of an address, through `email.headerregistry`: flattened to one line
first, then quoted or encoded by the library, so no name can start a header of its own."""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import smtplib
import socket
import ssl
import threading
import time
import unicodedata
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from integrations.notify.base import DeliveryError
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery

_LINK = re.compile(r"https?://[^\s<>\"']+")


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
        """`timeout`: seconds a whole session may take, from connecting to the server's last reply."""
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

    def send(self, to: str, subject: str, body: str, *, message_id: str, date: datetime, to_name: str | None = None,
             calendar: str | None = None, html: str | None = None) -> None:
        """`to_name`: whom `to` belongs to, as the To header names them; `calendar`: an iTIP REQUEST to carry;
        `html`: the body's own HTML version (else the text is made HTML)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = Address(display_name=one_line(to_name or ""), addr_spec=to)
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message["Date"] = format_datetime(date)
        message.set_content(body)
        message.add_alternative(as_html(body) if html is None else html, subtype="html")
        if calendar is not None:
            message.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
        try:
            self._session(message)
        except smtplib.SMTPResponseException as exc:  # the server's answer may quote the address: keep its code only
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__} {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            refused = isinstance(exc, smtplib.SMTPRecipientsRefused)  # its text lists the addresses
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}"
                                + ("" if refused else f": {exc}")) from exc

    def _session(self, message: EmailMessage) -> None:
        """Send `message` in one session that ends within `timeout`, whatever the server does. smtplib gives each read
        the whole socket timeout, and reads a reply of many lines (`220-...`) in a loop of reads, so a server sending a
        line every few seconds would hold the session for ever. A timer shuts the connection down at the deadline
        instead, which ends whatever read or write is waiting. The connection is made here, so the timer has it before
        the greeting is read, and the timer has a duplicate of the socket, which STARTTLS does not replace (a shutdown
        acts on the connection, whichever of its sockets it is called on)."""
        deadline = time.monotonic() + self.timeout
        with socket.create_connection((self.host, self.port), self.timeout) as connection, connection.dup() as cut:
            over = threading.Event()
            watchdog = threading.Timer(deadline - time.monotonic(), _shut_down, (cut, over))
            watchdog.start()
            try:
                with _Session(connection, self.host, self.port, self.timeout) as smtp:
                    if self.starttls:
                        smtp.starttls(context=ssl.create_default_context())
                    if self.username:
                        smtp.login(self.username, self.password or "")
                    smtp.send_message(message)
            except (smtplib.SMTPException, OSError):
                if over.is_set():
                    raise TimeoutError(f"the session took longer than {self.timeout:g} s") from None
                raise
            finally:
                watchdog.cancel()
                watchdog.join()  # so it never acts on the duplicate once that is closed


class _Session(smtplib.SMTP):
    """smtplib.SMTP over a connection already made (it still reads the server's greeting)."""

    def __init__(self, connection: socket.socket, host: str, port: int, timeout: float):
        self._connection = connection
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self._connection


def _shut_down(connection: socket.socket, over: threading.Event) -> None:
    over.set()
    with contextlib.suppress(OSError):  # already closed
        connection.shutdown(socket.SHUT_RDWR)


def one_line(text: str) -> str:
    """Text fit for a header: its control characters (CR and LF included) gone, its runs of blanks one space."""
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).split())


def as_html(body: str) -> str:
    """The plain-text body as HTML: escaped, blank-line paragraphs, line breaks kept, web addresses linked."""
    paragraphs = [
        "<br>\n".join(_LINK.sub(r'<a href="\g<0>">\g<0></a>', html.escape(line)) for line in block.split("\n"))
        for block in body.strip().split("\n\n")]
    return "<!DOCTYPE html>\n<html><body>\n" + "".join(f"<p>{p}</p>\n" for p in paragraphs) + "</body></html>\n"


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
            to_name=row.payload.get("to_name"),
            calendar=row.payload.get("calendar"),
            html=row.payload.get("html"),
        )
