"""The scenario's alert rules, pasted as it prints them, in GET /api/v1/alerts and on /alerts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from glasspane.instance import Instance
from glasspane.settings import resolve
from glasspane.web.app import create_app

SEED = Path("/work/shared/seed/000_cb988c0815edede2.txt")

# The scenario's block (its "3. Alerts Configuration"), a broken third rule beside it.
SCENARIO = """\
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
BROKEN = """
  - name: "Broken"
    conditions:
      - error_rate: [> 5%
"""


def test_the_scenario_rules_appear_in_the_api(tmp_path: Path) -> None:
    rules_file = tmp_path / "alerts.yaml"
    rules_file.write_text(SCENARIO + BROKEN)
    instance = Instance(
        resolve({"data_dir": str(tmp_path / "data"), "alerts": str(rules_file)}, environ={})
    )
    try:
        with TestClient(create_app(instance)) as client:
            headers = {"Authorization": f"Bearer {instance.admin_token}"}
            body = client.get("/api/v1/alerts", headers=headers).json()
            page = client.get(f"/alerts?token={instance.admin_token}").text
    finally:
        instance.close()
    assert body["error"] is None
    first, second, broken = body["rules"]
    assert (first["name"], first["state"], first["error"]) == (
        "Blockchain indexer degraded",
        "ok",
        None,
    )
    assert first["conditions"] == ["error_rate > 5%"]
    assert first["threshold"] == 0.05 and first["threshold_text"] == "> 5%"
    assert first["filters"] == {"service": "blockchain-indexer"}
    assert first["actions"] == ["slack: #engineering-alerts", "pagerduty: blockchain-oncall"]
    assert first["warnings"][0].startswith('action slack: channel "#engineering-alerts" has no')
    assert second["name"] == "Case creation failures" and second["state"] == "ok"
    assert second["conditions"] == ["failure_rate > 10%", "affected_users > 5"]
    assert broken["name"] == "Broken" and broken["state"] == "invalid"
    assert broken["error"].startswith('Alert rule 3 ("Broken"): not valid YAML: line 2')
    assert "Case creation failures" in page and "has no webhook URL in settings.slack" in page


def test_the_rules_are_the_scenarios_own() -> None:
    """The text above is the scenario's, byte for byte."""
    if SEED.exists():
        assert SCENARIO in SEED.read_text()
