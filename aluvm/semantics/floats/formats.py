"""The float formats of the F registers, and how the reference stores and reads their bits.

An F register holds the IEEE bit pattern of its format as a plain ``int``.  ``f512`` has no float
semantics in this version (it reads as an unsigned integer); ``f80`` is the x87 extended format,
which the reference's soft-float library stores without its explicit integer bit (§1.4).
"""
from __future__ import annotations

from typing import NamedTuple, Optional

FORMAT_NAMES = ("f16b", "f16", "f32", "f64", "f80", "f128", "f256", "f512")

BF16, F16, F32, F64, F80, F128, F256, F512 = range(8)

# AluVM rounding flag values; the apfloat port uses the same codes.
RND_ZERO, RND_NEAREST, RND_FLOOR, RND_CEIL = 0, 1, 2, 3


class Format(NamedTuple):
    """Static description of one float format, in the soft-float library's terms."""

    width: int      # bits in the register
    ebits: int      # exponent field width
    fbits: int      # stored significand bits (f80: 64, including the explicit integer bit)
    prec: int       # significand precision including the integer bit (library PRECISION)
    max_exp: int    # largest unbiased exponent (also the bias)
    min_exp: int    # smallest normal unbiased exponent
    sign: int       # mask of the sign bit
    emask: int      # exponent field mask (unshifted)
    fmask: int      # stored significand mask
    rbit: int       # the bit the `r` comparison flips (semantics.md §3.2)
    digits: int     # significant digits the library's Display prints


def _fmt(width: int, ebits: int, fbits: int, prec: int) -> Format:
    max_exp = (1 << (ebits - 1)) - 1
    return Format(width, ebits, fbits, prec, max_exp, 1 - max_exp, 1 << (width - 1),
                  (1 << ebits) - 1, (1 << fbits) - 1, fbits, 2 + prec * 59 // 196)


FORMATS = (
    _fmt(16, 8, 7, 8),          # bf16
    _fmt(16, 5, 10, 11),        # f16
    _fmt(32, 8, 23, 24),        # f32
    _fmt(64, 11, 52, 53),       # f64
    _fmt(80, 15, 64, 64),       # f80 (explicit integer bit)
    _fmt(128, 15, 112, 113),    # f128
    _fmt(256, 19, 236, 237),    # f256
)
F512_MASK = (1 << 512) - 1
F80_FRAC = (1 << 63) - 1


# ---------------------------------------------------------------------------------------------
# Storage and reading
# ---------------------------------------------------------------------------------------------

def _store_f80(bits: int) -> int:
    """What the x87 soft-float object re-encodes to: integer bit gone, field 1 shown as 0."""
    field = (bits >> 64) & 0x7FFF
    if field == 1:
        field = 0
    return (bits & (1 << 79)) | (field << 64) | (bits & F80_FRAC)


def store(fc: int, bits: int) -> int:
    """Bits as the reference stores them on any write (semantics.md §1.1, §1.4).

    Every format round-trips its bit pattern except f80, whose ``from_bits`` drops the explicit
    integer bit; ``to_bits`` then prints the lowest binade with exponent field 0.
    """
    if fc == F80:
        return _store_f80(bits & ((1 << 80) - 1))
    if fc == F512:
        return bits & F512_MASK
    return bits & ((1 << FORMATS[fc].width) - 1)


def read(fc: int, bits: int) -> Optional[int]:
    """What an instruction sees (``get_n``): NaN -> None, any zero -> +0; f512 untouched.

    f80 treats every all-ones exponent as NaN, because the infinity test compares the 63-bit
    stored fraction against the integer bit, which is never equal.
    """
    if fc == F512:
        return bits
    if fc == F80:
        bits = _store_f80(bits)
        if (bits >> 64) & 0x7FFF == 0x7FFF:
            return None
        return 0 if bits & ~(1 << 79) == 0 else bits
    f = FORMATS[fc]
    mag = bits & (f.sign - 1)
    if mag > (f.emask << f.fbits):
        return None                          # NaN
    return mag if mag == 0 else bits


def inf_bits(fc: int, neg: bool) -> int:
    """The encoding of an infinity (x87: with its integer bit); not for f512."""
    f = FORMATS[fc]
    sign = f.sign if neg else 0
    if fc == F80:
        return sign | (f.emask << 64) | (1 << 63)
    return sign | (f.emask << f.fbits)


def nan_bits(fc: int, neg: bool = False) -> int:
    """The default quiet NaN (x87: integer bit and quiet bit set); not for f512."""
    f = FORMATS[fc]
    sign = f.sign if neg else 0
    if fc == F80:
        return sign | (f.emask << 64) | (3 << 62)
    return sign | (f.emask << f.fbits) | (1 << (f.fbits - 1))
