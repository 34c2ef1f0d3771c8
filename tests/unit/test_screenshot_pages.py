"""``scripts/screenshots.py`` photographs every page of the navigation.

The navigation is the ``items`` list of ``base.html`` (and the settings link
beside it); a page added there without a shot in the script's ``SHOTS`` fails
here, so the README's gallery keeps up with the pages.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshots.py"
BASE = ROOT / "src" / "glasspane" / "web" / "ui" / "templates" / "base.html"
#: One navigation item: ("key", "/path", "Label").
ITEM = re.compile(r'\(\s*"[\w-]+"\s*,\s*"(/[^"]*)"\s*,\s*"[^"]+"\s*\)')


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def navigation() -> list[str]:
    """The paths the header links to: the items list and the settings link."""
    html = BASE.read_text()
    items = re.search(r"{%\s*set items = \[(.*?)\]\s*%}", html, re.S)
    assert items, "base.html has no `{% set items = [...] %}` list"
    paths = ITEM.findall(items.group(1))
    paths += re.findall(r'class="account" href="(/[^"]*)"', html)
    return paths


def test_the_navigation_is_read_from_base_html() -> None:
    paths = navigation()
    assert {"/", "/issues", "/explore/spans", "/alerts", "/settings"} <= set(paths)
    assert len(paths) == len(set(paths)) >= 10


def test_every_page_of_the_navigation_has_a_screenshot() -> None:
    shot_paths = {shot.path.split("?")[0] for shot in _script().SHOTS}
    missing = [path for path in navigation() if path not in shot_paths]
    assert not missing, f"add these pages to SHOTS in scripts/screenshots.py: {missing}"


def test_each_shot_has_its_own_file_and_a_caption() -> None:
    shots = _script().SHOTS
    assert len({s.name for s in shots}) == len(shots)
    assert all(s.caption and re.fullmatch(r"[a-z0-9-]+", s.name) for s in shots)


def test_the_gallery_pairs_shots_with_their_captions() -> None:
    script = _script()
    table = script.gallery(script.SHOTS[:3]).splitlines()
    assert table[:2] == ["| | |", "|---|---|"] and len(table) == 4
    first = script.SHOTS[0]
    assert table[2].startswith(f"| ![{first.caption}](docs/screenshots/{first.name}.png)")
    assert table[3].endswith("|  |")  # an odd count leaves the last cell empty
