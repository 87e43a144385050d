"""Alembic environment: runs on the connection ``disclosure.models.db.upgrade`` hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from disclosure.models.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # plain `alembic` command line
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///disclosure.db")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
