"""Talking to a running server from the CLI: where it is, the token, clean errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


class Client:
    def __init__(self, server: str | None, token: str | None, data_dir: str | None) -> None:
        self.url = (server or os.environ.get("GLASSPANE_URL") or DEFAULT_URL).rstrip("/")
        self.token = token or os.environ.get("GLASSPANE_TOKEN") or self._token_file(data_dir)

    @staticmethod
    def _token_file(data_dir: str | None) -> str | None:
        folder = Path(data_dir or os.environ.get("GLASSPANE_DATA_DIR") or "./glasspane-data")
        path = folder / "admin-token"
        return path.read_text().strip() if path.exists() else None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer; a :class:`click.ClickException` for any failure."""
        if not self.token:
            raise click.ClickException(
                "No token: pass --token (the admin token or a personal token), set "
                "GLASSPANE_TOKEN, or run where ./glasspane-data/admin-token exists (--data-dir)"
            )
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            response = httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"Cannot reach the glasspane server at {self.url} ({exc}); start it with "
                "`glasspane serve` or pass --server / GLASSPANE_URL"
            ) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise click.ClickException(f"{detail} (HTTP {response.status_code})")
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def client_options(func: Any) -> Any:
    """``--server``, ``--token`` and ``--data-dir`` on every client command."""
    func = click.option("--data-dir", default=None, help="Where to find admin-token.")(func)
    func = click.option(
        "--token", default=None, help="Admin token or personal token [GLASSPANE_TOKEN]."
    )(func)
    func = click.option(
        "--server", default=None, help=f"Server URL [GLASSPANE_URL, default {DEFAULT_URL}]."
    )(func)
    return func
