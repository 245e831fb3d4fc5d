"""bfloat16, as the reference computes it with the ``half`` crate: widen to f32, compute in f32
round-to-nearest, narrow with round-to-nearest-even on the bit pattern.  There is no status, so
overflow gives infinity and the rounding flag is ignored (semantics.md §5.2).
"""
from __future__ import annotations

import struct
from typing import Optional

from aluvm.semantics.floats.ieee import f32_bits, host_op

_II, _FF = struct.Struct("<II"), struct.Struct("<ff")
_FLOAT_INF = float("inf")


def from_f32(bits: int) -> int:
    """``bf16::from_f32``: round-to-nearest-even on the bit pattern; NaN stays NaN."""
    if bits & 0x7FFFFFFF > 0x7F800000:
        return (bits >> 16) | 0x0040
    if bits & 0x8000 and bits & 0x17FFF:
        return (bits >> 16) + 1
    return bits >> 16


def arith(op: str, a: int, b: int) -> Optional[int]:
    """Widen to f32, f32 op (RNE), narrow; the rounding flag is ignored (semantics.md §5.2)."""
    wide: float
    x, y = _FF.unpack(_II.pack(a << 16, b << 16))
    if op == "div" and y == 0.0:
        if x == 0.0 or x != x:
            return None
        wide = _FLOAT_INF if x > 0 else -_FLOAT_INF
    else:
        wide = host_op(op, x, y)
    if wide != wide:
        return None
    r = from_f32(f32_bits(wide))
    return r if r & 0x7FFF else 0
