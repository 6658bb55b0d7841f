"""What a scheduled follow-up says: the prospect's confirmation (and invitation), and the task on the owner's
calendar."""

from __future__ import annotations

from datetime import datetime

from domain.context import ContextPackage, Prospect
from domain.scripts.rep import rep_alert

TASK_TITLE_PREFIX = "Follow up: "  # a calendar task's title: this, then the prospect's label


def task_title(prospect: Prospect, transfer_id: str) -> str:
    """The calendar task's title: "Follow up: Name @ Company" (the transfer's id when neither is known)."""
    return TASK_TITLE_PREFIX + prospect_label(prospect, transfer_id)


def prospect_of_title(title: str) -> str:
    """The prospect's label a task's title holds (see `task_title`); a title of another form, whole."""
    return title.removeprefix(TASK_TITLE_PREFIX)


def prospect_label(prospect: Prospect, fallback: str) -> str:
    """Who the prospect is, in a few words: "Name @ Company"."""
    return " @ ".join(x for x in (prospect.name, prospect.company) if x) or fallback


def confirmation(prospect_name: str | None, owner_name: str | None, channel: str, due: datetime) -> dict[str, str]:
    """The e-mail that tells the prospect who follows up, how and when."""
    by = "call you" if channel == "phone" else "e-mail you"
    return {
        "subject": "We have everything we discussed",
        "body": f"Hi {prospect_name or 'there'},\n\n{owner_name or 'our team'} will {by} at "
        f"{due.strftime('%Y-%m-%d %H:%M UTC')} with the full context of your conversation, "
        f"so you will not need to repeat anything.\n",
    }


def invitation_summary(owner_name: str) -> str:
    """What the prospect's calendar calls the callback they were invited to."""
    return f"Call with {owner_name}"


def task_description(context: ContextPackage, locale: str, channel: str, transfer_id: str) -> str:
    """The calendar task's body: how to reach the prospect, then the rep's alert in the owner's language."""
    contact = context.prospect.phone if channel == "phone" else context.prospect.email
    alert = rep_alert(context, locale, context.transfer_reason)
    return "\n".join([
        f"{channel} follow-up: {contact or 'contact details in the transfer'}",
        alert.one_liner,
        *alert.lines,
        f"Transfer: {transfer_id}",
    ])
