"""aaa-service: ``createCase`` — records the arbitration case in SQLite and has
the blockchain-indexer register it, retrying once when the registration fails
(so during a fault ``registerOnBlockchain`` fails more often than the uploads
do, as in the scenario's transactions table).

It also has the N+1 that glasspane's performance issues find (issue M): to
assemble the case file, ``createCase`` lists the pages of the case type's
filing (one query), then loads each page with a query of its own — the same
statement :data:`PAGE_SQL` with another page number, :data:`FILING_PAGES` times
— where one query for all the pages would do. Each is a ``db`` span named by
its statement, as the SQLAlchemy integration records them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import requests
import sentry_sdk
from flask import Flask, jsonify, request

from glasspane.demo.services import runtime, serving

ATTEMPTS = 2
RETRY_AFTER = 1.0  # demo seconds
FILING_PAGES = 8  # pages of each case type's filing, each loaded on its own (the N+1)
PAGE_QUERY = 0.06  # demo seconds one page query takes
PAGE_QUERY_FLOOR = 0.012  # wall seconds: at any --speed the run costs more than 50 ms
PAGES_SQL = "SELECT page FROM filing_pages WHERE case_type = ? ORDER BY page"
PAGE_SQL = "SELECT heading, body FROM filing_pages WHERE case_type = ? AND page = ?"
CASE_TYPES = ("Commercial", "Construction", "Employment", "Insurance", "Consumer")


class Cases:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cases (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "case_id TEXT, case_type TEXT, claimant TEXT, user_id TEXT, document_hash TEXT, "
            "status TEXT, tx_hash TEXT, created_at REAL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS filing_pages (case_type TEXT, page INTEGER, "
            "heading TEXT, body TEXT, PRIMARY KEY (case_type, page))"
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO filing_pages VALUES (?, ?, ?, ?)",
            [
                (kind, page, f"{kind} filing, page {page}", f"Rule R-{page} applies.")
                for kind in CASE_TYPES
                for page in range(1, FILING_PAGES + 1)
            ],
        )
        self._lock = threading.Lock()

    def filing(self, case_type: str) -> list[tuple[str, str]]:
        """The pages of the case type's filing, loaded one query per page (the N+1)."""
        pages = [row[0] for row in self._query(PAGES_SQL, (case_type,), 0.02)]
        return [self._query(PAGE_SQL, (case_type, page), PAGE_QUERY)[0] for page in pages]

    def _query(self, sql: str, params: tuple[Any, ...], median: float) -> list[Any]:
        with sentry_sdk.start_span(op="db", name=sql) as span:
            span.set_data("db.system", "sqlite")
            with self._lock:
                rows = self._db.execute(sql, params).fetchall()
            time.sleep(runtime.seconds(runtime.sample(median), floor=PAGE_QUERY_FLOOR))
            return rows

    def insert(self, metadata: dict[str, Any], user_id: str, document_hash: str) -> str:
        sql = (
            "INSERT INTO cases (case_type, claimant, user_id, document_hash, status, created_at)"
            " VALUES (?, ?, ?, ?, 'pending', ?)"
        )
        with sentry_sdk.start_span(op="db.insert", name="Create case record") as span:
            span.set_data("db.system", "sqlite")
            span.set_data("db.statement", sql)
            with self._lock:
                row = (metadata.get("case_type"), metadata.get("claimant"), user_id, document_hash)
                cursor = self._db.execute(sql, (*row, time.time()))
                case_id = f"AAA-2025-{cursor.lastrowid:04d}"
                self._db.execute(
                    "UPDATE cases SET case_id = ? WHERE id = ?", (case_id, cursor.lastrowid)
                )
            runtime.work(0.15)
            span.set_data("caseId", case_id)
            return case_id

    def finish(self, case_id: str, status: str, tx_hash: str | None) -> None:
        sql = "UPDATE cases SET status = ?, tx_hash = ? WHERE case_id = ?"
        with sentry_sdk.start_span(op="db.update", name="Update case status") as span:
            span.set_data("db.system", "sqlite")
            span.set_data("db.statement", sql)
            with self._lock:
                self._db.execute(sql, (status, tx_hash, case_id))
            runtime.work(0.02)


def register(case_id: str, document_hash: str, user: dict[str, Any]) -> requests.Response:
    body: dict[str, Any] = {"caseId": case_id, "documentHash": document_hash, "user": user}
    answer = None
    for attempt in range(1, ATTEMPTS + 1):
        answer = runtime.http().post(
            runtime.url("blockchain-indexer") + "/register",
            json=body,
            timeout=runtime.http_timeout(),
        )
        if answer.status_code < 500 or attempt == ATTEMPTS:
            break
        runtime.sleep(RETRY_AFTER)
    assert answer is not None
    return answer


def build() -> serving.Service:
    app = Flask("aaa-service")
    cases = Cases(Path(runtime.config().workdir) / "aaa-service.sqlite")

    @app.post("/cases", endpoint="createCase")
    def create_case() -> Any:
        body = request.get_json()
        user = body["user"]
        sentry_sdk.set_user(user)
        case_id = cases.insert(body["metadata"], user["id"], body["documentHash"])
        cases.filing(str(body["metadata"].get("case_type") or CASE_TYPES[0]))
        answer = register(case_id, body["documentHash"], user)
        result = answer.json()
        if answer.status_code != 200:
            cases.finish(case_id, "registration_failed", None)
            message = (
                "Blockchain confirmation timeout"
                if answer.status_code == 504
                else ("Blockchain registration failed")
            )
            return jsonify(
                caseId=case_id, error=message, detail=result.get("message")
            ), answer.status_code
        cases.finish(case_id, "registered", result["txHash"])
        return jsonify(caseId=case_id, txHash=result["txHash"], blockNumber=result["blockNumber"])

    return serving.Service(app=app)
