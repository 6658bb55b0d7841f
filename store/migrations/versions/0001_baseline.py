"""Baseline: the schema the app made before it had migrations (create_all and its hand-written upgrades).

Revision ID: 0001
Revises:
Create Date: 2026-12-08

Written out as tables, not imported from the models, so that it stays what it was when the models change. A
database the app made before Alembic (its tables, no `alembic_version`) is checked against `schema` and recorded
as at this revision (store.schema).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.tables import CodePointOrder

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # 64-bit identity; SQLite auto-increments INTEGER only
When = sa.DateTime(timezone=True)
FREE_SEAT = sa.text("active < capacity")

schema = sa.MetaData()

reps = sa.Table(
    "reps", schema,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("team", sa.String(40), nullable=False, index=True),
    sa.Column("profile", sa.JSON(), nullable=False),
    sa.Column("presence", sa.String(16), nullable=False),
    sa.Column("presence_changed_at", When),
    sa.Column("last_assigned_at", When),
    sa.Column("capacity", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("active", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("languages", sa.String(80), nullable=False),
    sa.Column("skills", sa.Text(), nullable=False, server_default=","),
    sa.Column("shift", sa.String(40), nullable=False),
    sa.Column("profile_rev", sa.String(32)),
    sa.Index("ix_reps_room", "presence", "team", "shift", "active", "capacity", "last_assigned_at", "id",
             "profile_rev", sqlite_where=FREE_SEAT, postgresql_where=FREE_SEAT),
    sa.Index("ix_reps_shift", "team", "shift", "presence", "languages", "capacity", "id"),
)
sa.Index("ix_reps_best_free", reps.c.presence, reps.c.team, sa.cast(reps.c.active, sa.Float) / reps.c.capacity,
         reps.c.last_assigned_at.is_not(None), reps.c.last_assigned_at, CodePointOrder(reps.c.id), reps.c.active,
         reps.c.capacity, reps.c.profile_rev, reps.c.shift, reps.c.languages, reps.c.skills,
         sqlite_where=FREE_SEAT, postgresql_where=FREE_SEAT)

sa.Table(
    "seats", schema,
    sa.Column("transfer_id", sa.String(100), primary_key=True),
    sa.Column("rep_id", sa.String(64), sa.ForeignKey("reps.id"), nullable=False, index=True),
    sa.Column("reserved_at", When, nullable=False),
)

queue = sa.Table(
    "queue", schema,
    sa.Column("transfer_id", sa.String(100), primary_key=True),
    sa.Column("team", sa.String(40), nullable=False),
    sa.Column("language", sa.String(2), nullable=False, server_default=""),
    sa.Column("routing", sa.JSON(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("arrival", sa.Integer(), nullable=False, unique=True),
    sa.Column("enqueued_at", When, nullable=False),
    sa.Index("ix_queue_order", "priority", "arrival"),
)
sa.Index("ix_queue_head", queue.c.priority.desc(), queue.c.arrival, queue.c.team, queue.c.language)
sa.Index("ix_queue_team_order", queue.c.team, queue.c.priority.desc(), queue.c.arrival, queue.c.transfer_id)

sa.Table(
    "transfers", schema,
    sa.Column("transfer_id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("branch", sa.String(32)),
    sa.Column("team", sa.String(40), index=True),
    sa.Column("rep_id", sa.String(64), index=True),
    sa.Column("score", sa.Integer()),
    sa.Column("outcome", sa.String(32)),
    sa.Column("created_at", When, nullable=False, index=True),
    sa.Column("updated_at", When, nullable=False),
    sa.Column("summary", sa.JSON(), nullable=False),
)

sa.Table(
    "transfer_events", schema,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("transfer_id", sa.String(100), nullable=False, index=True),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("at", When, nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("rep_id", sa.String(64)),
    sa.Column("detail", sa.String(2000), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.UniqueConstraint("transfer_id", "seq"),
)

sa.Table(
    "feedback", schema,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("transfer_id", sa.String(100), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.String(64)),
    sa.Column("at", When, nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.UniqueConstraint("transfer_id", "source"),
)

sa.Table(
    "api_keys", schema,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(12), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.String(64)),
    sa.Column("created_at", When, nullable=False),
    sa.Column("revoked_at", When),
)

sa.Table(
    "calendar_tokens", schema,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("rep_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", When, nullable=False),
    sa.Column("revoked_at", When),
)

sa.Table(
    "outbox", schema,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("transfer_id", sa.String(), nullable=False),
    sa.Column("key", sa.String(), nullable=False),
    sa.Column("audience", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.String()),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column("callback_url", sa.String()),
    sa.Column("email_to", sa.String()),
    sa.Column("chat_to", sa.String()),
    sa.Column("created_at", When, nullable=False),
    sa.UniqueConstraint("transfer_id", "key", name="uq_outbox_transfer_key"),
    sa.Index("ix_outbox_rep_id", "rep_id", "id"),
)

sa.Table(
    "outbox_delivery", schema,
    sa.Column("outbox_id", Id, sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", When, nullable=False),
    sa.Column("lease_token", sa.String()),
    sa.Column("lease_until", When),
    sa.Column("last_error", sa.String()),
    sa.Column("delivered_at", When),
    sa.Index("ix_outbox_delivery_due", "channel", "status", "next_attempt_at"),
)

sa.Table(
    "crm_account", schema,
    sa.Column("account_id", sa.String(), primary_key=True),
    sa.Column("company", sa.String(), index=True),
    sa.Column("contact_name", sa.String()),
    sa.Column("email", sa.String()),
    sa.Column("phone", sa.String()),
    sa.Column("email_key", sa.String(), index=True),
    sa.Column("phone_key", sa.String(), index=True),
    sa.Column("created_at", When, nullable=False),
    sa.Column("updated_at", When, nullable=False),
)

sa.Table(
    "crm_activity", schema,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(), nullable=False, unique=True),
    sa.Column("account_id", sa.String(), sa.ForeignKey("crm_account.account_id"), nullable=False),
    sa.Column("at", When, nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Index("ix_crm_activity_account_at", "account_id", "at"),
)

sa.Table(
    "calendar_task", schema,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(), nullable=False, unique=True),
    sa.Column("rep_id", sa.String(), nullable=False),
    sa.Column("transfer_id", sa.String(), nullable=False, index=True),
    sa.Column("due_at", When, nullable=False),
    sa.Column("title", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("done", sa.Boolean(), nullable=False),
    sa.Column("created_at", When, nullable=False),
    sa.Column("completed_at", When),
    sa.Index("ix_calendar_task_rep_due", "rep_id", "due_at"),
)

sa.Table(
    "rep_usage", schema,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("transfer_id", sa.String(100), nullable=False, index=True),
    sa.Column("rep_id", sa.String(64), nullable=False),
    sa.Column("item", sa.String(80), nullable=False),
    sa.Column("at", When, nullable=False, index=True),
    sa.UniqueConstraint("transfer_id", "rep_id", "item"),
)


def upgrade() -> None:
    schema.create_all(op.get_bind())


def downgrade() -> None:
    schema.drop_all(op.get_bind())
