"""The last step before the writer: scrub secrets and apply size limits to a Batch.

Both receivers (Sentry envelopes and OTLP) call :func:`sanitize_batch` on the
normalised batch, so every signal passes the same rules in one place. It walks
the domain objects' fields: strings, dicts and lists are scrubbed
(:mod:`.scrub`) then clamped (:mod:`.limits`); nested domain objects (the user,
exceptions and their frames) are walked too. Ids and fingerprints are left
alone, and so are replay recordings and profiles: opaque payloads, bounded by
the item size limit, whose structure the UI needs intact.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from glasspane.domain import Batch, User
from glasspane.normalize.limits import clamp
from glasspane.normalize.scrub import MAYBE_CARD, Scrubber

#: Batch lists whose objects are not walked (see the module docstring).
SKIPPED = frozenset({"outcomes", "replay_recordings", "profiles", "session_aggregates"})
#: Keys that hold the client's IP address in request environments and span data.
IP_KEYS = ("REMOTE_ADDR", "client.address", "http.client_ip", "user.ip_address")


@dataclass(frozen=True, slots=True)
class Policy:
    max_string_length: int = 16384
    max_json_depth: int = 32
    scrubber: Scrubber | None = None
    store_client_ips: bool = True


def sanitize_batch(batch: Batch, policy: Policy) -> Batch:
    """``batch``, changed in place: scrubbed, clamped, and without IPs if so set."""
    for name in _lists(type(batch)):
        for obj in getattr(batch, name):
            _walk(obj, policy)
    return batch


_FIELDS: dict[type, tuple[str, ...]] = {}


def _lists(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in SKIPPED)


#: Field types that hold no text: never walked.
_NUMERIC = frozenset({"int", "float", "bool", "int | None", "float | None", "bool | None"})


def _walked_fields(cls: type) -> tuple[str, ...]:
    """The fields of a domain class worth walking (not ids, not numbers), once per class."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if not (f.name == "id" or f.name.endswith(("_id", "_ids")) or f.name == "fingerprint")
            and str(f.type) not in _NUMERIC
        )
    return names


def _plain(text: str, policy: Policy) -> bool:
    """Nothing to scrub or cut: checked inline, as most strings are (hot path)."""
    return (
        len(text) <= policy.max_string_length
        and "=" not in text
        and (policy.scrubber is None or MAYBE_CARD.search(text) is None)
    )


def _clean(value: Any, policy: Policy, depth: int = 1) -> bool:
    """True when scrubbing and clamping would leave ``value`` as it is.

    One quick pass instead of the two (scrub, then clamp) that would each walk
    it and find nothing to do, which is what most span data and contexts are.
    Anything doubtful (a sensitive name, a string worth a closer look) answers
    False, and the full path decides.
    """
    kind = type(value)
    if kind is str:
        return _plain(value, policy) or _scrubbed_alike(value, policy)
    if kind is dict:
        if depth > policy.max_json_depth:
            return False
        scrubber = policy.scrubber
        limit = policy.max_string_length
        for key, item in value.items():
            if type(key) is not str or len(key) > limit:
                return False
            if scrubber is not None and scrubber.is_sensitive(key):
                return False
            if type(item) is str:
                if not (_plain(item, policy) or _scrubbed_alike(item, policy)):
                    return False
            elif isinstance(item, (dict, list)) and not _clean(item, policy, depth + 1):
                return False
        return True
    if kind is list:
        if depth > policy.max_json_depth:
            return False
        scrubber = policy.scrubber
        for item in value:
            if (
                scrubber is not None
                and type(item) is list
                and len(item) == 2
                and type(item[0]) is str
                and scrubber.is_sensitive(item[0])
            ):
                return False  # a [name, value] header pair whose name is a secret's
            if isinstance(item, (str, dict, list)) and not _clean(item, policy, depth + 1):
                return False
        return True
    return not isinstance(value, (bytes, tuple, set))


def _scrubbed_alike(text: str, policy: Policy) -> bool:
    """A string within the length limit that scrubbing leaves equal (e.g. a long number
    that is no card number)."""
    scrubber = policy.scrubber
    return (
        len(text) <= policy.max_string_length
        and scrubber is not None
        and scrubber.scrub_text(text) == text
    )


def _walk(obj: Any, policy: Policy) -> None:
    if obj.__dataclass_params__.frozen:
        return
    for name in _walked_fields(type(obj)):
        value = getattr(obj, name)
        if not value:
            continue
        kind = type(value)
        if kind is str:
            if _plain(value, policy):
                continue
        elif kind is dict:
            if _clean(value, policy):
                continue
        elif kind is list:
            pass
        elif hasattr(kind, "__dataclass_fields__"):
            _walk(value, policy)
            continue
        elif not isinstance(value, (str, dict, list)):  # numbers, booleans
            continue
        new = _value(value, policy)
        if new is not value:
            setattr(obj, name, new)
    if isinstance(obj, User) and not policy.store_client_ips:
        obj.ip_address = None
    if not policy.store_client_ips:
        _drop_ips(obj)


def _value(value: Any, policy: Policy) -> Any:
    if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
        for item in value:
            _walk(item, policy)
        return value
    if policy.scrubber is not None:
        value = policy.scrubber.scrub(value)
    return clamp(value, policy.max_string_length, policy.max_json_depth)


def _drop_ips(obj: Any) -> None:
    for name in ("request", "data"):
        holder = getattr(obj, name, None)
        if not isinstance(holder, dict):
            continue
        env = holder.get("env")
        for target in (holder, env if isinstance(env, dict) else {}):
            for key in IP_KEYS:
                target.pop(key, None)


def policy_for(config: Any) -> Policy:
    """The policy of the server's settings (``scrub``, ``max_string_length`` ...)."""
    return Policy(
        max_string_length=config.max_string_length,
        max_json_depth=config.max_json_depth,
        scrubber=Scrubber(config.scrub_fields, config.max_json_depth) if config.scrub else None,
        store_client_ips=config.store_client_ips,
    )
