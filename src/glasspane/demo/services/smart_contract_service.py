"""smart-contract-service: ``callContract`` — prices, signs and submits the
registry contract call on the RPC endpoint the indexer names.

The gas price is the endpoint's ``eth_gasPrice`` quote plus a priority tip of
up to 100%; a quote that is stale during congestion (the ``timeouts`` fault)
leaves some transactions underpriced, and they never confirm.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any

import sentry_sdk
from flask import Flask, jsonify, request

from glasspane.demo.services import rpc_client, runtime, serving
from glasspane.demo.services.rpc_client import NetworkError, RpcError

SIGNER = "0x5aF3107A4000f9bE5D0C9c4b5e4C1A4fDcBeC8a1"
_KEY = hashlib.sha256(b"glasspane demo signer").digest()  # a demo key, not a real one


def sign(to: str, data: str, gas_limit: int, gas_price: int) -> str:
    """A raw transaction: ``0x`` + hex of its JSON with an HMAC standing in for ECDSA."""
    with sentry_sdk.start_span(op="contract.sign", name="Sign registerDocument transaction"):
        nonce = random.getrandbits(48)
        body = {"from": SIGNER, "to": to, "data": data, "gasLimit": gas_limit}
        body |= {"gasPrice": gas_price, "nonce": nonce, "chainId": 84532}
        payload = json.dumps(body, sort_keys=True).encode()
        body["signature"] = hmac.new(_KEY, payload, hashlib.sha256).hexdigest()
        runtime.work(0.03)
        return "0x" + json.dumps(body).encode().hex()


def build() -> serving.Service:
    app = Flask("smart-contract-service")

    @app.post("/contracts/registry/call", endpoint="callContract")
    def call_contract() -> Any:
        body = request.get_json()
        endpoint = rpc_client.endpoint(body.get("rpc", "primary"))
        sentry_sdk.set_tag("rpc.endpoint", endpoint.name)
        try:
            quote = int(rpc_client.call(endpoint, "eth_gasPrice", []), 16)
            gas_price = int(quote * random.uniform(1.0, 2.0))
            raw = sign(body["to"], body["data"], int(body["gasLimit"]), gas_price)
            tx_hash = rpc_client.call(endpoint, "eth_sendRawTransaction", [raw])
        except (NetworkError, RpcError) as exc:
            sentry_sdk.capture_exception(exc)
            return jsonify(error=type(exc).__name__, message=str(exc)), 502
        return jsonify(txHash=tx_hash, gasPrice=gas_price)

    return serving.Service(app=app)
