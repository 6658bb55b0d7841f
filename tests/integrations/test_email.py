from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.notices import Notice
from integrations.notify.base import DeliveryError
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.email import EmailDispatcher, SmtpMailer, as_html
from tests.conftest import Inbox, drip_server, free_port
from tests.integrations.conftest import delivery_state

SENDER = "Warm Transfer <transfers@example.com>"


@pytest.fixture
def smtp(smtp_server: tuple[Inbox, int]) -> tuple[Inbox, SmtpMailer]:
    inbox, port = smtp_server
    return inbox, SmtpMailer("127.0.0.1", port, SENDER)


def email_notice(key: str, **fields) -> Notice:
    return Notice(
        key=key,
        transfer_id="t-1",
        audience="prospect",
        kind="callback_confirmation",
        email_to="ann@example.com",
        payload={
            "subject": "Your call with Mei, tomorrow 10:00",
            "body": "Bonjour Ann,\nMei vous appellera demain à 10 h.",
        },
        **fields,
    )


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)


def test_sends_text_and_html_once(db, smtp):
    inbox, mailer = smtp
    [outbox_id] = BuiltinNotifier(db).publish([email_notice("confirm-1")])
    dispatcher = EmailDispatcher(db, mailer)

    assert dispatcher.run_once(soon()) == 1
    BuiltinNotifier(db).publish([email_notice("confirm-1")])  # retried publish
    assert dispatcher.run_once(soon() + timedelta(hours=1)) == 0

    [message] = inbox.messages
    assert inbox.envelopes == [("transfers@example.com", ["ann@example.com"])]
    assert message["From"] == SENDER
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Your call with Mei, tomorrow 10:00"
    assert message["Message-ID"] == mailer.message_id("t-1\nconfirm-1")
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text.get_content().replace("\r\n", "\n") == "Bonjour Ann,\nMei vous appellera demain à 10 h.\n"
    assert "<p>Bonjour Ann,<br>\nMei vous appellera demain à 10 h.</p>" in html.get_content().replace("\r\n", "\n")
    assert delivery_state(db, outbox_id, "email").status == "delivered"


def test_a_notice_with_html_is_sent_as_text_and_html_alternatives(db, smtp):
    inbox, mailer = smtp
    notice = email_notice("digest-1")
    notice.payload["html"] = "<p>Bonjour <b>Ann</b></p>"
    BuiltinNotifier(db).publish([notice])
    assert EmailDispatcher(db, mailer).run_once(soon()) == 1

    [message] = inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    text, rich = message.iter_parts()
    assert text.get_content().replace("\r\n", "\n") == "Bonjour Ann,\nMei vous appellera demain à 10 h.\n"
    assert rich.get_content_type() == "text/html" and "<b>Ann</b>" in rich.get_content()


def test_html_that_is_not_text_is_refused_before_it_is_stored(db):
    notice = email_notice("digest-2")
    notice.payload["html"] = {"not": "text"}
    with pytest.raises(DeliveryError, match="'html' must be a string"):
        BuiltinNotifier(db).publish([notice])


def test_a_notice_with_a_webhook_and_an_email_is_delivered_on_each_channel(db, smtp, receiver):
    inbox, mailer = smtp
    [outbox_id] = BuiltinNotifier(db).publish([email_notice("both", callback_url=receiver.url)])
    assert EmailDispatcher(db, mailer).run_once(soon()) == 1
    assert delivery_state(db, outbox_id, "email").status == "delivered"
    assert delivery_state(db, outbox_id, "webhook").status == "pending"
    assert len(inbox.messages) == 1


def test_a_refusing_or_absent_server_means_retry_later(db, smtp):
    inbox, mailer = smtp
    [outbox_id] = BuiltinNotifier(db).publish([email_notice("confirm-1")])
    now = soon()

    inbox.reply = "451 Try again later"
    assert EmailDispatcher(db, mailer).run_once(now) == 0
    state = delivery_state(db, outbox_id, "email")
    assert (state.status, state.attempts, state.next_attempt_at) == ("pending", 1, now + timedelta(seconds=1))

    absent = SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2)
    assert EmailDispatcher(db, absent).run_once(now + timedelta(seconds=1)) == 0
    assert delivery_state(db, outbox_id, "email").attempts == 2

    inbox.reply = "250 OK"
    assert EmailDispatcher(db, mailer).run_once(now + timedelta(seconds=3)) == 1
    assert len(inbox.messages) == 1


def test_mailer_errors_are_delivery_errors():
    with pytest.raises(DeliveryError, match="SMTP 127.0.0.1"):
        SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2).send(
            "ann@example.com", "s", "b", message_id="<x@example.com>", date=datetime.now(UTC)
        )


@pytest.mark.timeout(10)
def test_a_server_that_drips_its_greeting_is_given_up_at_the_timeout_in_all():
    with drip_server(b"", b"220-still here\r\n", every=0.2) as drip:
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="TimeoutError: the session took longer than 1 s"):
            SmtpMailer("127.0.0.1", drip.port, SENDER, timeout=1).send(
                "ann@example.com", "s", "b", message_id="<x@example.com>", date=datetime.now(UTC))
        assert time.monotonic() - started < 1.5 and drip.let_go()


@pytest.mark.parametrize("refusal", ["recipient", "message"])
def test_a_refusal_names_no_address(smtp, refusal):
    inbox, mailer = smtp
    if refusal == "recipient":
        inbox.refuse_recipients = True
    else:
        inbox.reply = "554 5.7.1 mail for ann@example.com refused"
    with pytest.raises(DeliveryError) as refused:
        mailer.send("ann@example.com", "s", "b", message_id="<x@example.com>", date=datetime.now(UTC))
    assert "SMTP 127.0.0.1" in str(refused.value) and "ann@example.com" not in str(refused.value)


def test_the_html_part_says_the_same_escaped_with_links():
    html = as_html("Hi <b>Ann</b> & co,\n\nSee https://wt.example.com/console?a=1&b=2\nThanks\n")
    assert "<p>Hi &lt;b&gt;Ann&lt;/b&gt; &amp; co,</p>" in html
    assert ('<p>See <a href="https://wt.example.com/console?a=1&amp;b=2">https://wt.example.com/console?a=1&amp;b=2'
            "</a><br>\nThanks</p>") in html


@pytest.mark.parametrize("name", ["Eve\r\nBcc: victim@evil.example", "Eve\nBcc: victim@evil.example\r\n\r\nbody",
                                  "Eve\rSubject: free money", "Zoë \"The\" O'Brien, CEO\x0b\x1b"])
def test_a_name_never_makes_a_header_or_a_recipient(db, smtp, name):
    """Prospect and rep names travel as To display names and in invitations: whatever they hold, through a real SMTP
    server the message has its headers only, and goes to its recipient only."""
    inbox, mailer = smtp
    invite = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u@t\r\n"
              "DTSTAMP:20300101T000000Z\r\nDTSTART:20300102T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    notice = email_notice("confirm-1")
    BuiltinNotifier(db).publish([notice.model_copy(update={"payload": {**notice.payload, "to_name": name,
                                                                       "calendar": invite}})])
    assert EmailDispatcher(db, mailer).run_once(soon()) == 1

    [message] = inbox.messages
    assert inbox.envelopes == [("transfers@example.com", ["ann@example.com"])]
    assert sorted(message.keys()) == sorted(["From", "To", "Subject", "Message-ID", "Date", "MIME-Version",
                                             "Content-Type"])
    [to] = message["To"].addresses
    assert to.addr_spec == "ann@example.com" and to.display_name == " ".join(
        "".join(" " if ch < " " else ch for ch in name).split())
    assert message["Subject"] == "Your call with Mei, tomorrow 10:00"
    calendar = message.get_body(("calendar",))
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    assert calendar.get_content().replace("\r\n", "\n") == invite.replace("\r\n", "\n")
