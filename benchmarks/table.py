"""One Markdown table for every benchmark: a row per figure, with what it measures."""

from __future__ import annotations

from dataclasses import dataclass

HEADER = "| benchmark | figure | value | how |\n|---|---|---:|---|"


@dataclass(frozen=True)
class Row:
    """One figure of one benchmark."""

    benchmark: str
    figure: str
    value: str
    how: str = ""

    def markdown(self) -> str:
        """Return the row as a Markdown table row."""
        return f"| {self.benchmark} | {self.figure} | {self.value} | {self.how} |"


def markdown(rows: list[Row]) -> str:
    """Return the rows as one Markdown table."""
    return "\n".join([HEADER, *(row.markdown() for row in rows)])
