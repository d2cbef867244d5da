"""Running alembic from code, so no alembic.ini has to be deployed."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(url: str, connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", "webapp:migrations")
    # ConfigParser interpolation would choke on '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head", connection=None) -> None:
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(url: str, revision: str, connection=None) -> None:
    command.downgrade(alembic_config(url, connection), revision)


def current_heads(url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
