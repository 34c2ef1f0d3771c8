"""``glasspane demo``: the scenario of ``seed/000`` happening for real.

Ten services of a document-upload flow run as real HTTP services on local
ports, one OS process each (sentry-sdk keeps one client per process), each
its own glasspane project, each instrumented with the official ``sentry-sdk``
and its Flask or Starlette integration. Simulated users upload generated PDFs;
the trace crosses every service by itself (``requests``/``httpx`` propagate
``sentry-trace`` and ``baggage``). A fault on the simulated chain's RPC node
makes ``registerOnBlockchain`` time out; a fix (RPC fallback with health
checks, the scenario's ``getHealthyProvider``) makes it recover.

Layout, in the order the data flows:

- ``topology``: the ten services, their roles and Apdex thresholds (pure).
- ``faults``: the faults and the fix as knobs of the chain and its endpoints (pure).
- ``users``, ``pdf``, ``chain``: simulated users, tiny real PDFs, the chain model (pure).
- ``services/``: the code each service process runs (``runtime`` is shared).
- ``guard``: the launcher that makes every child die with the demo.
- ``processes``: starting and stopping those children.
- ``target``: the glasspane server the demo sends to; projects and DSNs.
- ``alert_rules`` + ``alerts.yaml``, ``receiver``: the rules file and the local
  webhook/SMTP receiver that prints what the alerts engine sends.
- ``control``: the HTTP control port (switch faults and the fix at run time).
- ``printout``: what the demo prints; ``run``: the orchestration.
"""

from glasspane.errors import GlasspaneError


class DemoError(GlasspaneError):
    """The demo cannot start or keep running; the message says what to do."""
