"""The alert rules file: parsing and validation.

The scenario's rules load as it prints them::

    alerts:
      - name: "Blockchain indexer degraded"
        conditions:
          - service: blockchain-indexer
          - error_rate: > 5%
          - window: 10 minutes
        actions:
          - slack: #engineering-alerts
          - pagerduty: blockchain-oncall
    settings:
      slack: {"#engineering-alerts": https://hooks.slack.com/...}
      pagerduty: {url: https://events.pagerduty.com/v2/enqueue, keys: {blockchain-oncall: KEY}}
      email: {host: smtp.example.com, port: 587, tls: true, username_env: SMTP_USER,
              password_env: SMTP_PASSWORD, from: alerts@example.com}

To YAML ``> 5%`` starts a block scalar and ``#engineering-alerts`` is a
comment, so before parsing, line by line, a threshold or action value that
begins with ``>``, ``<`` or ``#`` is quoted (:func:`quote_values`). A rule with
a mistake, even a YAML one, is loaded as invalid (with an error naming the rule,
the line or the field); the other rules keep working. An action whose channel
has no endpoint in ``settings`` leaves the rule working, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from glasspane.errors import ConfigError

RATE_METRICS = frozenset({"error_rate", "failure_rate"})
DURATION_METRICS = frozenset({"p50", "p95"})
COUNT_METRICS = frozenset({"throughput", "count", "affected_users", "issue_events"})
METRICS = RATE_METRICS | DURATION_METRICS | COUNT_METRICS
FILTERS = ("service", "transaction", "query")
ACTIONS = ("slack", "pagerduty", "email", "webhook")
OPERATORS = (">=", "<=", ">", "<", "==")
DEFAULT_WINDOW = 600.0

# Possessive and atomic, so that no line of the file costs more than its length
# (``[0-9]*\.?[0-9]+`` tried every split of a long run of digits).
_COMPARISON = re.compile(
    r"^\s*+(>=|<=|>|<|==)?\s*+((?>[0-9]++(?:\.[0-9]++)?|\.[0-9]++))\s*+(%|ms|s|m|min|/min)?\s*+$"
)
_WINDOW = re.compile(
    r"^\s*+(\d++(?:\.\d++)?)\s*+(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*+$"
)
_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A key and the start of its value; the value is sliced off, not matched.
_UNQUOTED = re.compile(r"[ \t]*+(?:-[ \t]*+)?([\w.-]++):[ \t]++(?=[<>#])")
_BLOCK_HEADER = re.compile(r">[-+]?[ \t\r]*+$")


@dataclass(frozen=True, slots=True)
class Condition:
    metric: str
    op: str
    threshold: float  # rates as fractions, durations in ms, counts as counts
    #: The threshold as the rule wrote it (``> 5%``, ``> 2s``), operator first.
    written: str = field(default="", compare=False)

    @property
    def text(self) -> str:
        """``error_rate > 5%``: the condition as the rule wrote it."""
        return f"{self.metric} {self.written or f'{self.op} {self.threshold:g}'}"

    def holds(self, value: float) -> bool:
        return {
            ">": value > self.threshold,
            ">=": value >= self.threshold,
            "<": value < self.threshold,
            "<=": value <= self.threshold,
            "==": value == self.threshold,
        }[self.op]


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # slack | pagerduty | email | webhook
    target: str  # channel name, PagerDuty key name, recipient, URL


@dataclass(slots=True)
class Rule:
    name: str
    conditions: list[Condition] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)
    window: float = DEFAULT_WINDOW
    actions: list[Action] = field(default_factory=list)
    resolve_threshold: float | None = None
    renotify: float | None = None
    issue: int | None = None
    error: str | None = None  # set when the rule is invalid
    #: Actions whose channel has no endpoint in ``settings``: shown, not sent.
    unconfigured: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RulesFile:
    rules: list[Rule] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def quote_values(text: str) -> str:
    """Quote what a person means by ``error_rate: > 5%`` or ``slack: #alerts``.

    Only the values of threshold, ``resolve`` and action keys, and only when they
    begin with ``>``, ``<`` or ``#``; a lone ``>`` (a real block scalar) and
    ``# ...`` (a real comment) stay. A comment after the value is kept. The line
    count is unchanged, so YAML errors still name the right line. One pass over
    the text by index: a megabyte line is copied a couple of times, not a dozen.
    """
    out: list[str] = []
    copied = start = 0  # text[:copied] is in ``out``
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        match = _UNQUOTED.match(text, start, end)
        if match and _means_text(text, match.group(1), match.end(), end):
            value = match.end()
            cut = _comment_start(text, value, end)
            quoted = text[value:cut].strip().replace("\\", "\\\\").replace('"', '\\"')
            out += [text[copied:value], f'"{quoted}"']
            copied = cut
        start = end + 1
    return "".join([*out, text[copied:]]) if out else text


def _means_text(text: str, key: str, value: int, end: int) -> bool:
    """Whether the value at ``text[value:end]`` is a threshold or a channel to quote."""
    if key not in METRICS and key not in ACTIONS and key != "resolve":
        return False
    if _BLOCK_HEADER.match(text, value, end):
        return False  # a real block scalar: the value follows on the next lines
    return not (text[value] == "#" and (value + 1 == end or text[value + 1] in " \t"))


def _comment_start(text: str, value: int, end: int) -> int:
    """Where `` # a comment`` after the value begins (``end`` if none)."""
    found = (text.find(" #", value + 1, end), text.find("\t#", value + 1, end))
    return min([i for i in found if i >= 0], default=end)


def load_rules(text: str, path: str = "alerts.yaml") -> RulesFile:
    """Parse and validate; :class:`ConfigError` only when the file as a whole is unusable."""
    text = quote_values(text)
    broken: dict[int, Rule] = {}
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as whole:
        document, broken = _rule_by_rule(text, path, whole)
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must be a mapping with an `alerts:` list")
    unknown = sorted(set(document) - {"alerts", "settings"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; expected alerts and settings"
        )
    raw_rules = document.get("alerts") or []
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{path}: `alerts` must be a list of rules")
    settings = document.get("settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: `settings` must be a mapping")
    rules = [
        broken.get(index) or _rule(raw, index, settings)
        for index, raw in enumerate(raw_rules, start=1)
    ]
    names = [r.name for r in rules]
    for rule in rules:
        if names.count(rule.name) > 1 and rule.error is None:
            rule.error = f'Alert rule "{rule.name}": the name is used by more than one rule'
    return RulesFile(rules, settings)


def _yaml_problem(exc: yaml.YAMLError, first_line: int = 1) -> str:
    """``line N, column M: what is wrong``, the line counted in the file."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    if mark is None:
        return f"not valid YAML: {what}"
    return f"not valid YAML: line {mark.line + first_line}, column {mark.column + 1}: {what}"


def _rule_by_rule(
    text: str, path: str, whole: yaml.YAMLError
) -> tuple[dict[str, Any], dict[int, Rule]]:
    """The file did not parse: parse each rule of ``alerts:`` on its own.

    A rule that still does not parse becomes an invalid rule naming its line;
    a mistake outside the rules (``settings``) is an error for the whole file.
    """
    lines = text.split("\n")
    chunks = rule_chunks(lines)
    if chunks is None:
        raise ConfigError(f"{path} is {_yaml_problem(whole)}") from None
    block_start, block_end, starts = chunks
    outside = lines[:block_start] + [""] * (block_end - block_start) + lines[block_end:]
    try:
        document = yaml.safe_load("\n".join(outside)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is {_yaml_problem(exc)}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} must be a mapping with an `alerts:` list")
    raw_rules: list[Any] = []
    broken: dict[int, Rule] = {}
    for start, end in zip(starts, [*starts[1:], block_end], strict=True):
        chunk = lines[start:end]
        try:
            parsed = yaml.safe_load("\n".join(["alerts:", *chunk]))
        except yaml.YAMLError as exc:
            index = len(raw_rules) + 1
            name = _name_in(chunk) or f"rule {index}"
            problem = _yaml_problem(exc, start)
            broken[index] = Rule(name, error=f'Alert rule {index} ("{name}"): {problem}')
            raw_rules.append(None)
            continue
        items = parsed.get("alerts") if isinstance(parsed, dict) else None
        raw_rules.extend(items if isinstance(items, list) else [items])
    document["alerts"] = raw_rules
    return document, broken


_TOP_LEVEL_ALERTS = re.compile(r"^alerts:[ \t]*+(?:#.*)?$")
_ITEM = re.compile(r"^([ \t]*+)-(?:[ \t]|$)")
_INDENT = re.compile(r"^[ \t]*+")
_NAME = re.compile(r"^[ \t]*+(?:-[ \t]++)?name:[ \t]*+(.*)$")


def rule_chunks(lines: list[str]) -> tuple[int, int, list[int]] | None:
    """Where ``alerts:`` lists its rules: (first line, end, each rule's first line)."""
    header = next((n for n, line in enumerate(lines) if _TOP_LEVEL_ALERTS.match(line)), None)
    if header is None:
        return None
    indent: int | None = None
    starts: list[int] = []
    end = len(lines)
    for number in range(header + 1, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(_INDENT.match(line).group(0))  # type: ignore[union-attr]
        item = _ITEM.match(line)
        if indent is None:
            if not item:
                return None  # not a block list of rules
            indent = depth
        if depth < indent or (depth == indent and not item):
            end = number
            break
        if item and depth == indent:
            starts.append(number)
    if not starts:
        return None
    return header + 1, end, starts


def _name_in(chunk: list[str]) -> str | None:
    for line in chunk:
        match = _NAME.match(line)
        if match:
            return match.group(1).strip().strip("\"'") or None
    return None


def _pairs(value: Any) -> list[tuple[str, Any]]:
    """Conditions/actions as a list of single-key maps, or one map."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        out: list[tuple[str, Any]] = []
        for item in value:
            if not isinstance(item, dict):
                raise ValueError(f"each entry must be `key: value`, got {item!r}")
            out.extend(item.items())
        return out
    raise ValueError("must be a list of `key: value` entries")


def _rule(raw: Any, index: int, settings: dict[str, Any]) -> Rule:
    name = str(raw.get("name") or f"rule {index}") if isinstance(raw, dict) else f"rule {index}"
    rule = Rule(name=name)
    try:
        if not isinstance(raw, dict):
            raise ValueError("must be a mapping with name, conditions and actions")
        _fill(rule, raw, settings)
    except ValueError as exc:
        rule.error = f'Alert rule {index} ("{name}"): {exc}'
    return rule


def _fill(rule: Rule, raw: dict[str, Any], settings: dict[str, Any]) -> None:
    unknown = sorted(set(raw) - {"name", "conditions", "actions", "resolve", "renotify"})
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    for key, value in _pairs(raw.get("conditions") or []):
        _condition(rule, str(key), value)
    if not rule.conditions:
        raise ValueError(f"conditions need at least one metric ({', '.join(sorted(METRICS))})")
    for key, value in _pairs(raw.get("actions") or []):
        action = _action(str(key), value)
        missing = _missing_settings(action, settings)
        if missing:
            rule.unconfigured.append(action)
            rule.warnings.append(f"{missing}; this action is not sent")
        else:
            rule.actions.append(action)
    if raw.get("resolve") is not None:
        metric = rule.conditions[0]
        rule.resolve_threshold = parse_threshold(metric.metric, raw["resolve"])[1]
    if raw.get("renotify") is not None:
        rule.renotify = parse_window(raw["renotify"], "renotify")


def _condition(rule: Rule, key: str, value: Any) -> None:
    if key in FILTERS:
        if not isinstance(value, (str, int)) or value == "":
            raise ValueError(f"condition {key} needs a value, e.g. {key}: checkout")
        rule.filters[key] = str(value)
    elif key == "window":
        rule.window = parse_window(value, "window")
    elif key == "issue":
        if not isinstance(value, int):
            raise ValueError(f"condition issue must be an issue id, got {value!r}")
        rule.issue = value
    elif key in METRICS:
        op, threshold = parse_threshold(key, value)
        rule.conditions.append(Condition(key, op, threshold, written_threshold(value)))
    else:
        known = ", ".join([*FILTERS, "window", "issue", *sorted(METRICS)])
        raise ValueError(f"unknown condition {key!r}; known: {known}")


def parse_threshold(metric: str, value: Any) -> tuple[str, float]:
    """``"> 5%"`` / ``"> 0.05"`` / ``"> 2s"`` / ``10`` → operator and a number in API units."""
    text = str(value)
    match = _COMPARISON.match(text)
    if not match or isinstance(value, bool):
        raise ValueError(
            f'{metric}: {value!r} is not a comparison; write e.g. {metric}: "> '
            f'{"5%" if metric in RATE_METRICS else "2s" if metric in DURATION_METRICS else "10"}"'
        )
    op, number, unit = match.group(1) or ">", float(match.group(2)), match.group(3)
    if metric in RATE_METRICS:
        if unit not in (None, "%"):
            raise ValueError(f"{metric}: a rate takes % or a fraction, got {value!r}")
        number = number / 100 if unit == "%" else number
        if not 0 <= number <= 1:
            raise ValueError(f"{metric}: a rate must be between 0% and 100%, got {value!r}")
    elif metric in DURATION_METRICS:
        if unit not in (None, "ms", "s", "m", "min"):
            raise ValueError(f"{metric}: a duration takes ms, s or m, got {value!r}")
        number *= {None: 1, "ms": 1, "s": 1000, "m": 60000, "min": 60000}[unit]
    elif unit not in (None, "/min"):
        raise ValueError(f"{metric}: a count takes no unit, got {value!r}")
    return op, number


def written_threshold(value: Any) -> str:
    """``"> 5%"`` → ``> 5%``, ``"  >=2s"`` → ``>= 2s``, ``10`` → ``> 10``: the rule's own
    spelling, spaced one way (the value already passed :func:`parse_threshold`)."""
    match = _COMPARISON.match(str(value))
    if not match:
        return ""
    return f"{match.group(1) or '>'} {match.group(2)}{match.group(3) or ''}"


def parse_window(value: Any, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * 60  # a bare number of minutes
    match = _WINDOW.match(str(value))
    if not match:
        raise ValueError(f"{what}: {value!r} is not a duration; write e.g. {what}: 10 minutes")
    return float(match.group(1)) * _WINDOW_UNITS[match.group(2)[0]]


def _action(kind: str, value: Any) -> Action:
    if kind not in ACTIONS:
        raise ValueError(f"unknown action {kind!r}; known: {', '.join(ACTIONS)}")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"action {kind} needs a target, e.g. {kind}: "
            f"{'#alerts' if kind == 'slack' else 'team@example.com'}"
        )
    target = value.strip()
    if kind == "webhook" and not target.startswith(("http://", "https://")):
        raise ValueError(f"action webhook needs a URL, got {target!r}")
    return Action(kind, target)


def _missing_settings(action: Action, settings: dict[str, Any]) -> str | None:
    """What ``settings`` lacks to deliver the action, if anything."""
    kind, target = action.kind, action.target
    is_url = target.startswith(("http://", "https://"))
    if kind == "slack" and not is_url and target not in (settings.get("slack") or {}):
        return (
            f'action slack: channel "{target}" has no webhook URL in '
            f'settings.slack (add "{target}": https://hooks.slack.com/...)'
        )
    if kind == "pagerduty":
        keys = (settings.get("pagerduty") or {}).get("keys") or {}
        if target not in keys:
            return f'action pagerduty: "{target}" has no routing key in settings.pagerduty.keys'
    if kind == "email" and not (settings.get("email") or {}).get("host"):
        return "action email needs settings.email with host, port and from"
    return None
