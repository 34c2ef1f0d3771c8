"""What the ingest handlers need from the process they run in.

In the process that owns the store, that is the :class:`~glasspane.instance.Instance`
(projects from the store, writes straight to the store). In an ingest worker
process it is a ``WorkerTarget`` (projects from the file the owner publishes,
writes to the journal). The handlers see only this contract.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from glasspane.domain import Batch, Project
from glasspane.settings import Config


class IngestTarget(Protocol):
    @property
    def config(self) -> Config: ...

    def project_by_key(self, key: str) -> Project | None:
        """The project whose DSN public key this is, or ``None``."""
        ...

    def write(self, batch: Batch) -> Future[None]:
        """Store ``batch``; the future resolves once it is durable (a 200 may be sent).

        May raise :class:`~glasspane.errors.StoreError` (e.g. :class:`DiskFull`) at once.
        """
        ...
