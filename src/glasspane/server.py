"""``glasspane serve``: open the instance, print where to look, run uvicorn.

With ``--workers N`` (a ClickHouse store only), the parent binds the port,
prints the banner, and forks N worker processes that each open the store and
serve the same socket; the kernel spreads connections among them. Any one of
them may answer any request: nothing is kept only in a worker's memory
(projects are re-read on an unknown key, alert rules run where the lease is).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import uvicorn

from glasspane import __version__, embedded, server_metrics
from glasspane.errors import ConfigError
from glasspane.instance import DEFAULT_PROJECT, TOKEN_FILE, Instance
from glasspane.settings import Config, resolve
from glasspane.store import shared_between_processes
from glasspane.web.app import create_app


def run(flags: dict[str, Any]) -> None:
    config = resolve(flags)
    workers = config.workers
    shared = shared_between_processes(config.store)
    if workers > 1 and not shared:
        raise ConfigError(
            f"--workers {workers} needs a ClickHouse server store (--store clickhouse://...): "
            "DuckDB and chDB open their files in one process only; ingest runs on every "
            "core anyway (--ingest-workers)"
        )
    if workers > 1:
        _run_workers(config, workers)
        return
    if not shared:
        embedded.run(config, _banner)
        return
    instance = Instance(config)
    try:
        _banner(config, instance)
        signal.signal(signal.SIGHUP, lambda *_: instance.alerts.reload())
        instance.alerts.start()
        _server(config, instance).run()
    finally:
        instance.close()


def _banner(config: Config, instance: Instance, workers: int = 1, ingest: int = 0) -> None:
    default = next(p for p in instance.projects() if p.name == DEFAULT_PROJECT)
    processes = f" ({workers} worker processes)" if workers > 1 else ""
    if ingest:
        processes = f" (ingest on {ingest} worker processes)"
    click.echo(f"glasspane {__version__} listening on {config.host}:{config.port}{processes}")
    click.echo(f"  Dashboard:    {config.base_url}/  (first login: the admin token, no name)")
    click.echo(f"  Admin token:  {instance.admin_token}  (also in {config.data_path / TOKEN_FILE})")
    click.echo(f"  DSN (default project): {instance.dsn(default)}")
    click.echo(f"  Data:         {config.store or config.data_path.resolve()}")
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
        for warning in rule.warnings:
            click.echo(f'  ! Alert rule "{rule.name}": {warning}')


def _server(config: Config, instance: Instance) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(
            create_app(instance),
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    )


def _run_workers(config: Config, workers: int) -> None:
    # The parent sets up what workers share (schema, default project, admin
    # token) once, so they do not race to create them.
    instance = Instance(config)
    try:
        _banner(config, instance, workers)
    finally:
        instance.close()
    sock = embedded.bind(config)
    metrics = Path(tempfile.mkdtemp(prefix="glasspane-metrics-"))
    server_metrics.prepare_multiprocess(metrics)  # /metrics adds up every worker's counts
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_worker, args=(config, sock), name=f"glasspane-worker-{n}")
        for n in range(workers)
    ]
    for child in children:
        child.start()

    def forward(signum: int) -> None:
        for child in children:
            if child.pid and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, lambda *_: forward(signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: forward(signal.SIGTERM))
    signal.signal(signal.SIGHUP, lambda *_: forward(signal.SIGHUP))
    for child in children:
        child.join()
    sock.close()
    shutil.rmtree(metrics, ignore_errors=True)
    failed = [c.name for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        sys.exit(f"glasspane workers ended with an error: {', '.join(failed)}")


def _worker(config: Config, sock: socket.socket) -> None:
    """One worker process: its own store connection and alert engine, the shared socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into SIGTERM
    instance = Instance(config)
    try:
        signal.signal(signal.SIGHUP, lambda *_: instance.alerts.reload())
        instance.alerts.start()
        _server(config, instance).run(sockets=[sock])
    finally:
        instance.close()
