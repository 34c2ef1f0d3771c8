"""auth-worker: ``verifyToken`` — looks the bearer token up in its SQLite database.

The database is built at start from the same user population the browsers
use (``glasspane.demo.users``), so every simulated user's token is known.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import sentry_sdk
from flask import Flask, jsonify, request

from glasspane.demo.services import runtime, serving
from glasspane.demo.users import population

QUERY = (
    "SELECT users.id, users.email, users.country FROM tokens "
    "JOIN users ON users.id = tokens.user_id WHERE tokens.token = ?"
)


def create_database(path: Path) -> None:
    users = population(runtime.config().users, runtime.config().seed)
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TABLE IF EXISTS tokens; DROP TABLE IF EXISTS users;"
            "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, country TEXT);"
            "CREATE TABLE tokens (token TEXT PRIMARY KEY, user_id TEXT);"
        )
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?)", [(u.id, u.email, u.country) for u in users]
        )
        db.executemany("INSERT INTO tokens VALUES (?, ?)", [(u.token, u.id) for u in users])


def build() -> serving.Service:
    app = Flask("auth-worker")
    path = Path(runtime.config().workdir) / "auth-worker.sqlite"
    create_database(path)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db: sqlite3.Connection = local.db
        return db

    @app.post("/verify-token", endpoint="verifyToken")
    def verify_token() -> Any:
        token = (request.get_json(silent=True) or {}).get("token", "")
        with sentry_sdk.start_span(op="db.query", name="SELECT user FROM tokens") as span:
            span.set_data("db.system", "sqlite")
            span.set_data("db.statement", QUERY)
            row = connection().execute(QUERY, (token,)).fetchone()
            runtime.work(0.04)
        if row is None:
            return jsonify(error="Invalid or expired token"), 401
        user = {"id": row[0], "email": row[1], "geo": {"country_code": row[2]}}
        sentry_sdk.set_user(user)
        runtime.work(0.02)
        return jsonify(user=user)

    return serving.Service(app=app)
