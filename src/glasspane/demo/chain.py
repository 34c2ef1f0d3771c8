"""The simulated chain behind the demo's JSON-RPC node (pure: no I/O, time passed in).

One chain (blocks, a mempool, receipts) is seen through several RPC endpoints,
as Base Sepolia is through several providers. Each endpoint has knobs: extra
latency, how many blocks it lags, whether it quotes a stale gas price, whether
it is down, and a share of calls it fails. The chain has knobs too: block
time, the uncongested gas price, and congestion, which raises the base fee
and delays inclusion.

A transaction is included in a block only when its gas price covers the base
fee; an underpriced one stays pending — "Gas price too low during network
congestion", the scenario's root cause. Durations are demo seconds; the node
divides them by ``--speed``.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, fields, replace
from typing import Any

GWEI = 10**9
CHAIN_ID = 84532  # Base Sepolia
MAX_TRANSACTIONS = 50_000  # receipts kept; the oldest are forgotten beyond this
MAX_PENDING = 10_000  # mempool size; the oldest pending are evicted beyond this
MAX_BLOCKS = 5_000  # headers kept for eth_getBlockByNumber


@dataclass(frozen=True)
class ChainKnobs:
    block_time: float = 2.0  # demo seconds between blocks (Base: 2 s)
    gas_price_gwei: float = 1.0  # the base fee without congestion
    congestion: float = 0.0  # 0..1: base fee x (1 + congestion); inclusion odds 1 - c/2


@dataclass(frozen=True)
class EndpointKnobs:
    latency: float = 0.08  # demo seconds, median of what each call takes
    jitter: float = 0.3  # lognormal sigma of the latency
    lag_blocks: int = 0  # how far behind the chain head this node is
    stale_gas_price: bool = False  # quotes the uncongested price whatever the congestion
    down: bool = False  # refuses connections
    error_rate: float = 0.0  # share of calls answered with a JSON-RPC internal error


def with_overrides(knobs: Any, overrides: dict[str, Any]) -> Any:
    """``knobs`` with the named fields replaced; a clear error for an unknown one."""
    known = [f.name for f in fields(knobs)]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"unknown knob(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return replace(knobs, **{k: _like(getattr(knobs, k), k, v) for k, v in overrides.items()})


def _like(current: Any, name: str, value: Any) -> Any:
    """``value`` as the type of the knob's current value (JSON gives ints for floats)."""
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise ValueError(f"knob {name} takes true or false, not {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"knob {name} takes a number, not {value!r}")
    return type(current)(value)


@dataclass
class Block:
    number: int
    timestamp: float
    base_fee: int  # wei
    transactions: list[str] = field(default_factory=list)


@dataclass
class Transaction:
    hash: str
    gas_price: int  # wei
    gas_limit: int
    to: str
    received_at: float
    block: int | None = None


class RpcFailure(Exception):
    """A JSON-RPC error answer: ``code`` and message as the spec defines them."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Chain:
    """Thread-safe: the node's request threads and its block producer share one chain."""

    def __init__(self, now: float, rng: random.Random | None = None) -> None:
        self.knobs = ChainKnobs()
        self.endpoints: dict[str, EndpointKnobs] = {}
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._blocks: OrderedDict[int, Block] = OrderedDict()
        self._blocks[0] = Block(0, now, self.base_fee())
        self._head = 0
        self._pending: OrderedDict[str, Transaction] = OrderedDict()
        self._transactions: OrderedDict[str, Transaction] = OrderedDict()

    # -- knobs -----------------------------------------------------------------
    def base_fee(self) -> int:
        return int(self.knobs.gas_price_gwei * (1 + self.knobs.congestion) * GWEI)

    def endpoint(self, name: str) -> EndpointKnobs:
        return self.endpoints.get(name, EndpointKnobs())

    # -- blocks ----------------------------------------------------------------
    def mine(self, now: float) -> Block:
        """Produce the next block with the pending transactions that pay enough."""
        with self._lock:
            base_fee = self.base_fee()
            odds = 1.0 - self.knobs.congestion / 2
            block = Block(self._head + 1, now, base_fee)
            for tx_hash, tx in list(self._pending.items()):
                if tx.gas_price >= base_fee and self.rng.random() < odds:
                    tx.block = block.number
                    block.transactions.append(tx_hash)
                    del self._pending[tx_hash]
            self._head = block.number
            self._blocks[block.number] = block
            while len(self._blocks) > MAX_BLOCKS:
                self._blocks.popitem(last=False)
            return block

    def _visible_head(self, endpoint: str) -> Block:
        number = max(0, self._head - self.endpoint(endpoint).lag_blocks)
        return self._blocks.get(number) or next(iter(self._blocks.values()))

    # -- what the JSON-RPC methods read and write ------------------------------
    def block_number(self, endpoint: str) -> int:
        with self._lock:
            return self._visible_head(endpoint).number

    def latest_block(self, endpoint: str) -> Block:
        with self._lock:
            return self._visible_head(endpoint)

    def gas_price(self, endpoint: str) -> int:
        if self.endpoint(endpoint).stale_gas_price:
            return int(self.knobs.gas_price_gwei * GWEI)
        return self.base_fee()

    def send_raw(self, raw: str, now: float) -> str:
        """Accept a signed transaction (``0x`` + hex of its JSON); its hash."""
        try:
            body = json.loads(bytes.fromhex(raw.removeprefix("0x")))
            gas_price, gas_limit, to = int(body["gasPrice"]), int(body["gasLimit"]), body["to"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RpcFailure(-32602, f"invalid raw transaction: {exc}") from None
        tx_hash = "0x" + hashlib.sha256(bytes.fromhex(raw.removeprefix("0x"))).hexdigest()
        with self._lock:
            if tx_hash not in self._transactions:
                tx = Transaction(tx_hash, gas_price, gas_limit, to, now)
                self._transactions[tx_hash] = tx
                self._pending[tx_hash] = tx
                self._forget_oldest()
        return tx_hash

    def _forget_oldest(self) -> None:
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        while len(self._transactions) > MAX_TRANSACTIONS:
            old_hash, _ = self._transactions.popitem(last=False)
            self._pending.pop(old_hash, None)

    def receipt(self, tx_hash: str, endpoint: str) -> dict[str, Any] | None:
        """The receipt once the endpoint has seen the block that includes it, else None."""
        with self._lock:
            tx = self._transactions.get(tx_hash)
            visible = self._visible_head(endpoint).number
            if tx is None or tx.block is None or tx.block > visible:
                return None
            return {
                "transactionHash": tx.hash,
                "blockNumber": hex(tx.block),
                "status": "0x1",
                "gasUsed": hex(int(tx.gas_limit * 0.62)),
                "effectiveGasPrice": hex(tx.gas_price),
                "to": tx.to,
            }

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "head": self._head,
                "base_fee_gwei": self.base_fee() / GWEI,
                "pending": len(self._pending),
                "transactions": len(self._transactions),
            }


def call(chain: Chain, endpoint: str, method: str, params: list[Any], now: float) -> Any:
    """One JSON-RPC method on ``endpoint``'s view of the chain; RpcFailure on error."""
    if method == "eth_chainId":
        return hex(CHAIN_ID)
    if method == "eth_blockNumber":
        return hex(chain.block_number(endpoint))
    if method == "eth_syncing":
        behind = chain.endpoint(endpoint).lag_blocks
        if not behind:
            return False
        current = chain.block_number(endpoint)
        return {
            "startingBlock": hex(0),
            "currentBlock": hex(current),
            "highestBlock": hex(current + behind),
        }
    if method == "eth_gasPrice":
        return hex(chain.gas_price(endpoint))
    if method == "eth_getBlockByNumber":  # "latest" only; timestampFloat: blocks < 1 s apart
        block = chain.latest_block(endpoint)
        return {
            "number": hex(block.number),
            "timestamp": hex(int(block.timestamp)),
            "timestampFloat": block.timestamp,
            "baseFeePerGas": hex(block.base_fee),
            "transactions": list(block.transactions),
        }
    if method == "eth_sendRawTransaction":
        if len(params) != 1 or not isinstance(params[0], str):
            raise RpcFailure(-32602, "eth_sendRawTransaction takes one hex string")
        return chain.send_raw(params[0], now)
    if method == "eth_getTransactionReceipt":
        if len(params) != 1 or not isinstance(params[0], str):
            raise RpcFailure(-32602, "eth_getTransactionReceipt takes one transaction hash")
        return chain.receipt(params[0], endpoint)
    raise RpcFailure(-32601, f"the method {method} does not exist/is not available")
