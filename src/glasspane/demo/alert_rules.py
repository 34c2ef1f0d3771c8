"""The demo's alert rules file: ``alerts.yaml`` beside this module, with the
local receiver's URLs filled in and the windows divided by ``--speed``.

The template ships as a file (read it: it is the scenario's YAML, quoted so it
parses); this module only substitutes, so the result stays readable.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

_WINDOW = re.compile(r"(window:\s*)(\d+(?:\.\d+)?) minutes")


def template() -> str:
    return resources.files("glasspane.demo").joinpath("alerts.yaml").read_text()


def _scaled(speed: float) -> Any:
    def scale(match: re.Match[str]) -> str:
        if speed == 1:
            return match.group(0)
        seconds = float(match.group(2)) * 60 / speed
        return f"{match.group(1)}{seconds:g} seconds"

    return scale


def render(receiver_url: str, smtp_port: int, speed: float) -> str:
    text = Template(template()).substitute(receiver=receiver_url, smtp_port=smtp_port)
    return _WINDOW.sub(_scaled(speed), text)


def write(path: Path, receiver_url: str, smtp_port: int, speed: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(receiver_url, smtp_port, speed))
    return path
