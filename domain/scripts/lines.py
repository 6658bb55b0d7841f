"""The bot's lines to the prospect at each step of a transfer, in English or Simplified Chinese."""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.scripts.line_texts import (
    MERIDIEM,
    MINUTES,
    MONTH_NAMES,
    PHRASES,
    SENTENCES,
    TEAM_NAMES,
    TIME_WORDS,
    WEEKDAY_NAMES,
)
from domain.scripts.render import Lang, compose, derive, first_name, known, language_of
from domain.view import BotLineKind

BOT_LINE_KINDS: tuple[str, ...] = get_args(BotLineKind)


class LineFacts(BaseModel):
    """What a line may mention; every fact is optional and a missing one is never printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rep_name: str | None = None
    rep_is_busy: bool = True  # the rep is with other customers (not one who declined or let the offer lapse)
    rep_title: str | None = None
    rep_expertise: str | None = None
    team: str | None = None
    prospect_name: str | None = None
    bot_name: str | None = None
    position: int | None = None  # 1-based place in the queue
    wait_seconds: int | None = None
    at: AwareDatetime | None = None  # callback / follow-up / next opening
    prospect_timezone: str | None = None  # IANA name; times are shown in it, else in UTC
    phone: str | None = None
    email: str | None = None
    recovery_minutes: int | None = None
    technical_failure: bool = True  # a failed transfer's cause is technical (not a rep who did not take over)
    now: AwareDatetime | None = None  # makes "today" / "tomorrow" possible


def bot_line(kind: str, locale: str, facts: LineFacts) -> str:
    """The text the bot says for `kind` (a domain.view.BotLineKind), in the prospect's language."""
    if kind not in BOT_LINE_KINDS:
        raise ValueError(f"unknown bot line kind {kind!r}")
    lang = language_of(locale)
    slots = known(
        rep_name=facts.rep_name,
        rep_first=first_name(facts.rep_name),
        busy_rep=facts.rep_name if facts.rep_is_busy else None,
        rep_title=facts.rep_title,
        rep_expertise=facts.rep_expertise,
        team=_team_name(facts.team, lang),
        first=first_name(facts.prospect_name),
        position=facts.position if facts.position and facts.position > 0 else None,
        wait=_minutes(math.ceil(facts.wait_seconds / 60), lang) if facts.wait_seconds is not None else None,
        recovery=_minutes(facts.recovery_minutes, lang) if facts.recovery_minutes else None,
        when=format_when(facts.at, facts.prospect_timezone, facts.now, lang) if facts.at else None,
        phone=facts.phone,
        email=facts.email,
    )
    sentences = SENTENCES[lang]["not_taken_over" if kind == "failed" and not facts.technical_failure else kind]
    return compose(sentences, derive(slots, PHRASES[lang]), lang)


def _team_name(team: str | None, lang: Lang) -> str | None:
    return TEAM_NAMES[lang].get(team, team) if team else None


def _minutes(count: int, lang: Lang) -> str:
    count = max(1, count)  # "about 0 minutes" reads like a bug; a moment is still a minute
    singular, plural = MINUTES[lang]
    return (singular if count == 1 else plural).format(n=count)


def _zone(name: str | None) -> tzinfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def format_when(at: datetime, timezone_name: str | None, now: datetime | None, lang: Lang) -> str:
    """'tomorrow at 9:00 AM' / '明天9:00' in the prospect's zone; in UTC, said so, when it is unknown.

    Relative words need `now`; without it the date is spelled out.
    """
    zone = _zone(timezone_name)
    local = at.astimezone(zone or UTC)
    words = TIME_WORDS[lang]
    clock = words["clock"].format(
        hour=local.hour, hour12=local.hour % 12 or 12, minute=local.minute, meridiem=MERIDIEM[local.hour >= 12]
    )
    days_ahead = (local.date() - now.astimezone(zone or UTC).date()).days if now else None
    form = {0: "today", 1: "tomorrow"}.get(days_ahead, "weekday" if days_ahead in range(2, 7) else "date")
    when = words[form].format(
        clock=clock,
        weekday=WEEKDAY_NAMES[lang][local.weekday()],
        month_name=MONTH_NAMES[local.month - 1],
        month=local.month,
        day=local.day,
    )
    return when if zone else words["utc"].format(when=when)
