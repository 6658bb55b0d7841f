"""SQL that behaves the same on SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, DateTime, Integer, Row, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC in, timezone-aware UTC out.

    PostgreSQL keeps `timestamptz`; SQLite stores naive UTC text (which sorts correctly), so the
    zone is re-attached on read. Naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(session: Session, table: Table, row: Mapping[str, Any], key_columns: Sequence[str],
           keep: Sequence[str] = ()) -> None:
    """INSERT ... ON CONFLICT DO UPDATE: one statement that inserts the row or overwrites the stored one,
    except its key and the `keep` columns (e.g. when it was created)."""
    fixed = {*key_columns, *keep}
    updated = tuple(name for name in row if name not in fixed)
    _core(session).execute(_upsert_statement(_dialect(session), table, tuple(key_columns), updated), [dict(row)])


def insert_ignoring_conflicts(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], conflict_columns: Sequence[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING for each row: rows whose key already exists are skipped.

    This is what makes retried writes idempotent without a read-then-write race. Returns how many
    rows were inserted, so a caller can tell "first" from "already there". The rows go as parameters of
    one statement (an executemany), which SQLAlchemy compiles once and caches; a multi-row VALUES is
    compiled afresh every time (it was half the cost of recording a transfer's step).
    """
    if not rows:
        return 0
    statement = _insert_ignoring_statement(_dialect(session), table, tuple(conflict_columns))
    return _core(session).execute(statement, list(rows)).rowcount


def insert_returning_new(session: Session, table: Table, rows: Sequence[Mapping[str, Any]],
                         conflict_columns: Sequence[str], returning: Sequence[Column]) -> list[Row]:
    """insert_ignoring_conflicts, reading back `returning` of the rows it inserted (none of those it skipped),
    in the same statement."""
    if not rows:
        return []
    statement = _insert_ignoring_statement(_dialect(session), table, tuple(conflict_columns), tuple(returning))
    return _core(session).execute(statement, list(rows)).all()


def _core(session: Session) -> Connection:
    """The transaction's connection: Core statements run there, without the ORM's execution machinery."""
    return session.connection()


def _dialect(session: Session) -> str:
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


# The statements are built once per table and shape: building one (ON CONFLICT clauses, excluded columns) cost
# more than SQLAlchemy's cached compilation of it.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@functools.lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: Table, key_columns: tuple[str, ...], updated: tuple[str, ...]) -> Any:
    statement = _INSERTS[dialect](table)
    return statement.on_conflict_do_update(index_elements=key_columns,
                                           set_={name: statement.excluded[name] for name in updated})


@functools.lru_cache(maxsize=256)
def _insert_ignoring_statement(dialect: str, table: Table, conflict_columns: tuple[str, ...],
                               returning: tuple[Column, ...] = ()) -> Any:
    statement = _INSERTS[dialect](table).on_conflict_do_nothing(index_elements=conflict_columns)
    # SQLAlchemy drops an INSERT's rowcount unless asked to keep it.
    return statement.returning(*returning) if returning else statement.execution_options(preserve_rowcount=True)
