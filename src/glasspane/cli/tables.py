"""Plain-text tables for the terminal: aligned columns, numbers on the right."""

from __future__ import annotations

from collections.abc import Sequence

from glasspane.query.trace_tree import format_duration


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None
) -> str:
    """Rows under headers, each column as wide as its widest cell."""
    right = right or [False] * len(headers)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if r else str(c).ljust(w)
            for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def ms(value: float | None) -> str:
    return "--" if value is None else format_duration(value)


def percent(value: float | None) -> str:
    return "--" if value is None else f"{value * 100:.1f}%"


def rate(value: float | None) -> str:
    if value is None:
        return "--"
    return f"{value:.0f}/min" if value >= 10 else f"{value:.2f}/min"
