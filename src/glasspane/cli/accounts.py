"""``glasspane users`` and ``glasspane tokens``: clients of ``/api/v1/users`` and ``/tokens``.

Secrets (a new user's password, a new token) are printed alone on stdout, once,
so a script can capture them; what they are goes to stderr.
"""

from __future__ import annotations

import time
from typing import Any

import click

from glasspane.cli.client import Client, client_options
from glasspane.cli.listing import ago, cell
from glasspane.cli.tables import render_table

ROLES = ("viewer", "member", "admin")  # glasspane.access.roles.ROLES (the CLI is a client)
ROLE_HELP = "viewer (reads), member (also resolves issues, makes tokens), admin (manages)"


@click.group()
def users() -> None:
    """Create, list, change and delete users (admin)."""


def _user(client: Client, name: str) -> dict[str, Any]:
    """The user called ``name`` (or, failing that, with the id ``name``)."""
    listed: list[dict[str, Any]] = client.request("GET", "/api/v1/users")["users"]
    for user in listed:
        if user["name"] == name:
            return user
    for user in listed:
        if str(user["id"]) == name:
            return user
    names = ", ".join(u["name"] for u in listed) or "none yet"
    raise click.ClickException(f"There is no user named {name!r}; users: {names}")


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help=ROLE_HELP)
@client_options
def users_create(
    name: str, role: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Create user NAME with ROLE and print its generated password (shown this once)."""
    user = Client(server, token, data_dir).request(
        "POST", "/api/v1/users", json={"name": name, "role": role}
    )
    click.echo(f"Created {user['name']} ({user['role']}); the password, shown once:", err=True)
    click.echo(user["password"])


@users.command("list")
@client_options
def users_list(server: str | None, token: str | None, data_dir: str | None) -> None:
    """List users with their roles."""
    answer = Client(server, token, data_dir).request("GET", "/api/v1/users")
    now = time.time()
    rows = [
        (str(u["id"]), cell(u["name"]), u["role"], ago(u["created_at"], now))
        for u in answer["users"]
    ]
    click.echo(render_table(("ID", "NAME", "ROLE", "CREATED"), rows, (True, False, False, False)))


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES), required=False)
@click.option("--role", "role_option", type=click.Choice(ROLES), help=ROLE_HELP)
@client_options
def users_set_role(
    name: str,
    role: str | None,
    role_option: str | None,
    server: str | None,
    token: str | None,
    data_dir: str | None,
) -> None:
    """Give user NAME the role ROLE (or --role ROLE)."""
    chosen = role or role_option
    if chosen is None:
        raise click.UsageError(
            f"Name the role: glasspane users set-role {name} viewer|member|admin"
        )
    client = Client(server, token, data_dir)
    user = _user(client, name)
    changed = client.request("PATCH", f"/api/v1/users/{user['id']}", json={"role": chosen})
    click.echo(f"{changed['name']} is now a {changed['role']}")


@users.command("delete")
@click.argument("name")
@client_options
def users_delete(name: str, server: str | None, token: str | None, data_dir: str | None) -> None:
    """Delete user NAME; its tokens and sessions stop working at once."""
    client = Client(server, token, data_dir)
    user = _user(client, name)
    client.request("DELETE", f"/api/v1/users/{user['id']}")
    click.echo(f"Deleted {user['name']}")


@click.group()
def tokens() -> None:
    """Make, list and revoke your personal tokens (for scripts, CI and sentry-cli)."""


@tokens.command("create")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(ROLES), default=None, help="Cap the token below your own role."
)
@client_options
def tokens_create(
    name: str, role: str | None, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Make a personal token called NAME and print it (shown this once)."""
    made = Client(server, token, data_dir).request(
        "POST", "/api/v1/tokens", json={"name": name, "role": role}
    )
    click.echo(f"Token {made['name']} (id {made['id']}), shown once:", err=True)
    click.echo(made["token"])


@tokens.command("list")
@click.option("--all", "everyone", is_flag=True, help="Everyone's tokens (admin).")
@client_options
def tokens_list(
    everyone: bool, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """List your tokens: name, role, creation and last use (never the token)."""
    answer = Client(server, token, data_dir).request(
        "GET", "/api/v1/tokens", params={"all": "true"} if everyone else None
    )
    now = time.time()
    rows = [
        (
            str(t["id"]),
            cell(t["name"]),
            cell(t["user"]),
            t["role"] or "owner's",
            ago(t["created_at"], now),
            ago(t["last_used_at"], now) if t["last_used_at"] else "never",
        )
        for t in answer["tokens"]
    ]
    headers = ("ID", "NAME", "OWNER", "ROLE", "CREATED", "LAST USED")
    click.echo(render_table(headers, rows, (True, False, False, False, False, False)))


@tokens.command("revoke")
@click.argument("token_id")
@client_options
def tokens_revoke(
    token_id: str, server: str | None, token: str | None, data_dir: str | None
) -> None:
    """Revoke your token TOKEN_ID, or the one NAME (see `glasspane tokens list`); it
    stops working at once."""
    client = Client(server, token, data_dir)
    if not token_id.isdigit():
        mine = client.request("GET", "/api/v1/tokens")["tokens"]
        named = [t for t in mine if t["name"] == token_id]
        if len(named) != 1:
            found = "no token" if not named else f"{len(named)} tokens"
            raise click.ClickException(
                f"You have {found} named {token_id!r}; give its id (glasspane tokens list)"
            )
        token_id = str(named[0]["id"])
    client.request("DELETE", f"/api/v1/tokens/{token_id}")
    click.echo(f"Revoked token {token_id}")
