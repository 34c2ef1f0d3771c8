"""blockchain-indexer: ``registerOnBlockchain`` — the scenario's failing step.

``blockchain.prepare`` encodes the contract call, ``blockchain.send`` has the
smart-contract-service sign and submit it, ``blockchain.wait`` polls
``eth_getTransactionReceipt`` until two confirmations or 30 seconds, and the
confirmed registration is indexed in SQLite. The ``blockchain`` context
(network, contractAddress, txHash, gasLimit, documentHash, caseId) is on the
scope, so every error carries it; a timeout is captured inside
``blockchain.wait``, so the error sits on that span in the waterfall.

Without the fix every call goes to the ``primary`` endpoint; with
``rpc-fallback`` the endpoint comes from :class:`HealthyProvider`.

Besides traces and errors it sends what the scenario's other screens show:
the ``blockchain.confirmation_time`` distribution (demo milliseconds) and a log
line per confirmation timeout; and its periodic job, the index sync (:func:`sync`,
every minute of wall time: cron schedules are not compressed by ``--speed``),
checks in with the ``indexer-sync`` cron monitor.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sentry_sdk
import sentry_sdk.crons
import sentry_sdk.logger
import sentry_sdk.metrics
from flask import Flask, jsonify, request

from glasspane.demo.faults import RPC_FALLBACK
from glasspane.demo.services import rpc_client, runtime, serving
from glasspane.demo.services.rpc_client import Endpoint, NetworkError, RpcError
from glasspane.demo.services.rpc_fallback import HealthyProvider

NETWORK = "base-sepolia"
CONTRACT = "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb5"
GAS_LIMIT = 500_000
CONFIRMATIONS = 2
CONFIRM_TIMEOUT = 30.0  # demo seconds (floor: 3 s of wall time, for a loaded machine)
POLL_INTERVAL = 4.0  # demo seconds: ethers.js polls every 4 s by default
SYNC_MONITOR = "indexer-sync"
SYNC_EVERY = 60.0  # wall-clock seconds, as the schedule says
SYNC_SCHEDULE: Any = {
    "schedule": {"type": "crontab", "value": "* * * * *"},
    "checkin_margin": 1,  # minutes
    "max_runtime": 1,  # minutes
    "timezone": "UTC",
}
# Not keccak256 (hashlib has none): a stand-in 4-byte selector for the call data.
SELECTOR = hashlib.sha3_256(b"registerDocument(bytes32,string)").hexdigest()[:8]


class TransactionTimeoutError(Exception):
    """The transaction was submitted but not confirmed in time."""


class BlockchainSendError(Exception):
    """The smart-contract-service could not submit the transaction."""


class Index:
    """The indexer's own SQLite database of confirmed registrations."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS registrations (tx_hash TEXT PRIMARY KEY, "
            "case_id TEXT, document_hash TEXT, block_number INTEGER, indexed_at REAL)"
        )
        self._lock = threading.Lock()

    def add(self, tx_hash: str, case_id: str, document_hash: str, block: int) -> None:
        sql = "INSERT OR REPLACE INTO registrations VALUES (?, ?, ?, ?, ?)"
        with sentry_sdk.start_span(op="db.insert", name="INSERT INTO registrations") as span:
            span.set_data("db.system", "sqlite")
            span.set_data("db.statement", sql)
            with self._lock:
                self._db.execute(sql, (tx_hash, case_id, document_hash, block, time.time()))
            runtime.work(0.03)

    def last_block(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(block_number) FROM registrations").fetchone()
        return int(row[0] or 0)


def prepare(document_hash: str, case_id: str) -> str:
    with sentry_sdk.start_span(op="blockchain.prepare", name="Prepare transaction data") as span:
        digest = hashlib.sha256(document_hash.encode()).hexdigest()
        data = "0x" + SELECTOR + digest + case_id.encode().hex().ljust(64, "0")
        span.set_data("documentHash", document_hash)
        span.set_data("caseId", case_id)
        runtime.work(0.1)
        return data


def send(endpoint: Endpoint, data: str) -> str:
    with sentry_sdk.start_span(
        op="blockchain.send", name="Submit transaction to Base Sepolia"
    ) as span:
        span.set_data("gasLimit", GAS_LIMIT)
        span.set_data("rpcEndpoint", endpoint.name)
        answer = runtime.http().post(
            runtime.url("smart-contract-service") + "/contracts/registry/call",
            json={"to": CONTRACT, "data": data, "gasLimit": GAS_LIMIT, "rpc": endpoint.name},
            timeout=runtime.http_timeout(),
        )
        body = answer.json()
        failure = None
        try:
            if answer.status_code != 200:
                raise BlockchainSendError(
                    f"Submitting the transaction failed: {body.get('message')}"
                )
            span.set_data("txHash", body["txHash"])
        except BlockchainSendError as exc:
            failure = _report(span, "unavailable", exc)
    if failure is not None:
        raise failure  # outside the span: leaving it with an exception marks it internal_error
    return str(body["txHash"])


def wait(endpoint: Endpoint, tx_hash: str) -> dict[str, Any]:
    """The receipt once confirmed; TransactionTimeoutError after CONFIRM_TIMEOUT."""
    with sentry_sdk.start_span(
        op="blockchain.wait", name="Wait for transaction confirmation"
    ) as span:
        span.set_data("txHash", tx_hash)
        span.set_data("confirmations", CONFIRMATIONS)
        failure: Exception | None = None
        receipt = None
        began = time.monotonic()
        try:
            receipt = _poll(endpoint, tx_hash)
            if receipt is None:
                sentry_sdk.logger.error(
                    "Confirmation timed out: {tx_hash} on {endpoint} after {seconds} s",
                    tx_hash=tx_hash,
                    endpoint=endpoint.name,
                    seconds=round(CONFIRM_TIMEOUT),
                )
                raise TransactionTimeoutError(
                    f"Transaction {tx_hash[:10]}... not confirmed after "
                    f"{CONFIRM_TIMEOUT:.0f} seconds"
                )
            span.set_data("blockNumber", int(receipt["blockNumber"], 16))
            span.set_data("gasUsed", str(int(receipt["gasUsed"], 16)))
            waited_ms = (time.monotonic() - began) * runtime.config().speed * 1000.0
            sentry_sdk.metrics.distribution(
                "blockchain.confirmation_time",
                round(waited_ms, 1),
                unit="millisecond",
                attributes={"rpc.endpoint": endpoint.name, "network": NETWORK},
            )
        except TransactionTimeoutError as exc:
            failure = _report(span, "deadline_exceeded", exc)
        except (NetworkError, RpcError) as exc:
            failure = _report(span, "unavailable", exc)
    if failure is not None or receipt is None:
        raise failure or TransactionTimeoutError(tx_hash)
    return receipt


def _report(span: Any, status: str, exc: Exception) -> Exception:
    """Mark ``span`` and capture ``exc`` while the span is current, so the error sits on it."""
    span.set_status(status)
    sentry_sdk.capture_exception(exc)
    return exc


def _poll(endpoint: Endpoint, tx_hash: str) -> dict[str, Any] | None:
    timeout = runtime.seconds(CONFIRM_TIMEOUT, floor=3.0)
    interval = timeout * POLL_INTERVAL / CONFIRM_TIMEOUT  # 15 polls, even at the floor
    deadline = time.monotonic() + timeout
    for _ in range(int(CONFIRM_TIMEOUT / POLL_INTERVAL) + 2):
        receipt = rpc_client.call(endpoint, "eth_getTransactionReceipt", [tx_hash])
        if receipt:
            head = int(rpc_client.call(endpoint, "eth_blockNumber", []), 16)
            if head - int(receipt["blockNumber"], 16) + 1 >= CONFIRMATIONS:
                return dict(receipt)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(left, interval))
    return None


def sync(index: Index, endpoint: Endpoint) -> None:
    """The periodic job: compare the chain's head with the index, as one cron run.

    Checked in with the ``indexer-sync`` monitor (in progress, then ok or error): an RPC
    failure fails the run, so ``rpc-down`` shows up on the crons page too.
    """
    with (
        sentry_sdk.crons.monitor(monitor_slug=SYNC_MONITOR, monitor_config=SYNC_SCHEDULE),
        sentry_sdk.start_transaction(op="queue.task", name="indexerSync", source="task"),
    ):
        head = int(rpc_client.call(endpoint, "eth_blockNumber", []), 16)
        behind = head - index.last_block()
        sentry_sdk.logger.info(
            "Index sync: head block {head}, index {behind} blocks behind",
            head=head,
            behind=behind,
        )


class Syncer:
    """Runs :func:`sync` every :data:`SYNC_EVERY` seconds, from the moment the demo turns
    the traffic on (every service, the chain node too, is up by then) until stopped."""

    def __init__(self, index: Index, choose: Any) -> None:
        self.index, self.choose = index, choose
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def on_state(self, state: dict[str, Any]) -> None:
        if state.get("traffic") == "on" and self.thread is None:
            self.thread = threading.Thread(target=self._run, name="indexer-sync", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.is_set():
            # A failed run is reported by the monitor's check-in; the next run tries again.
            with contextlib.suppress(NetworkError, RpcError, ValueError):
                sync(self.index, self.choose())
            self.stopped.wait(SYNC_EVERY)


def build() -> serving.Service:
    app = Flask("blockchain-indexer")
    index = Index(Path(runtime.config().workdir) / "blockchain-indexer.sqlite")
    provider = HealthyProvider(rpc_client.endpoints())

    def choose() -> Endpoint:
        if runtime.state().get("fix") == RPC_FALLBACK:
            return provider.choose()
        return rpc_client.endpoint("primary")

    syncer = Syncer(index, choose)
    runtime.on_state_change(syncer.on_state)

    @app.post("/register", endpoint="registerOnBlockchain")
    def register() -> Any:
        body = request.get_json()
        sentry_sdk.set_user(body.get("user"))
        context = {
            "network": NETWORK,
            "contractAddress": CONTRACT,
            "gasLimit": GAS_LIMIT,
            "documentHash": body["documentHash"],
            "caseId": body["caseId"],
        }
        sentry_sdk.set_context("blockchain", context)
        endpoint: Endpoint | None = None
        try:
            endpoint = choose()
            tx_hash = send(endpoint, prepare(body["documentHash"], body["caseId"]))
            sentry_sdk.set_context(
                "blockchain", {**context, "txHash": tx_hash, "rpc": endpoint.name}
            )
            receipt = wait(endpoint, tx_hash)
        except TransactionTimeoutError as exc:
            return jsonify(error="TransactionTimeoutError", message=str(exc)), 504
        except (NetworkError, RpcError, BlockchainSendError) as exc:  # each reported where raised
            if endpoint is not None:
                provider.failed(endpoint)
            return jsonify(error=type(exc).__name__, message=str(exc)), 502
        block = int(receipt["blockNumber"], 16)
        index.add(tx_hash, body["caseId"], body["documentHash"], block)
        return jsonify(txHash=tx_hash, blockNumber=block, rpc=endpoint.name)

    return serving.Service(app=app, on_stop=syncer.stop)
