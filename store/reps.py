"""The rep directory: profiles, presence, and the live load routing reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from domain.reps import Presence, RepPatch, RepProfile, RepState
from store.db import Database
from store.errors import Conflict, NotFound
from store.portable import insert_ignoring_conflicts
from store.tables import RepRow, SeatRow


class RepStore:
    def __init__(self, db: Database):
        self.db = db

    def create(self, profile: RepProfile, presence: Presence = "offline") -> RepState:
        row = {"id": profile.id, "team": profile.team, "profile": profile.model_dump(mode="json"), "presence": presence}
        with self.db.session() as session:
            # Insert-or-nothing rather than look-then-insert: two racing creates get one Conflict, not a 500.
            if not insert_ignoring_conflicts(session, RepRow.__table__, [row], ["id"]):
                raise Conflict(f"rep {profile.id!r} already exists")
        return self.get(profile.id)

    def upsert(self, profile: RepProfile, presence: Presence) -> None:
        with self.db.locked() as session:
            row = session.get(RepRow, profile.id, with_for_update=True) or RepRow(id=profile.id)
            row.team, row.profile, row.presence = profile.team, profile.model_dump(mode="json"), presence
            session.add(row)

    def update(self, rep_id: str, patch: RepPatch) -> RepState:
        """Apply a PATCH; the merged profile is validated whole, and an invalid one changes nothing."""
        with self.db.locked() as session:
            row = _row_for_update(session, rep_id)
            merged = {**row.profile, **patch.model_dump(mode="json", exclude_unset=True)}
            profile = RepProfile.model_validate(merged)
            row.team, row.profile = profile.team, profile.model_dump(mode="json")
            session.add(row)
        return self.get(rep_id)

    def set_presence(self, rep_id: str, presence: Presence, now: datetime) -> RepState:
        with self.db.session() as session:
            # A single UPDATE (no read first) cannot hit SQLite's stale-snapshot error beside a dispatch.
            changed = session.exec(update(RepRow).where(RepRow.id == rep_id)
                                   .values(presence=presence, presence_changed_at=now)).rowcount
        if not changed:
            raise NotFound(f"no rep {rep_id!r}")
        return self.get(rep_id)

    def get(self, rep_id: str) -> RepState:
        with self.db.read() as session:
            state = rep_state(session, rep_id)
        if state is None:
            raise NotFound(f"no rep {rep_id!r}")
        return state

    def exists(self, rep_id: str) -> bool:
        with self.db.read() as session:
            return session.get(RepRow, rep_id) is not None

    def list(self, team: str | None = None) -> list[RepState]:
        with self.db.read() as session:
            return states_of_team(session, team)


def _row_for_update(session: Session, rep_id: str) -> RepRow:
    # FOR UPDATE makes a read-modify-write of the profile safe on PostgreSQL; SQLite's locked() already is.
    row = session.get(RepRow, rep_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no rep {rep_id!r}")
    return row


def rep_state(session: Session, rep_id: str) -> RepState | None:
    row = session.get(RepRow, rep_id)
    return _states(session, [row])[0] if row else None


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
                 active=loads.get(row.id, 0), last_assigned_at=row.last_assigned_at)
        for row in rows
    ]
