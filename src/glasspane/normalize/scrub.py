"""Server-side scrubbing of secrets: pure functions over JSON-like values.

What is replaced by ``[Filtered]``:

* the value of any field whose name looks secret (``password``, ``passwd``,
  ``secret``, ``token``, ``api_key``, ``auth``/``authorization``, ``cookie``,
  ``credentials``, ``private_key``, ``session_id``, ``csrf`` ... and the
  configured extra names), at any depth: event data, request data, headers
  and cookies, breadcrumbs, span data, log attributes;
* ``key=value`` pairs with such a key in query strings and URLs;
* credit card numbers (13-19 digits, spaces or dashes allowed, that pass the
  Luhn check) anywhere in a string.

Numbers and booleans under a secret-looking name are kept: ``input_tokens: 812``
is a count, not a credential. The road not taken: Sentry's "PII" heuristics
(emails, IPs in free text), which would blank the user data the UI is for; the
client IP has its own setting (``store_client_ips``).
"""

from __future__ import annotations

import re
from typing import Any

FILTERED = "[Filtered]"

SENSITIVE_NAMES = (
    r"passw(?:or)?d",
    r"pwd",
    r"secret",
    r"token(?!s)",  # not the counts of LLM spans (gen_ai.usage.input_tokens)
    r"api[-_.]?key",
    r"auth(?!ors?(?![a-z]))",  # authorization, x-sentry-auth, auth_token; not "author"
    r"cookie",
    r"credential",
    r"private[-_.]?key",
    r"access[-_.]?key",
    r"session[-_.]?id",
    r"csrf",
    r"xsrf",
    r"signature",
)

# Both patterns run in linear time on any text (issue J): the card pattern's
# repetition is bounded, and a query pair may start only where a run of name
# characters starts (the lookbehind), so a long run with no "=" after it is read
# once, not once per position as ``([^?&=#\s]+)=`` did.
_CARD = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")
#: A cheap first look: a card number needs 12 digits, spaces or dashes in a row.
MAYBE_CARD = re.compile(r"[0-9][0-9 -]{11}")
_QUERY_PAIR = re.compile(r"(?<![^?&=#\s])([^?&=#\s]++)=([^&#\s]*+)")
#: Field names longer than this are not remembered (each verdict costs its name's memory).
CACHED_NAME_LENGTH = 256
#: Containers nested deeper than this are left as they are (``max_json_depth`` replaces them).
MAX_DEPTH = 32


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = ord(char) - 48
        if position % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


class Scrubber:
    """Scrubs values; ``extra_fields`` adds names (substrings, any case)."""

    def __init__(
        self, extra_fields: str | tuple[str, ...] = (), max_depth: int = MAX_DEPTH
    ) -> None:
        if isinstance(extra_fields, str):
            extra_fields = tuple(f.strip() for f in extra_fields.split(",") if f.strip())
        patterns = [*SENSITIVE_NAMES, *(re.escape(f) for f in extra_fields)]
        self._names = re.compile("|".join(patterns), re.IGNORECASE)
        # Field names repeat across events (thread.id, http.method, ...): remember the
        # verdict rather than run the pattern for every key of every span (ingest hot path).
        self._verdicts: dict[str, bool] = {}
        # Deeper containers are cut by the clamp that follows; stopping there also
        # keeps the recursion far from Python's limit whatever the nesting.
        self.max_depth = max_depth

    def is_sensitive(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            verdict = self._names.search(name) is not None
            if len(self._verdicts) < 50_000 and len(name) <= CACHED_NAME_LENGTH:
                self._verdicts[name] = verdict
        return verdict

    def scrub(self, value: Any, depth: int = 1) -> Any:
        """``value`` with secrets replaced; unchanged values are returned as they are.

        ``depth`` is the nesting level of ``value`` (1 for a field's dict); containers
        deeper than ``max_depth`` are returned unscrubbed, for the clamp to replace.
        """
        if isinstance(value, str):
            return self.scrub_text(value)
        if depth > self.max_depth:
            return value
        if isinstance(value, dict):
            out: dict[Any, Any] | None = None  # copied on the first change only
            for key, item in value.items():
                new = self._field(str(key), item, depth + 1)
                if new is not item:
                    out = dict(value) if out is None else out
                    out[key] = new
            return value if out is None else out
        if isinstance(value, list):
            items = [self._pair(v, depth + 1) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def _pair(self, value: Any, depth: int) -> Any:
        """Headers may come as ``[name, value]`` pairs; the name decides."""
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
            scrubbed = self._field(value[0], value[1], depth + 1)
            return value if scrubbed is value[1] else [value[0], scrubbed]
        return self.scrub(value, depth)

    def _field(self, name: str, value: Any, depth: int) -> Any:
        if self.is_sensitive(name) and isinstance(value, (str, bytes, dict, list)):
            return FILTERED if value not in ("", [], {}) else value
        return self.scrub(value, depth)

    def scrub_text(self, text: str) -> str:
        """Card numbers and secret ``key=value`` query pairs in free text."""
        if "=" in text:
            text = _QUERY_PAIR.sub(self._query_pair, text)
        if MAYBE_CARD.search(text):  # most strings hold no such run
            text = _CARD.sub(_card, text)
        return text

    def _query_pair(self, match: re.Match[str]) -> str:
        if match.group(2) and self.is_sensitive(match.group(1)):
            return f"{match.group(1)}={FILTERED}"
        return match.group(0)


def _card(match: re.Match[str]) -> str:
    digits = match.group(0).replace(" ", "").replace("-", "")
    return FILTERED if luhn_valid(digits) else match.group(0)
