"""Command-line tasks (`flask --app wsgi <command>`): migrate, demo data, password drain, purge.

DOMAIN.md: none: operations.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask

from server.wiring import Wiring

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> object:
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def migrate(database_url: str) -> None:
    """Upgrade the database to every head (feature branches of the schema are merged later)."""
    import logging

    from alembic import command

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if database_url.startswith("sqlite") and "memory" not in database_url:
        path = database_url.split("///", 1)[1].split("?", 1)[0]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    command.upgrade(alembic_config(database_url), "heads")  # type: ignore[arg-type]


def register(app: Flask) -> None:
    w: Wiring = app.extensions["wiring"]

    @app.cli.command("migrate")
    def migrate_command() -> None:
        """Create or upgrade the schema."""
        migrate(w.settings.database_url)
        click.echo("database is at the newest schema")

    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo (idempotent): an admin, a hospital with a terminal, three persons."""
        from server.demo import load_demo

        for line in load_demo(w):
            click.echo(line)

    @app.cli.command("issue-passwords")
    def issue_passwords_command() -> None:
        """Send initial payment passwords that are still pending (after a crash)."""
        from server.roster.service import issue_pending_passwords

        with w.unit_of_work() as uow:
            n = issue_pending_passwords(uow)
        click.echo(f"{n} initial passwords issued")

    @app.cli.command("purge")
    def purge_command() -> None:
        """Delete expired short-lived records, scan tokens and offline kits."""
        from server.credentials.maintenance import purge_expired
        from server.ports.store import DatabaseStore, RoutingStore

        table = w.store.durable if isinstance(w.store, RoutingStore) else w.store
        if isinstance(table, DatabaseStore):
            click.echo(f"{table.purge_expired()} expired store records deleted")
        with w.db.sessions() as session:
            purged = purge_expired(session, now=w.clock.now())
        click.echo(
            f"{purged.scan_tokens} scan tokens and {purged.offline_kits} offline kits deleted"
        )

    from server.batches import register as register_batches  # roster and credit CSV imports

    register_batches(app)
