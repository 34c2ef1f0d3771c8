"""aaa-service: ``createCase`` — records the arbitration case in SQLite and has
the blockchain-indexer register it, retrying once when the registration fails
(so during a fault ``registerOnBlockchain`` fails more often than the uploads
do, as in the scenario's transactions table).
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


class Cases:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cases (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "case_id TEXT, case_type TEXT, claimant TEXT, user_id TEXT, document_hash TEXT, "
            "status TEXT, tx_hash TEXT, created_at REAL)"
        )
        self._lock = threading.Lock()

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
