"""Alembic's environment: the migrations run on the connection store.schema hands over, inside its transaction."""

from alembic import context

from store.schema import comparing, models

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=models(),
    # SQLite changes a column or constraint only by rebuilding its table: autogenerate writes batch operations there.
    render_as_batch=connection.dialect.name == "sqlite",
    **comparing(models()),
)
with context.begin_transaction():
    context.run_migrations()
