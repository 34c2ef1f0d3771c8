"""The alert rules file: the scenario's shape, thresholds, and the errors people see."""

from __future__ import annotations

import pytest

from glasspane.alerts.rules import Action, Condition, load_rules, parse_threshold
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


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "      - error_rate: > 5%",
            "alerts.yaml line 6: the value of error_rate starts with '>', which YAML reads as "
            'syntax, not text; quote it: error_rate: "> 5%"',
        ),
        (
            "      - slack: #engineering-alerts",
            "alerts.yaml line 6: the value of slack starts with '#', which YAML reads as "
            'syntax, not text; quote it: slack: "#engineering-alerts"',
        ),
    ],
)
def test_the_scenario_unquoted_names_the_line(line: str, message: str) -> None:
    text = "\n".join(
        [
            "alerts:",
            "  - name: x",
            "    conditions:",
            "      - service: a",
            "      # written as in the scenario",
            line,
        ]
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(text)
    assert str(caught.value) == message


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
        (
            "conditions: [{error_rate: '> 5%'}]\n    actions: [{pagerduty: nobody}]",
            '"nobody" has no routing key in settings.pagerduty.keys',
        ),
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
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_rules("alerts: [")
