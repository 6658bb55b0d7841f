"""Scripts: the bot's lines to the prospect and the rep's alert, summary, opener and checklist (en + zh)."""

from domain.scripts.lines import BOT_LINE_KINDS, LineFacts, bot_line, format_when
from domain.scripts.render import language_of, written_in
from domain.scripts.rep import (
    OfferOutcome,
    RepAlert,
    alert_chat,
    alert_email,
    band_of,
    checklist,
    mrkdwn_escape,
    offer_closed,
    offer_words,
    opener,
    quick_summary,
    rep_alert,
    talking_points,
    things_to_avoid,
)

__all__ = [
    "BOT_LINE_KINDS",
    "LineFacts",
    "OfferOutcome",
    "RepAlert",
    "alert_chat",
    "alert_email",
    "band_of",
    "bot_line",
    "checklist",
    "format_when",
    "language_of",
    "mrkdwn_escape",
    "offer_closed",
    "offer_words",
    "opener",
    "quick_summary",
    "rep_alert",
    "talking_points",
    "things_to_avoid",
    "written_in",
]
