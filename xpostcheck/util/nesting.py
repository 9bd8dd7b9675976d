"""Where a text nests too deeply: the line to name when a recursive parser (tomllib, json) gives
up with RecursionError on arrays or tables nested thousands deep.

In: the text. Out: the 1-based line on which the nesting of [ and { first passes `limit`
(brackets inside strings count too: this only names a line for an error message)."""

from __future__ import annotations

__all__ = ["TOO_DEEP", "deep_line"]

TOO_DEEP = "nested too deeply to read (arrays or tables inside each other thousands deep)"


def deep_line(text: str, limit: int = 100) -> int | None:
    """The line on which the bracket depth first exceeds `limit`; None if it never does."""
    depth = 0
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return None
