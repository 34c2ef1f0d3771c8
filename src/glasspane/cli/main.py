"""``glasspane``: serve, projects, trace."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from glasspane import __version__
from glasspane.cli.client import Client, client_options
from glasspane.errors import GlasspaneError
from glasspane.settings import SETTINGS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glasspane")
def cli() -> None:
    """Distributed tracing, performance monitoring and error tracking for Sentry SDKs."""


def _setting_options(func: Any) -> Any:
    for setting in reversed(SETTINGS):
        unit = f" ({setting.unit})" if setting.unit else ""
        func = click.option(
            setting.flag,
            setting.name,
            default=None,
            type=setting.type if setting.type in (int, float) else str,
            help=f"{setting.help}{unit} [{setting.env}; default {setting.default!r}]",
        )(func)
    return func


@cli.command()
@_setting_options
def serve(**flags: Any) -> None:
    """Start ingest, API and UI; print the dashboard URL, admin token and DSN."""
    from glasspane.server import run

    try:
        run(flags)
    except GlasspaneError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group()
def projects() -> None:
    """Create and list projects (each has its own DSN)."""


@projects.command("create")
@click.argument("name")
@client_options
def projects_create(name: str, server: str | None, token: str | None, data_dir: str | None) -> None:
    """Create project NAME and print its DSN."""
    project = Client(server, token, data_dir).request(
        "POST", "/api/v1/projects", json={"name": name}
    )
    click.echo(project["dsn"])


@projects.command("list")
@client_options
def projects_list(server: str | None, token: str | None, data_dir: str | None) -> None:
    """List projects with their ids and DSNs."""
    answer = Client(server, token, data_dir).request("GET", "/api/v1/projects")
    rows = [(str(p["id"]), p["name"], p["dsn"]) for p in answer["projects"]]
    widths = [max(len(r[i]) for r in [("ID", "NAME", "DSN"), *rows]) for i in range(3)]
    for row in [("ID", "NAME", "DSN"), *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@cli.command()
@click.argument("trace_id")
@click.option("--width", type=int, default=None, help="Columns to use (default: terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print the trace API's JSON instead.")
@client_options
def trace(
    trace_id: str,
    width: int | None,
    as_json: bool,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Draw the waterfall of trace TRACE_ID."""
    import shutil

    import orjson

    from glasspane.cli.waterfall import render_waterfall

    data = Client(server, token, data_dir).request("GET", f"/api/v1/traces/{trace_id}")
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    columns = width or shutil.get_terminal_size((120, 40)).columns
    click.echo(render_waterfall(data, width=columns, color=sys.stdout.isatty()))


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    cli()
