"""Alembic environment: the URL comes from app/migrate.py or SBF_DATABASE_URL."""
import os

from alembic import context
from sqlalchemy import create_engine

from app.adapters.tables import metadata

config = context.config
url = config.attributes.get("database_url") or os.environ["SBF_DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        # batch mode lets ALTERs run on SQLite too
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
