"""``glasspane serve``: open the instance, print where to look, run uvicorn."""

from __future__ import annotations

import signal
from typing import Any

import click
import uvicorn

from glasspane import __version__
from glasspane.instance import DEFAULT_PROJECT, TOKEN_FILE, Instance
from glasspane.settings import resolve
from glasspane.web.app import create_app


def run(flags: dict[str, Any]) -> None:
    config = resolve(flags)
    instance = Instance(config)
    try:
        app = create_app(instance)
        default = next(p for p in instance.projects() if p.name == DEFAULT_PROJECT)
        click.echo(f"glasspane {__version__} listening on {config.host}:{config.port}")
        click.echo(f"  Dashboard:    {config.base_url}/?token={instance.admin_token}")
        click.echo(
            f"  Admin token:  {instance.admin_token}  (also in {config.data_path / TOKEN_FILE})"
        )
        click.echo(f"  DSN (default project): {instance.dsn(default)}")
        click.echo(f"  Data:         {config.data_path.resolve()}")
        rules = instance.alerts
        click.echo(
            f"  Alert rules:  {rules.path} ({len(rules.rules.rules)} rules, every "
            f"{rules.interval:g}s; reload with SIGHUP)"
        )
        if rules.file_error:
            click.echo(f"  ! {rules.file_error}")
        for rule in rules.rules.rules:
            if rule.error:
                click.echo(f"  ! {rule.error}")
        signal.signal(signal.SIGHUP, lambda *_: rules.reload())
        rules.start()
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=10,
                server_header=False,
            )
        )
        server.run()
    finally:
        instance.close()
