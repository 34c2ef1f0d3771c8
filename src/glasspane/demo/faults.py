"""The faults the demo can switch on, and the fix, as knobs of the simulated chain.

Every fault hits the ``primary`` RPC endpoint, the one the blockchain-indexer
and the smart-contract-service use until the fix is on. The fix,
``rpc-fallback``, is the scenario's ``getHealthyProvider()``: health-check the
endpoints in order and use the first healthy one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glasspane.demo.chain import ChainKnobs, EndpointKnobs


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    chain: ChainKnobs = field(default_factory=ChainKnobs)
    endpoints: dict[str, EndpointKnobs] = field(default_factory=dict)


NONE = "none"

FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(NONE, "healthy: 2 s blocks, ~80 ms RPC calls"),
        Fault(
            "rpc-latency",
            "the primary RPC endpoint answers in ~8 s instead of ~80 ms "
            "(slow registrations, some NetworkError timeouts)",
            endpoints={"primary": EndpointKnobs(latency=8.0, jitter=0.25)},
        ),
        Fault(
            "timeouts",
            "network congestion (base fee +40%) while the primary RPC node is 8 blocks "
            "behind and quotes the stale gas price: ~40% of transactions are underpriced, "
            "never confirm, and registerOnBlockchain raises TransactionTimeoutError",
            chain=ChainKnobs(congestion=0.4),
            endpoints={"primary": EndpointKnobs(latency=1.5, lag_blocks=8, stale_gas_price=True)},
        ),
        Fault(
            "rpc-down",
            "the primary RPC endpoint refuses connections (RPC connection failures)",
            endpoints={"primary": EndpointKnobs(down=True)},
        ),
    )
}

RPC_FALLBACK = "rpc-fallback"
FIXES: dict[str, str] = {
    RPC_FALLBACK: "blockchain-indexer health-checks primary, backup-1, backup-2 and uses "
    "the first healthy endpoint (the scenario's getHealthyProvider)",
}


def fault_names() -> list[str]:
    return list(FAULTS)


def check_fault(name: str) -> str:
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; choose one of {', '.join(FAULTS)}")
    return name


def check_fix(name: str) -> str:
    if name != NONE and name not in FIXES:
        raise ValueError(f"unknown fix {name!r}; choose {', '.join(FIXES)} or none")
    return name
