"""Output lines of a batch chunk in the common layout, built in cache-sized blocks with numpy.

The common chunk (no ids, no error lines, every output register an a8..a64 register defined in
all rows or in none) has lines ``{"st0":B,"cy0":N,"ca0":N,"regs":{...}}`` whose ``regs`` part
has the same width in every row; only the head (``true``/``false`` and the two decimal numbers)
varies in length.  Each block of :data:`BLOCK` rows is written into a byte matrix kept per
thread (the fixed text stays in place from block to block; only digits and heads are
rewritten), heads right-aligned against the fixed part, so a row's line is one contiguous
slice of its matrix row.  Arrow's string-view -> string cast then copies those slices into one
buffer (a per-row memcpy in C++).  The block size keeps the matrix in the L2 cache: on this
machine, passes over a whole 65,536-line chunk cost more in memory traffic than the work.

Output bytes are exactly :func:`aluvm.tools.jsonl.format_lines`' (tested differentially);
any other chunk returns None and takes that general path.
"""
from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa
from pyarrow._compute import CastOptions, call_function    # (not pyarrow.compute: start-up)

from aluvm.tools.columns import _PAIR_TEXT, Column

#: rows per block (the block's matrix, ~350 bytes a row, stays in a 2 MB L2 cache)
BLOCK = 2048
_PRE = (b'{"st0":false,"cy0":', b'{"st0":true,"cy0":')
_CA0 = b',"ca0":'
_REGS = b',"regs":{'
#: widest head: '{"st0":false,"cy0":' + 5 digits (uint16) + ',"ca0":' + 20 digits (uint64) + ...
_HEAD_MAX = len(_PRE[0]) + 5 + len(_CA0) + 20 + len(_REGS)
_POW10 = np.array([10 ** k for k in range(1, 20)], np.uint64)
_local = threading.local()
_TO_STRING = CastOptions(pa.string())


def _digits(x: np.ndarray) -> np.ndarray:
    """Decimal digit count of each unsigned value."""
    return np.searchsorted(_POW10, x.astype(np.uint64), side="right") + 1


class _Layout:
    """The byte matrix of one output layout (registers and widths) for one thread."""

    def __init__(self, cols: Sequence[Column]) -> None:
        body = b""
        self.slots: list[tuple[int, int]] = []      # (column in the matrix, bytes)
        for c in cols:
            body += ('"' if not body else ',"').encode() + f'{c.key.name}":"'.encode()
            self.slots.append((_HEAD_MAX + len(body), c.key.width))
            body += b"0" * (2 * c.key.width) + b'"'
        body += b"}}\n"
        self.runs = _runs(self.slots)
        self.width = _HEAD_MAX + len(body)
        self.body = len(body)
        self.m = np.zeros((BLOCK, self.width), np.uint8)
        self.m[:, _HEAD_MAX - len(_REGS):] = np.frombuffer(_REGS + body, np.uint8)
        self.views = np.zeros((BLOCK, 4), np.int32)
        self.views[:, 1] = np.frombuffer(b'{"st', np.int32)[0]    # every line's first 4 bytes
        self.starts = np.arange(BLOCK, dtype=np.int32) * self.width + _HEAD_MAX


def _runs(slots: list[tuple[int, int]]) -> list[tuple[int, int, int, int, int]]:
    """Consecutive registers of one width whose hex values are evenly spaced in the line
    (``a16[0]`` .. ``a16[4]``): (first column, width, spacing, first register, count) - each
    run's digits are written with one strided assignment."""
    runs: list[list[int]] = []
    for j, (at, w) in enumerate(slots):
        if runs:
            r = runs[-1]
            if r[1] == w and (r[4] == 1 or at - (r[0] + (r[4] - 1) * r[2]) == r[2]):
                r[2] = at - r[0] if r[4] == 1 else r[2]
                r[4] += 1
                continue
        runs.append([at, w, 0, j, 1])
    return [(a, w, sp, j, k) for a, w, sp, j, k in runs]


def _layout(cols: Sequence[Column]) -> _Layout:
    sig = tuple((c.key.name, c.key.width) for c in cols)
    cache = getattr(_local, "layouts", None)
    if cache is None:
        cache = _local.layouts = {}
    lay = cache.get(sig)
    if lay is None:
        if len(cache) > 8:
            cache.clear()
        lay = cache[sig] = _Layout(cols)
    return lay


def fast_lines(st0: np.ndarray, cy0: np.ndarray, ca0: np.ndarray, cols: Sequence[Column]
               ) -> Optional[list[pa.Buffer]]:
    """The output lines of a chunk as buffers to write in order, or None when the chunk is
    not in the common layout.  ``cols``: the result columns in register order."""
    if any(not c.key.narrow for c in cols):
        return None
    present = []
    for c in cols:
        d = c.defined
        if d.all():
            present.append(c)
        elif d.any():
            return None
    n = len(st0)
    lay = _layout(present)
    out = []
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        out.append(_block(lay, st0[s:e], cy0[s:e], ca0[s:e], [c.values[s:e] for c in present]))
    return out


def _block(lay: _Layout, st0: np.ndarray, cy0: np.ndarray, ca0: np.ndarray,
           values: list[np.ndarray]) -> pa.Buffer:
    b = len(st0)
    m = lay.m[:b]
    for at, w, step, j, k in lay.runs:
        raw = np.empty((b, k), f">u{w}")
        for i in range(k):
            raw[:, i] = values[j + i]
        digits = np.take(_PAIR_TEXT, raw.view(np.uint8))        # (b, k, w) uint16
        ws = min(8, 2 * w)                  # written in words (byte-wise strided is slower)
        dst = np.ndarray((b, k, 2 * w // ws), dtype=f"<u{ws}", buffer=lay.m, offset=at,
                         strides=(lay.width, step, ws))
        dst[...] = digits.view(f"<u{ws}").reshape(b, k, 2 * w // ws)
    dca = _digits(ca0)
    hlen = _flag_heads(m, st0, cy0, ca0, dca) if int(cy0.max()) <= 1 else \
        _grouped_heads(m, st0, cy0, ca0, dca)
    views = lay.views[:b]
    views[:, 0] = hlen + lay.body
    views[:, 3] = lay.starts[:b] - hlen
    arr = pa.Array.from_buffers(pa.string_view(), b, [None, pa.py_buffer(views),
                                                      pa.py_buffer(m)])
    flat = call_function("cast", [arr], _TO_STRING)
    offsets = np.frombuffer(flat.buffers()[1], np.int32)
    return flat.buffers()[2].slice(0, int(offsets[b]))


_END_CA = _HEAD_MAX - len(_REGS)


def _head_table() -> tuple[np.ndarray, np.ndarray]:
    """Heads for cy0 in {0, 1}: row ``dca + 21 * (st0 + 2 * cy0)`` is
    ``{"st0":..,"cy0":c,"ca0":`` and ``dca`` zeros, right-aligned against ``,"regs":{``;
    and the length of each head including ``,"regs":{``."""
    table = np.zeros((84, _END_CA), np.uint8)
    lengths = np.zeros(84, np.int32)
    for cy in (0, 1):
        for st in (0, 1):
            for d in range(1, 21):
                text = _PRE[st] + str(cy).encode() + _CA0 + b"0" * d
                row = d + 21 * (st + 2 * cy)
                table[row, _END_CA - len(text):] = np.frombuffer(text, np.uint8)
                lengths[row] = len(text) + len(_REGS)
    return table, lengths


_HEADS = _head_table()


def _flag_heads(m: np.ndarray, st0: np.ndarray, cy0: np.ndarray, ca0: np.ndarray,
                dca: np.ndarray) -> np.ndarray:
    """Heads when cy0 is a flag (0/1, the usual case): one table gather per block, then the
    digits of ca0 added onto the head's zeros (digits past a value's length are 0)."""
    key = dca + 21 * (st0.astype(np.int64) + 2 * cy0.astype(np.int64))
    table, lengths = _HEADS
    m[:, :_END_CA] = np.take(table, key, axis=0)
    x = ca0.astype(np.uint64)
    for k in range(int(dca.max())):
        m[:, _END_CA - 1 - k] += (x % 10).astype(np.uint8)
        x = x // 10
    return np.take(lengths, key)


def _grouped_heads(m: np.ndarray, st0: np.ndarray, cy0: np.ndarray, ca0: np.ndarray,
                   dca: np.ndarray) -> np.ndarray:
    """Heads in general: rows grouped by head layout (st0, digits of cy0 and ca0)."""
    b = len(st0)
    end_ca = _END_CA
    dcy = _digits(cy0)
    x = ca0.astype(np.uint64)
    for k in range(int(dca.max())):                 # ca0 right-aligned against ',"regs":{'
        m[:, end_ca - 1 - k] = (x % 10).astype(np.uint8) + 48
        x = x // 10
    y = cy0.astype(np.uint64)
    cyd = [(y // 10 ** k % 10).astype(np.uint8) + 48 for k in range(int(dcy.max()))]
    st = st0.astype(np.int64)
    key = (dca * 8 + dcy) * 2 + st                  # rows whose heads have the same layout
    hlen = np.empty(b, np.int32)
    for g in np.unique(key).tolist():
        rows = np.flatnonzero(key == g)
        gs, gcy, gca = g & 1, (g >> 1) % 8, g >> 4
        at = end_ca - gca - len(_CA0)
        m[rows, at:at + len(_CA0)] = np.frombuffer(_CA0, np.uint8)
        for k in range(gcy):
            m[rows, at - 1 - k] = cyd[k][rows]
        pre = _PRE[gs]
        at -= gcy + len(pre)
        m[rows, at:at + len(pre)] = np.frombuffer(pre, np.uint8)
        hlen[rows] = _HEAD_MAX - at
    return hlen


__all__ = ["fast_lines", "BLOCK"]
