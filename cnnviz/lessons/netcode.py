"""The builder's table of layers as one URL-safe string and back: how a link carries an edited network.

The rows (dicts with the keys of `cnnviz.lessons.layer_rows.COLUMNS`, blanks as None) are written as compact JSON,
compressed with zlib and encoded as URL-safe base64, so names and "same" padding travel as typed. A string
that is not such a table (a truncated or hand-edited link) raises a ValueError that says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections.abc import Sequence

from cnnviz.lessons.layer_rows import COLUMNS

__all__ = ["MAX_LAYERS", "decode_rows", "encode_rows"]

MAX_LAYERS = 64  # rows a link may carry


def _clean(value):
    """A table cell as JSON: NaN and blank become None; whole floats become ints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def encode_rows(rows: Sequence[dict]) -> str:
    """Table rows as a short URL-safe string (blank cells left out)."""
    if len(rows) > MAX_LAYERS:
        raise ValueError(f"a link carries up to {MAX_LAYERS} layers, this table has {len(rows)}")
    compact = [{k: v for k in COLUMNS if (v := _clean(row.get(k))) not in (None, "")} for row in rows]
    raw = json.dumps(compact, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_rows(text: str) -> list[dict]:
    """The rows a link carries (every key of `COLUMNS`, blanks as None), or a ValueError."""
    bad = "the link's table of layers could not be read (it may have been cut short or edited)"
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), bufsize=1 << 16)
        rows = json.loads(raw.decode())
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError) as err:
        raise ValueError(bad) from err
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows) or len(rows) > MAX_LAYERS:
        raise ValueError(bad)
    for row in rows:
        if not set(row) <= set(COLUMNS) or not all(isinstance(v, (int, float, str)) for v in row.values()):
            raise ValueError(bad)
    return [{k: row.get(k) for k in COLUMNS} for row in rows]
