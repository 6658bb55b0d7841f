"""The app database's Alembic migrations (env.py, versions/); store.schema runs them."""
