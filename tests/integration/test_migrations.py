"""Alembic revisions apply, roll back and re-apply on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from disclosure.models.db import (
    _alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    upgrade,
)
from disclosure.models.tables import Base


def _downgrade_to_base(engine) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")


def test_schema_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine, create=True)
    assert current_revision(engine) == head_revision()
    _downgrade_to_base(engine)
    assert current_revision(engine) is None
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_migrated_schema_matches_the_orm_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine, create=True)
    inspector = inspect(engine)
    for name, table in Base.metadata.tables.items():
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(columns) == set(table.columns.keys()), name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
    engine.dispose()
