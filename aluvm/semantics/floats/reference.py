"""The reference's float instructions as value functions: arithmetic, neg/abs, comparisons and
the ``cnv`` conversions, on read register values (integer bit patterns, see
:func:`.formats.read`).  Each format goes to the engine the reference uses for it: bf16 to the
``half`` crate's rules (:mod:`.bf16`), the IEEE formats to correctly rounded arithmetic
(:mod:`.ieee`), x87 f80 to the soft-float library's own algorithms (:mod:`.apfloat`);
conversions go through decimal text (:mod:`.decimal_text`).

Panics of the reference (semantics.md §10.1: P7, P8, P9, P10, P11, P22 and the f80 divider
assertions) are raised as :class:`aluvm.errors.Panic`.
"""
from __future__ import annotations

from typing import Optional

from aluvm.errors import Panic
from aluvm.semantics.floats import apfloat, bf16, ieee
from aluvm.semantics.floats.decimal_text import parsed_value, printed_value
from aluvm.semantics.floats.formats import (
    BF16, F80, F256, F512, FORMAT_NAMES, FORMATS, inf_bits, store)

_OP_NOUN = {"add": "addition", "sub": "subtraction", "mul": "multiplication", "div": "division"}


def arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """``a op b`` for add/sub/mul/div on defined operands; stored bits or None (undefined).

    `rnd`: 0 toward zero, 1 nearest-even, 2 floor, 3 ceil.  Status rules (semantics.md §5.1):
    only an OK or INEXACT-only status yields a value; −0 results are stored as +0.
    """
    if fc in ieee.FORMATS_COMPUTED:
        return ieee.arith(op, fc, rnd, a, b)
    if fc == BF16:
        return bf16.arith(op, a, b)
    if fc == F80:
        return apfloat.arith(op, fc, rnd, a, b)
    raise Panic(f"float {_OP_NOUN.get(op, op)} of integer numbers (f512, reference P11)")


def _sign_mask(fc: int) -> int:
    return 1 << 79 if fc == F80 else FORMATS[fc].sign


def neg(fc: int, a: int) -> Optional[int]:
    """Flip the sign of a non-zero value; zero stays +0; f512 (an integer) cannot be negated."""
    if fc == F512:
        return None
    s = _sign_mask(fc)
    if a & (s - 1) == 0:
        return 0
    return store(fc, a ^ s)


def abs_(fc: int, a: int) -> Optional[int]:
    """Clear the sign bit; f512 is an unsigned integer and stays unchanged."""
    if fc == F512:
        return a
    return store(fc, a & (_sign_mask(fc) - 1))


def compare(fc: int, flag: int, a: int, b: int) -> int:
    """``Number::cmp`` / ``rounding_cmp`` on read values: -1, 0 or 1."""
    if fc == F512:
        return (a > b) - (a < b)
    if flag:
        # Defect (semantics.md §3.2): flips the lowest exponent bit, compares raw unsigned.
        m = 1 << FORMATS[fc].rbit
        a, b = a ^ m, b ^ m
        return (a > b) - (a < b)
    if fc == F256:
        raise Panic("IEEE-754 256-bit floats are not yet supported (gt/lt, reference P10)")
    return apfloat.compare(apfloat.decode(fc, a), apfloat.decode(fc, b))


def gt(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``gt.e`` (IEEE order, f80 by stored fields) or ``gt.r`` (defective raw-bit order)."""
    return compare(fc, rounding_flag, a, b) > 0


def lt(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``lt.e`` / ``lt.r``; see :func:`gt`."""
    return compare(fc, rounding_flag, a, b) < 0


def eq(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """Bitwise equality of the read values; both flags agree (same XOR on both sides)."""
    return a == b


def stored_inf(fc: int, neg: bool) -> int:
    """An infinity as a register stores it (f80: without its integer bit)."""
    return store(fc, inf_bits(fc, neg))


def cnv_ff(src: int, dst: int, a: int) -> tuple[Optional[int], bool]:
    """``cnv`` between float formats through decimal text (semantics.md §2.2): (bits, st0).

    Panics are raised in the reference's order: an f512 source (an integer) first, then while
    printing the source, then for an f256/f512 destination, then when parsing ``+Inf``/``-Inf``.
    """
    if src == dst and src != F512:
        return a, True
    if src == F512:
        raise Panic(f"Number layout reshape from u512 to {FORMAT_NAMES[dst]} (reference P8)")
    if src == F256:
        raise Panic("IEEE octal precision layout conversion (reference P8)")
    negative, value = printed_value(src, a)
    if dst == F256:
        raise Panic("IEEE octal precision layout conversion (reference P8)")
    if dst == F512:
        raise Panic("tapered float layout conversion (reference P8)")
    if value is None:                                 # infinity
        if src != BF16 and dst != BF16:
            raise Panic("float layout conversion: '+Inf'/'-Inf' rejected (reference P8)")
        return stored_inf(dst, negative), False
    m, e = value
    num, den = (m * 10 ** e, 1) if e >= 0 else (m, 10 ** -e)
    return parsed_value(dst, negative, num, den), False


def cnv_fa(src: int, a: int, dst_bits: int) -> tuple[Optional[int], bool]:
    """F -> A (semantics.md §2.3): i256 toward zero, saturating; st0 = exact; mod 2**min(M,256).

    f512 reads as an unsigned integer, so it behaves like ``cpy`` (st0 = the value fits).
    """
    if src == F512:
        return a & ((1 << dst_bits) - 1), a.bit_length() <= dst_bits
    if src == BF16:
        raise Panic("BFloat16 to integer conversion (reference P9)")
    value, exact = apfloat.to_i256(FORMATS[src], apfloat.decode(src, a))
    return value & ((1 << min(dst_bits, 256)) - 1), exact


def cnv_af(src_bits: int, a: int, dst: int) -> tuple[Optional[int], bool]:
    """A -> F: the reference reaches ``todo!`` for every defined source (P7)."""
    raise Panic(f"Number layout reshape from u{src_bits} to {FORMAT_NAMES[dst]} (reference P7)")
