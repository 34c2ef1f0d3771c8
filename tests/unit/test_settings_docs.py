"""docs/settings.md lists every setting: its flag, environment variable and default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from glasspane.settings import BY_NAME, SETTINGS, Config, Setting, resolve

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def table_rows() -> dict[str, list[str]]:
    """The settings table: setting name → its cells, in order."""
    rows: dict[str, list[str]] = {}
    for line in DOCS.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z_]+)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[match.group(1)] = cells
    return rows


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_setting_is_documented(setting: Setting) -> None:
    rows = table_rows()
    assert setting.name in rows, f"add a row for {setting.name} to {DOCS}"
    row = " | ".join(rows[setting.name])
    assert f"`{setting.flag}`" in row, f"{setting.name}: flag {setting.flag} missing from its row"
    assert f"`{setting.env}`" in row, f"{setting.name}: variable {setting.env} missing from its row"


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_documented_default_is_current(setting: Setting) -> None:
    cells = table_rows()[setting.name]
    default = cells[4]
    if setting.default == "":
        assert "empty" in default
    else:
        assert f"`{setting.default}`" in default, f"{setting.name}: default {setting.default!r}"


def test_every_documented_setting_exists() -> None:
    stale = sorted(set(table_rows()) - set(BY_NAME))
    assert stale == [], f"{DOCS} documents settings that do not exist: {stale}"


def test_docs_state_the_precedence() -> None:
    text = DOCS.read_text()
    assert "glasspane.toml" in text
    sources = ("command-line flag", "environment variable", "config file", "default")
    order = [text.index(source) for source in sources]
    assert order == sorted(order)


def test_the_typed_config_has_one_field_per_setting_in_order() -> None:
    fields = [(f.name, f.type) for f in dataclasses.fields(Config)]
    assert fields == [(s.name, s.type.__name__) for s in SETTINGS]


def test_config_is_frozen_and_round_trips_its_values() -> None:
    config = resolve({}, environ={})
    assert Config.from_values(config.values) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
