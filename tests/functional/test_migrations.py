"""Migrations: up, down and up again on the suite's database engine (SQLite or PostgreSQL),
and the models agree with what the migrations build."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp import migrate
from webapp.all_models import metadata
from webapp.db import create_engine


def table_names(url) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_again(scratch_url):
    migrate.upgrade(scratch_url)
    assert table_names(scratch_url) == set(metadata.tables)
    migrate.downgrade(scratch_url, "base")
    assert table_names(scratch_url) == set()
    migrate.upgrade(scratch_url)
    assert table_names(scratch_url) == set(metadata.tables)


def test_there_is_exactly_one_migration_head():
    assert len(migrate.current_heads("sqlite://")) == 1


def test_models_match_the_migrated_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
