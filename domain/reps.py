"""Reps as routing sees them: who they are, what they know, when they work, how loaded they are."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from domain.context import ONE_LINE, PLAIN_TEXT, Strict
from domain.requests import Locale, RepId, Tag

Presence = Literal["available", "busy", "away", "offline"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _ordered_spans(hours: dict) -> dict:
    for day, spans in hours.items():
        for start, end in spans:
            if start >= end:
                raise ValueError(f"working hours on {day}: {start} is not before {end}")
    return hours


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_timezone)]
WorkingHours = Annotated[
    dict[Weekday, Annotated[list[tuple[ClockTime, ClockTime]], Field(max_length=6)]],
    AfterValidator(_ordered_spans),
]
RepName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), ONE_LINE]
Title = Annotated[str, StringConstraints(max_length=120), ONE_LINE]
Expertise = Annotated[str, StringConstraints(max_length=300), PLAIN_TEXT]
Phone = Annotated[str, StringConstraints(max_length=40), ONE_LINE]
Skills = Annotated[list[Tag], Field(max_length=50)]
Languages = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]], Field(min_length=1, max_length=20)
]
Capacity = Annotated[int, Field(ge=1, le=50)]
# A Slack member id (U…, or W… on Enterprise Grid): where the rep's alerts go as a direct message, and how a click
# on a Slack button is traced back to the rep.
SlackUserId = Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,30}$")]
OFFICE_HOURS: dict = {d: [("09:00", "17:00")] for d in WEEKDAYS[:5]}


class RepProfile(Strict):
    id: RepId
    name: RepName
    email: EmailStr | None = None
    phone: Phone | None = None
    title: Title | None = None
    expertise: Expertise | None = None
    team: Tag = "sales"
    skills: Skills = []
    languages: Languages = ["en"]
    capacity: Capacity = 1
    timezone: TimeZoneName = "UTC"
    working_hours: WorkingHours = OFFICE_HOURS
    locale: Locale = "en"
    slack_user_id: SlackUserId | None = None


class RepPatch(Strict):
    """A partial update of a rep (PATCH): every field optional, under the same rules as RepProfile. `null` clears what
    a profile may lack (email, phone, title, expertise, slack_user_id); the others cannot be null (a 422), so a patch
    never leaves a profile without a name, team or hours. Their default None only stands for "left out"."""

    name: RepName = None
    email: EmailStr | None = None
    phone: Phone | None = None
    title: Title | None = None
    expertise: Expertise | None = None
    team: Tag = None
    skills: Skills = None
    languages: Languages = None
    capacity: Capacity = None
    timezone: TimeZoneName = None
    working_hours: WorkingHours = None
    locale: Locale = None
    slack_user_id: SlackUserId | None = None


class RepState(Strict):
    """A rep plus the live facts routing needs: presence, seats in use, when they last got a transfer."""

    profile: RepProfile
    presence: Presence = "offline"
    active: int = 0
    last_assigned_at: datetime | None = None

    @property
    def free_seats(self) -> int:
        return max(0, self.profile.capacity - self.active)
