"""A database error never quotes the row it was writing: those rows hold prospects' personal data, and errors end
up in logs and in Temporal's failure messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from store.db import Database
from store.tables import TransferEventRow


def test_a_failed_write_does_not_quote_its_values(db: Database) -> None:
    row = {"transfer_id": "t-1", "seq": 1, "at": datetime.now(UTC), "status": "requested", "kind": "note",
           "detail": "The prospect added: call me at +1 555 0199, dana@northwind.io", "data": {}}
    with db.session() as session:
        session.execute(insert(TransferEventRow.__table__), [row])
    with pytest.raises(SQLAlchemyError) as failed, db.session() as session:
        session.execute(insert(TransferEventRow.__table__), [row])  # the same event again
    assert "dana@northwind.io" not in str(failed.value) and "555 0199" not in str(failed.value)
