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
            type=setting.type if setting.type in (int, float, bool) else str,
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


@cli.command("clickhouse-ddl")
@click.option("--cluster", required=True, help="The cluster's name in remote_servers.")
@click.option("--database", default="glasspane", show_default=True)
@click.option("--retention", default="30d", show_default=True, help="Days kept (TTL).")
def clickhouse_ddl(cluster: str, database: str, retention: str) -> None:
    """Print the schema for a ClickHouse cluster (replicated, sharded tables).

    Run it once: glasspane clickhouse-ddl --cluster prod | clickhouse-client
    --multiquery; then start glasspane with --store clickhouse://.../DATABASE.
    """
    from glasspane.store.clickhouse.cluster import cluster_ddl
    from glasspane.store.retention import parse_retention

    try:
        days = parse_retention(retention)
    except GlasspaneError as exc:
        raise click.ClickException(str(exc)) from None
    for statement in cluster_ddl(cluster, database, days):
        click.echo(statement.strip() + ";\n")


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


@projects.command("rotate-key")
@click.argument("name")
@client_options
def projects_rotate_key(
    name: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Give project NAME a new DSN key and print its new DSN; the old key stops working."""
    client = Client(server, token, data_dir)
    listed = client.request("GET", "/api/v1/projects")["projects"]
    match = [p for p in listed if p["name"] == name]
    if not match:
        names = ", ".join(p["name"] for p in listed)
        raise click.ClickException(f"There is no project named {name!r}; projects: {names}")
    project = client.request("POST", f"/api/v1/projects/{match[0]['id']}/rotate-key")
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
@click.option(
    "--highlight",
    default="",
    metavar="ID,ID,...",
    help="Mark these span ids (a performance issue's evidence) with ◀.",
)
@client_options
def trace(
    trace_id: str,
    width: int | None,
    as_json: bool,
    highlight: str,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Draw the waterfall of trace TRACE_ID."""
    import shutil
    import time

    import orjson

    from glasspane.cli.waterfall import render_waterfall

    data = Client(server, token, data_dir).request("GET", f"/api/v1/traces/{trace_id}")
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    columns = width or shutil.get_terminal_size((120, 40)).columns
    now = time.time()
    marked = [part.strip() for part in highlight.split(",") if part.strip()]
    click.echo(
        render_waterfall(data, width=columns, color=sys.stdout.isatty(), now=now, highlight=marked)
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status API's JSON instead.")
@client_options
def status(as_json: bool, server: str | None, token: str | None, data_dir: str | None) -> None:
    """Ingest rate, writer queue, journal lag and store size, at a glance."""
    import orjson

    from glasspane.cli.status import render_status

    client = Client(server, token, data_dir)
    answer = client.request("GET", "/api/v1/status")
    if as_json:
        click.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(render_status(answer, client.url))


def _period_options(func: Any) -> Any:
    func = click.option("--query", "-q", default="", help="Search query, e.g. service:api")(func)
    func = click.option("--period", "-p", default="24h", help="15m, 1h, 24h, 7d")(func)
    return func


@cli.command()
@_period_options
@click.option("--sort", default="-count", help="Column to sort by; - for descending.")
@client_options
def transactions(
    query: str, period: str, sort: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """The transactions table: p50, p95, failure rate, throughput, Apdex."""
    from glasspane.cli.tables import ms, percent, rate, render_table

    answer = Client(server, token, data_dir).request(
        "GET", "/api/v1/transactions", params={"query": query, "period": period, "sort": sort}
    )
    rows = [
        (
            t["transaction"],
            t["service"],
            ms(t["p50_ms"]),
            ms(t["p95_ms"]),
            percent(t["failure_rate"]),
            rate(t["throughput_per_min"]),
            f"{t['apdex']:.2f}",
        )
        for t in answer["transactions"]
    ]
    headers = ("TRANSACTION", "SERVICE", "P50", "P95", "FAILURE RATE", "THROUGHPUT", "APDEX")
    click.echo(render_table(headers, rows, (False, False, True, True, True, True, True)))


@cli.command()
@_period_options
@client_options
def services(
    query: str, period: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Service health: Apdex, error rate and p95 per service."""
    from glasspane.cli.tables import ms, percent, rate, render_table

    answer = Client(server, token, data_dir).request(
        "GET", "/api/v1/services", params={"query": query, "period": period}
    )
    rows = [
        (
            s["service"],
            f"{s['apdex']:.2f}",
            percent(s["error_rate"]),
            ms(s["p95_ms"]),
            rate(s["throughput_per_min"]),
        )
        for s in answer["services"]
    ]
    headers = ("SERVICE", "APDEX", "ERROR RATE", "P95", "THROUGHPUT")
    click.echo(render_table(headers, rows, (False, True, True, True, True)))


@cli.command()
@_period_options
@client_options
def regressions(
    query: str, period: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Sustained rises of p95 or failure rate: before, after, change, when it started."""
    import time

    from glasspane.cli.listing import regressions_table

    answer = Client(server, token, data_dir).request(
        "GET", "/api/v1/regressions", params={"query": query, "period": period}
    )
    click.echo(regressions_table(answer, time.time()))


@cli.command()
@_period_options
@client_options
def impact(
    query: str, period: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Users and transactions hit by failures, by country, browser and OS."""
    from glasspane.cli.listing import impact_text

    answer = Client(server, token, data_dir).request(
        "GET", "/api/v1/impact", params={"query": query, "period": period}
    )
    click.echo(impact_text(answer))


@cli.command()
@_period_options
@click.option("--sort", default="-last_seen", help="[-]last_seen, first_seen, count or users.")
@click.option("--limit", default=100, show_default=True, help="Issues to show.")
@client_options
def issues(
    query: str,
    period: str,
    sort: str,
    limit: int,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Errors grouped into issues: events and users in the period, last and first seen."""
    import time

    from glasspane.cli.listing import issues_table

    answer = Client(server, token, data_dir).request(
        "GET",
        "/api/v1/issues",
        params={"query": query, "period": period, "sort": sort, "limit": limit},
    )
    click.echo(issues_table(answer, time.time()))


@cli.command()
@click.argument("query")
@click.option("--issues", "as_issues", is_flag=True, help="List matching issues, not traces.")
@click.option("--period", "-p", default="24h", help="15m, 1h, 24h, 7d")
@click.option("--limit", default=50, show_default=True, help="Rows to show.")
@client_options
def search(
    query: str,
    as_issues: bool,
    period: str,
    limit: int,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Traces (or with --issues, issues) matching QUERY, e.g.
    'user.email:demo@test.com transaction:uploadDocument timestamp:-15m'."""
    import time

    from glasspane.cli.listing import issues_table, traces_table

    path = "/api/v1/issues" if as_issues else "/api/v1/traces"
    params = {"query": query, "period": period, "limit": limit}
    answer = Client(server, token, data_dir).request("GET", path, params=params)
    render = issues_table if as_issues else traces_table
    click.echo(render(answer, time.time()))


@cli.command()
@click.argument("query", default="")
@click.option("--group-by", "-g", default=None, help="Comma list, e.g. span.op or span.op,db.")
@click.option("--period", "-p", default="24h", help="15m, 1h, 24h, 7d")
@click.option("--sort", default="-timestamp", help="-timestamp, -duration or duration.")
@click.option("--limit", default=100, show_default=True, help="Spans to list (at most 1000).")
@client_options
def spans(
    query: str,
    group_by: str | None,
    period: str,
    sort: str,
    limit: int,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Every span matching QUERY (children too, e.g. 'span.op:db.query
    span.duration:>100ms'); with --group-by, spans grouped: count, p50, p95, total."""
    import time

    from glasspane.cli.listing import span_groups_table, spans_table

    client = Client(server, token, data_dir)
    if group_by is None:
        params: dict[str, Any] = {"query": query, "period": period, "sort": sort, "limit": limit}
        click.echo(spans_table(client.request("GET", "/api/v1/spans", params=params), time.time()))
        return
    params = {"query": query, "period": period, "group_by": group_by}
    answer = client.request("GET", "/api/v1/spans/aggregate", params=params)
    keys = list(dict.fromkeys(k.strip() for k in group_by.split(",") if k.strip()))
    click.echo(span_groups_table(answer, keys))


DEMO_FAULTS = ("none", "rpc-latency", "timeouts", "rpc-down")  # glasspane.demo.faults.FAULTS


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    from glasspane.demo.options import parse_duration

    try:
        return None if value is None else parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option(
    "--server", default=None, help="Send to this running glasspane instead of starting one."
)
@click.option("--token", default=None, help="Admin token of --server [GLASSPANE_TOKEN].")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default="./glasspane-demo-data",
    show_default=True,
    help="Data of the server the demo starts; the demo's logs and databases in DIR/demo.",
)
@click.option("--port", default=8000, show_default=True, help="Port of the server the demo starts.")
@click.option("--control-port", default=0, help="Port of the control endpoint (default: free).")
@click.option(
    "--fault",
    type=click.Choice(DEMO_FAULTS),
    default="none",
    show_default=True,
    help="Fault on the chain's primary RPC endpoint.",
)
@click.option(
    "--fault-after",
    default="0s",
    callback=_duration,
    help="Switch the fault on after this long (e.g. 2m).",
)
@click.option(
    "--fix",
    type=click.Choice(["none", "rpc-fallback"]),
    default="none",
    show_default=True,
    help="RPC fallback across endpoints with health checks.",
)
@click.option(
    "--fix-after", default="0s", callback=_duration, help="Switch the fix on after this long."
)
@click.option("--rate", default=120.0, show_default=True, help="Uploads per minute (real time).")
@click.option("--users", default=48, show_default=True, help="Simulated users.")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    help="Divide every simulated duration (latency, block time, timeouts, alert windows) by this.",
)
@click.option(
    "--duration",
    default=None,
    callback=_duration,
    help="Stop after this long (default: on Ctrl-C).",
)
@click.option(
    "--alerts",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Alert rules file (default: the demo's own, see DIR/demo/alerts.yaml).",
)
@click.option(
    "--progress", default="10s", callback=_duration, help="Print progress this often (0: never)."
)
@click.option("--seed", default=2025, show_default=True, help="Seed of the user population.")
def demo(**options: Any) -> None:
    """Run the scenario's ten-service document-upload flow, traced with sentry-sdk."""
    from pathlib import Path

    from glasspane.demo import DemoError
    from glasspane.demo.options import DemoOptions
    from glasspane.demo.run import run_demo

    options["data_dir"] = Path(options["data_dir"])
    options["alerts"] = Path(options["alerts"]) if options["alerts"] else None
    try:
        sys.exit(run_demo(DemoOptions(**options), click.echo))
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None


def _add_account_commands() -> None:
    from glasspane.cli.accounts import tokens, users

    cli.add_command(users)
    cli.add_command(tokens)


_add_account_commands()


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    cli()
