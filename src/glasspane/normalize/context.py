"""What the normalisers know about the request an item arrived in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glasspane.domain import User
from glasspane.normalize.values import mapping, text


@dataclass(frozen=True, slots=True)
class IngestContext:
    project_id: int
    service: str
    received_at: float
    client_ip: str | None = None
    #: The envelope header's dynamic sampling context (``trace``), if any.
    dsc: dict[str, Any] = field(default_factory=dict)
    envelope_event_id: str | None = None
    #: Most child spans kept per transaction (0: no limit); see normalize.envelope.
    max_spans: int = 0

    def user(self, raw: Any) -> User:
        """A user from the SDK's ``user`` object; ``{{auto}}`` is the client's IP."""
        raw = mapping(raw)
        ip = text(raw.get("ip_address"))
        if ip == "{{auto}}":
            ip = self.client_ip
        return User(
            id=text(raw.get("id")),
            email=text(raw.get("email")),
            username=text(raw.get("username")),
            ip_address=ip,
        )
