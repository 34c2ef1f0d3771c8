"""The ten services of the document-upload flow (the scenario's request flow).

The scenario counts ten steps; its first, "React App (CF Worker - Frontend)",
is two processes here: the app in the users' browsers and the Cloudflare
Worker in front of the API. Its tenth step, "Blockchain Indexer (confirm +
index)", is the indexer again, so every step has its own service and every
service its own project. Each runs as its own OS process.

``apdex_ms`` is each project's Apdex threshold T in demo time (divided by
``--speed`` like every other duration): a healthy service keeps most requests
under T, so the degraded one stands out in service health as in the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Framework = Literal["flask", "starlette", "none"]


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # the project name, and so the service name glasspane shows
    module: str  # under glasspane.demo.services
    framework: Framework
    role: str  # one line for the printout
    apdex_ms: float

    @property
    def has_http(self) -> bool:
        return self.framework != "none"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "react-app", "browser", "none", "simulated users' browsers: uploadDocument", 12_000
    ),
    ServiceSpec(
        "frontend-worker",
        "frontend_worker",
        "starlette",
        "the CF Worker in front of the API (Starlette + httpx)",
        12_000,
    ),
    ServiceSpec(
        "trust-platform",
        "trust_platform",
        "flask",
        "POST /api/documents/upload: the flow's conductor",
        12_000,
    ),
    ServiceSpec(
        "auth-worker", "auth_worker", "flask", "verifyToken: SELECT user FROM tokens (SQLite)", 300
    ),
    ServiceSpec(
        "document-service",
        "document_service",
        "flask",
        "processDocument: reads and validates the PDF",
        2_000,
    ),
    ServiceSpec(
        "data-service",
        "data_service",
        "flask",
        "extractMetadata: ai.extract, validation",
        5_000,
    ),
    ServiceSpec(
        "aaa-service", "aaa_service", "flask", "createCase: db.insert, registers the case", 10_000
    ),
    ServiceSpec(
        "blockchain-indexer",
        "blockchain_indexer",
        "flask",
        "registerOnBlockchain: prepare, send, wait, index",
        7_000,
    ),
    ServiceSpec(
        "smart-contract-service",
        "smart_contract_service",
        "flask",
        "callContract: signs and submits the transaction",
        1_500,
    ),
    ServiceSpec(
        "base-sepolia-rpc",
        "chain_node",
        "flask",
        "simulated chain JSON-RPC node: primary, backup-1, backup-2",
        300,
    ),
)

BY_NAME: dict[str, ServiceSpec] = {s.name: s for s in SERVICES}
BROWSER = "react-app"
CHAIN = "base-sepolia-rpc"
RPC_ENDPOINTS: tuple[str, ...] = ("primary", "backup-1", "backup-2")


def start_order() -> list[ServiceSpec]:
    """The chain first, the traffic (browser) last: nothing calls a service not yet up."""
    return (
        [BY_NAME[CHAIN]]
        + [s for s in SERVICES if s.name not in (CHAIN, BROWSER)]
        + [BY_NAME[BROWSER]]
    )
