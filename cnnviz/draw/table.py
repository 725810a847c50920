"""A table as one markdown element: what `st.table` shows, drawn by the browser at a fraction of the cost.

`st.table` renders every cell as a markdown element of its own; the layer table of a LeNet (9 rows, 11 columns)
was 100 of them and about 0.3 s of the page's first render. One markdown table draws the same cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Backslash-escaped in a cell (CommonMark allows it before any ASCII punctuation): markdown's own marks, the
# table's bar, and what Streamlit's markdown reads on top ($ for LaTeX, : for emoji and colour directives).
_SPECIAL = set("\\`*_{}[]()<>#+-.!|$:~&")


def escape(text: object) -> str:
    """`text` as a table cell that shows exactly these characters (no emphasis, links, maths or bars)."""
    return "".join("\\" + c if c in _SPECIAL else c for c in str(text).replace("\n", " "))


def markdown_table(records: Sequence[Mapping[str, object]], *, right: Sequence[str] = ()) -> str:
    """The records (one dict per row, the first row's keys as the columns) as a GFM table; the columns in
    `right` aligned right (numbers). Empty records give an empty string."""
    if not records:
        return ""
    columns = list(records[0])
    head = "| " + " | ".join(escape(c) for c in columns) + " |"
    rule = "|" + "|".join("---:" if c in right else "---" for c in columns) + "|"
    rows = ["| " + " | ".join(escape(r.get(c, "")) for c in columns) + " |" for r in records]
    return "\n".join([head, rule, *rows])


def read_markdown_table(text: str) -> list[dict[str, str]]:
    """The cells of a table `markdown_table` wrote, as text (the inverse, for tests and checks)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    if not lines:
        return []
    split = [_cells(line) for line in lines]
    columns = split[0]
    return [dict(zip(columns, row, strict=True)) for row in split[2:]]


def _cells(line: str) -> list[str]:
    cells, cell, chars = [], [], iter(line.strip()[1:-1])
    for c in chars:
        if c == "\\":
            cell.append(next(chars))
        elif c == "|":
            cells.append("".join(cell).strip())
            cell = []
        else:
            cell.append(c)
    cells.append("".join(cell).strip())
    return cells
