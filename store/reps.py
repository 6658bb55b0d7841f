"""The rep directory: profiles, presence, and the live load routing reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from domain.reps import Presence, RepPatch, RepProfile, RepState
from store.db import Database
from store.errors import Conflict, NotFound
from store.tables import RepRow, SeatRow
from store.timeutil import aware


class RepStore:
    def __init__(self, db: Database):
        self.db = db

    def create(self, profile: RepProfile, presence: Presence = "offline") -> RepState:
        with self.db.session() as session:
            if session.get(RepRow, profile.id) is not None:
                raise Conflict(f"rep {profile.id!r} already exists")
            session.add(RepRow(id=profile.id, team=profile.team, profile=profile.model_dump(mode="json"),
                               presence=presence))
        return self.get(profile.id)

    def upsert(self, profile: RepProfile, presence: Presence) -> None:
        with self.db.session() as session:
            row = session.get(RepRow, profile.id) or RepRow(id=profile.id, team=profile.team, profile={})
            row.team, row.profile, row.presence = profile.team, profile.model_dump(mode="json"), presence
            session.add(row)

    def update(self, rep_id: str, patch: RepPatch) -> RepState:
        with self.db.session() as session:
            row = _row(session, rep_id)
            merged = {**row.profile, **patch.model_dump(mode="json", exclude_unset=True)}
            profile = RepProfile.model_validate(merged)
            row.team, row.profile = profile.team, profile.model_dump(mode="json")
            session.add(row)
        return self.get(rep_id)

    def set_presence(self, rep_id: str, presence: Presence, now: datetime) -> RepState:
        with self.db.session() as session:
            row = _row(session, rep_id)
            row.presence, row.presence_changed_at = presence, now
            session.add(row)
        return self.get(rep_id)

    def get(self, rep_id: str) -> RepState:
        with self.db.session() as session:
            return _states(session, [_row(session, rep_id)])[0]

    def exists(self, rep_id: str) -> bool:
        with self.db.session() as session:
            return session.get(RepRow, rep_id) is not None

    def list(self, team: str | None = None) -> list[RepState]:
        with self.db.session() as session:
            return states_of_team(session, team)


def _row(session: Session, rep_id: str) -> RepRow:
    row = session.get(RepRow, rep_id)
    if row is None:
        raise NotFound(f"no rep {rep_id!r}")
    return row


def states_of_team(session: Session, team: str | None) -> list[RepState]:
    query = select(RepRow).order_by(RepRow.id)
    if team is not None:
        query = query.where(RepRow.team == team)
    return _states(session, session.exec(query).all())


def _states(session: Session, rows: Sequence[RepRow]) -> list[RepState]:
    ids = [row.id for row in rows]
    loads: dict[str, int] = {}
    if ids:
        counted = select(SeatRow.rep_id, func.count()).where(SeatRow.rep_id.in_(ids)).group_by(SeatRow.rep_id)
        loads = dict(session.exec(counted).all())
    return [
        RepState(profile=RepProfile.model_validate(row.profile), presence=row.presence,
                 active=loads.get(row.id, 0), last_assigned_at=aware(row.last_assigned_at))
        for row in rows
    ]
