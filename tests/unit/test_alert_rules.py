"""The alert rules file: the scenario's shape, thresholds, and the errors people see."""

from __future__ import annotations

import pytest

from glasspane.alerts.rules import (
    Action,
    Condition,
    load_rules,
    parse_threshold,
    quote_values,
    written_threshold,
)
from glasspane.errors import ConfigError

SETTINGS = """
settings:
  slack: {"#engineering-alerts": "http://127.0.0.1:9/slack", "#product-alerts": "http://127.0.0.1:9/p"}
  pagerduty: {url: "http://127.0.0.1:9/pd", keys: {blockchain-oncall: R0UTING}}
  email: {host: 127.0.0.1, port: 2525, from: alerts@example.com}
"""

SCENARIO = (
    """
alerts:
  - name: "Blockchain indexer degraded"
    conditions:
      - service: blockchain-indexer
      - error_rate: "> 5%"
      - window: 10 minutes
    actions:
      - slack: "#engineering-alerts"
      - pagerduty: blockchain-oncall

  - name: "Case creation failures"
    conditions:
      - transaction: uploadDocument
      - failure_rate: "> 10%"
      - affected_users: "> 5"
    actions:
      - slack: "#product-alerts"
      - email: product-team@integra.com
"""
    + SETTINGS
)


def test_the_scenario_shape_loads() -> None:
    first, second = load_rules(SCENARIO).rules
    assert first.error is None and second.error is None
    assert first.filters == {"service": "blockchain-indexer"}
    assert first.conditions == [Condition("error_rate", ">", 0.05)]
    assert first.window == 600
    assert first.actions == [
        Action("slack", "#engineering-alerts"),
        Action("pagerduty", "blockchain-oncall"),
    ]
    assert second.conditions == [
        Condition("failure_rate", ">", 0.1),
        Condition("affected_users", ">", 5),
    ]


# Verbatim from the scenario (docs/seed, "3. Alerts Configuration"): unquoted.
SCENARIO_AS_PRINTED = """\
# Sentry Alert Rules
alerts:
  - name: "Blockchain indexer degraded"
    conditions:
      - service: blockchain-indexer
      - error_rate: > 5%
      - window: 10 minutes
    actions:
      - slack: #engineering-alerts
      - pagerduty: blockchain-oncall

  - name: "Case creation failures"
    conditions:
      - transaction: uploadDocument
      - failure_rate: > 10%
      - affected_users: > 5
    actions:
      - slack: #product-alerts
      - email: product-team@integra.com
"""


def test_the_scenario_as_printed_loads() -> None:
    first, second = load_rules(SCENARIO_AS_PRINTED + SETTINGS).rules
    assert first.error is None and second.error is None and not first.warnings
    assert first.filters == {"service": "blockchain-indexer"}
    assert first.conditions == [Condition("error_rate", ">", 0.05)]
    assert first.window == 600
    assert first.actions == [
        Action("slack", "#engineering-alerts"),
        Action("pagerduty", "blockchain-oncall"),
    ]
    assert second.filters == {"transaction": "uploadDocument"}
    assert second.conditions == [
        Condition("failure_rate", ">", 0.1),
        Condition("affected_users", ">", 5),
    ]
    assert second.actions == [
        Action("slack", "#product-alerts"),
        Action("email", "product-team@integra.com"),
    ]
    # Shown as written, not as the fractions they are computed with.
    assert [c.text for c in first.conditions] == ["error_rate > 5%"]
    assert [c.text for c in second.conditions] == ["failure_rate > 10%", "affected_users > 5"]


def test_the_scenario_alone_loads_with_its_channels_unconfigured() -> None:
    """Pasted without ``settings``: the rules run; the actions wait for endpoints."""
    first, second = load_rules(SCENARIO_AS_PRINTED).rules
    assert first.error is None and second.error is None
    assert first.conditions == [Condition("error_rate", ">", 0.05)]
    assert first.actions == []
    assert first.unconfigured == [
        Action("slack", "#engineering-alerts"),
        Action("pagerduty", "blockchain-oncall"),
    ]
    assert first.warnings[0] == (
        'action slack: channel "#engineering-alerts" has no webhook URL in settings.slack '
        '(add "#engineering-alerts": https://hooks.slack.com/...); this action is not sent'
    )


@pytest.mark.parametrize(
    ("line", "rewritten"),
    [
        ("  - error_rate: >= 5% # page me", '  - error_rate: ">= 5%" # page me'),
        ("  - p95: <2s", '  - p95: "<2s"'),
        ("    slack: #ops # the team", '    slack: "#ops" # the team'),
        ('  - slack: #a"b\\c', '  - slack: "#a\\"b\\\\c"'),
        ("  - slack: # a comment", "  - slack: # a comment"),
        ("    name: >", "    name: >"),
        ("  - error_rate: >", "  - error_rate: >"),
        ("  - colour: > red", "  - colour: > red"),
        ('  - error_rate: "> 5%"', '  - error_rate: "> 5%"'),
    ],
)
def test_values_are_quoted_as_meant(line: str, rewritten: str) -> None:
    assert quote_values(f"alerts:\n{line}\nx: 1") == f"alerts:\n{rewritten}\nx: 1"


def test_a_yaml_mistake_in_one_rule_leaves_the_others() -> None:
    text = SCENARIO_AS_PRINTED.replace(
        "      - transaction: uploadDocument", "      - transaction: [uploadDocument"
    )
    first, second = load_rules(text + SETTINGS).rules
    assert first.error is None and first.conditions == [Condition("error_rate", ">", 0.05)]
    assert second.name == "Case creation failures"
    assert second.error is not None
    assert second.error.startswith(
        'Alert rule 2 ("Case creation failures"): not valid YAML: line 15, column'
    )


def test_a_yaml_mistake_outside_the_rules_names_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules(SCENARIO_AS_PRINTED + "settings:\n  slack: {a: [b}\n")
    assert str(caught.value).startswith("alerts.yaml is not valid YAML: line 21, column")


def test_a_bad_rule_is_invalid_and_the_others_load() -> None:
    text = SCENARIO.replace('"> 10%"', '"> ten%"').replace('"#product-alerts"', '"#nowhere"')
    first, second = load_rules(text).rules
    assert first.error is None
    assert second.error == (
        "Alert rule 2 (\"Case creation failures\"): failure_rate: '> ten%' is not a "
        'comparison; write e.g. failure_rate: "> 5%"'
    )


@pytest.mark.parametrize(
    ("metric", "text", "expected"),
    [
        ("error_rate", "> 5%", (">", 0.05)),
        ("error_rate", ">= 0.05", (">=", 0.05)),
        ("p95", "> 2s", (">", 2000.0)),
        ("p95", "< 450ms", ("<", 450.0)),
        ("affected_users", 5, (">", 5.0)),
        ("throughput", "> 40/min", (">", 40.0)),
    ],
)
def test_thresholds(metric: str, text: object, expected: tuple[str, float]) -> None:
    assert parse_threshold(metric, text) == expected


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ("conditions: [{service: a}]", "conditions need at least one metric"),
        ("conditions: [{error_rate: '> 5%'}, {colour: red}]", "unknown condition 'colour'"),
        ("conditions: [{error_rate: '> 5%'}]\n    actions: [{sms: '123'}]", "unknown action 'sms'"),
        ("conditions: [{error_rate: '> 150%'}]", "a rate must be between 0% and 100%"),
        ("conditions: [{error_rate: '> 5%'}, {window: soon}]", "window: 'soon' is not a duration"),
    ],
)
def test_rule_errors_name_rule_and_field(rule: str, error: str) -> None:
    [loaded] = load_rules(f"alerts:\n  - name: r\n    {rule}\n{SETTINGS}").rules
    assert loaded.error is not None
    assert loaded.error.startswith('Alert rule 1 ("r"): ')
    assert error in loaded.error


def test_file_level_errors() -> None:
    with pytest.raises(ConfigError, match="unknown top-level key"):
        load_rules("rules: []")
    with pytest.raises(ConfigError, match="is not valid YAML: line 1, column"):
        load_rules("alerts: [")


def test_windows_line_endings_load_the_same() -> None:
    text = (SCENARIO_AS_PRINTED + SETTINGS).replace("\n", "\r\n")
    assert load_rules(text).rules == load_rules(SCENARIO_AS_PRINTED + SETTINGS).rules


@pytest.mark.parametrize(
    ("text", "written"),
    [("> 5%", "> 5%"), ("  >=0.05 ", ">= 0.05"), ("<450ms", "< 450ms"), (5, "> 5"), ("x", "")],
)
def test_thresholds_keep_their_spelling(text: object, written: str) -> None:
    assert written_threshold(text) == written
