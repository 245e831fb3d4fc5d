"""Floats as decimal text and back, exactly as the reference does it.

The reference converts between float formats by printing the source and parsing the text
(``cnv``, semantics.md §2.2), and its disassembly prints put values with the same printers, so
both go through this module:

* every format but bf16 prints through the soft-float library's ``Display`` (an APFloat port):
  ``2 + P*59/196`` significant digits taken from the exact binary expansion (truncated first,
  then rounded half-up on one digit), trailing zeros dropped, scientific notation (``1.5E+27``)
  when the exponent is far from the digits; zero is ``0`` / ``-0``, infinities ``+Inf`` /
  ``-Inf``, NaN ``NaN``.  The library's f80 has no integer bit, so an f80 prints the value
  *without* it, and a zero stored fraction under a non-zero exponent makes the printer panic;
* bf16 prints as Rust prints the equal f32 (``core::num::flt2dec``): the shortest digits that
  read back, never in scientific notation (``inf`` / ``-inf`` / ``NaN``);
* parsing rounds the exact decimal value once, to nearest-even (bf16: to f32 first, then to
  bf16, as ``half`` does); overflow gives infinity.
"""
from __future__ import annotations

from typing import Optional

from aluvm.errors import Panic
from aluvm.semantics.floats import apfloat, bf16
from aluvm.semantics.floats.formats import BF16, F32, F80, FORMATS, inf_bits, store

# ---------------------------------------------------------------------------------------------
# Digits


def apfloat_digits(sig: int, exp: int, ndigits: int) -> tuple[int, int]:
    """The library printer's digits of ``sig * 2**exp`` (sig > 0) as (M, E) meaning M * 10**E.

    Truncates the exact expansion to about ``ndigits`` digits' worth of bits, then rounds
    half-up on the single next digit (no sticky bit), exactly like the library.  M may end in
    zeros.
    """
    tz = (sig & -sig).bit_length() - 1
    sig >>= tz
    exp += tz
    if exp > 0:
        sig <<= exp
        exp = 0
    elif exp < 0:
        sig *= 5 ** -exp
    required = (ndigits * 196 + 58) // 59
    discard = max(0, sig.bit_length() - required) * 59 // 196
    if discard:
        sig //= 10 ** discard
        exp += discard
    text = str(sig)
    if len(text) > ndigits:
        first = len(text) - ndigits
        sig = int(text[:ndigits]) + (text[ndigits] >= "5")
        exp += first
    return sig, exp


def f32_shortest(bits: int) -> tuple[int, int]:
    """Rust's ``Display`` digits for a positive finite f32 as (M, E) = M * 10**E.

    Follows ``core::num::flt2dec``: ``decode`` (including its quirks: a power-of-two mantissa
    always gets the asymmetric interval, and subnormal bounds are always inclusive) and the
    Dragon shortest mode, which Grisu reproduces whenever it does not fall back to it.
    """
    field, frac = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    if field == 0:
        return _dragon_shortest(frac << 1, 1, 1, -150, True)
    mant, exp = frac | 0x800000, field - 150
    if mant == 0x800000:
        return _dragon_shortest(mant << 2, 1, 2, exp - 2, True)
    return _dragon_shortest(mant << 1, 1, 1, exp - 1, not mant & 1)


def _dragon_shortest(mant: int, minus: int, plus: int, exp: int,
                     inclusive: bool) -> tuple[int, int]:
    """Shortest digits of mant * 2**exp inside (mant-minus, mant+plus) * 2**exp, closest to the
    value, ties rounding up; bounds count when `inclusive` (Steele & White / Dragon4)."""
    k = (((mant + plus - 1).bit_length() + exp) * 1292913986) >> 32
    scale = 1
    if exp < 0:
        scale <<= -exp
    else:
        mant, minus, plus = mant << exp, minus << exp, plus << exp
    if k >= 0:
        scale *= 10 ** k
    else:
        p10 = 10 ** -k
        mant, minus, plus = mant * p10, minus * p10, plus * p10

    def below(a: int, b: int) -> bool:
        return a <= b if inclusive else a < b

    if below(scale, mant + plus):
        k += 1
    else:
        mant, minus, plus = mant * 10, minus * 10, plus * 10
    digits = 0
    count = 0
    while True:
        d, mant = divmod(mant, scale)
        digits = digits * 10 + d
        count += 1
        down = below(mant, minus)
        up = below(scale, mant + plus)
        if down or up:
            break
        mant, minus, plus = mant * 10, minus * 10, plus * 10
    if up and (not down or 2 * mant >= scale):
        digits += 1
    return digits, k - count


def printed_value(src: int, a: int) -> tuple[bool, Optional[tuple[int, int]]]:
    """(negative, (M, E)) of the reference's text of a read value, M * 10**E; None for an
    infinity.  Raises the reference's panic for an f80 zero stored fraction (no digits)."""
    if src == BF16:
        f32 = a << 16
        mag = f32 & 0x7FFFFFFF
        neg = bool(f32 >> 31)
        if mag == 0x7F800000:
            return neg, None
        return neg, (f32_shortest(mag) if mag else (0, 0))
    cat, neg, exp, sig = apfloat.decode(src, a)
    if cat == apfloat.INF:
        return neg, None
    if cat == apfloat.ZERO:
        return neg, (0, 0)
    if sig == 0:
        # An f80 power of two (stored fraction 0, Normal): the digit loop yields nothing and
        # `assert!(!buffer.is_empty())` fires.
        raise Panic("float layout conversion: no characters in buffer (f80 zero fraction)")
    f = FORMATS[src]
    return neg, apfloat_digits(sig, exp - (f.prec - 1), f.digits)


# ---------------------------------------------------------------------------------------------
# Text


def _strip(m: int, e: int) -> tuple[str, int]:
    while m and m % 10 == 0:
        m //= 10
        e += 1
    return str(m), e


def _apfloat_layout(neg: bool, digits: str, dexp: int, ndigits: int, width: int = 3) -> str:
    """The library's layout: plain unless the exponent is far from the digits."""
    sign = "-" if neg else ""
    n = len(digits)
    if dexp >= 0:
        scientific = dexp > width or n + dexp > ndigits
    else:
        msd = dexp + n - 1
        scientific = msd < 0 and -msd > width
    if scientific:
        frac = digits[1:] or "0"
        return f"{sign}{digits[0]}.{frac}E{dexp + n - 1:+d}"
    return _plain_layout(neg, digits, dexp)


def _plain_layout(neg: bool, digits: str, dexp: int) -> str:
    sign = "-" if neg else ""
    if dexp >= 0:
        return sign + digits + "0" * dexp
    n, unit = len(digits), -dexp
    if unit < n:
        return f"{sign}{digits[:n - unit]}.{digits[n - unit:]}"
    return f"{sign}0.{'0' * (unit - n)}{digits}"


def _text(fc: int, v: apfloat.Apf) -> Optional[str]:
    cat, neg, exp, sig = v
    if cat == apfloat.NAN:
        return "NaN"
    if cat == apfloat.INF:
        return "-Inf" if neg else "+Inf"
    if cat == apfloat.ZERO:
        return "-0" if neg else "0"
    if sig == 0:
        return None
    f = FORMATS[fc]
    digits, dexp = _strip(*apfloat_digits(sig, exp - (f.prec - 1), f.digits))
    return _apfloat_layout(neg, digits, dexp, f.digits)


def apfloat_text(fc: int, bits: int) -> Optional[str]:
    """The soft-float library's ``Display`` of a register value (any format but bf16 and
    f512; ``None`` where the printer panics: an f80 zero stored fraction)."""
    return _text(fc, apfloat.decode(fc, bits))


def bf16_text(bits: int) -> str:
    """Rust's ``Display`` of the f32 equal to a bfloat16."""
    neg, mag = bool(bits >> 15), (bits & 0x7FFF) << 16
    if mag > 0x7F800000:
        return "NaN"
    if mag == 0x7F800000:
        return "-inf" if neg else "inf"
    if mag == 0:
        return "-0" if neg else "0"
    return _plain_layout(neg, *_strip(*f32_shortest(mag)))


def value_text(fc: int, bits: int) -> Optional[str]:
    """Decimal text of the value a bit pattern denotes, in the reference's style: like
    :func:`apfloat_text`, but f80 read as the x87 hardware reads it (integer bit included;
    pseudo-infinities, pseudo-NaNs and unnormals as NaN) and f256 printed too."""
    if fc == BF16:
        return bf16_text(bits)
    if fc != F80:
        return _text(fc, apfloat.decode(fc, bits))
    neg = bool(bits >> 79 & 1)
    field, mant = (bits >> 64) & 0x7FFF, bits & ((1 << 64) - 1)
    if field == 0x7FFF:
        cat = apfloat.INF if mant == 1 << 63 else apfloat.NAN
        return _text(fc, (cat, neg, 0, 0))
    if mant == 0:
        return _text(fc, (apfloat.ZERO, neg, 0, 0))
    if field and not mant >> 63:
        return "NaN"                      # unnormal: an invalid operand on x87
    f = FORMATS[F80]
    return _text(fc, (apfloat.NORMAL, neg, max(field, 1) - f.max_exp, mant))


# ---------------------------------------------------------------------------------------------
# Parsing


def _round_rne(num: int, den: int, prec: int, min_exp: int, max_exp: int) -> Optional[tuple[int, int]]:
    """Round num/den > 0 to nearest-even with `prec` bits and subnormals.

    Returns (unbiased exponent of the leading bit position, integer significand) where a
    significand below 2**(prec-1) is subnormal (exponent min_exp), or None on overflow.
    """
    e = num.bit_length() - den.bit_length()
    if (num << max(0, -e)) < (den << max(0, e)):
        e -= 1
    e = max(e, min_exp)
    ulp = e - (prec - 1)
    if ulp >= 0:
        q, r = divmod(num, den << ulp)
        d = den << ulp
    else:
        q, r = divmod(num << -ulp, den)
        d = den
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
        if q >> prec:
            q >>= 1
            e += 1
    if e > max_exp:
        return None
    return e, q


def round_decimal(fc: int, neg: bool, num: int, den: int) -> int:
    """The encoding of ±num/den (num >= 0) rounded to nearest-even in format ``fc`` (not f512):
    overflow gives infinity, zero keeps its sign, f80 carries its integer bit."""
    if fc == BF16:
        return bf16.from_f32(round_decimal(F32, neg, num, den))
    f = FORMATS[fc]
    sign = f.sign if neg else 0
    if num == 0:
        return sign
    res = _round_rne(num, den, f.prec, f.min_exp, f.max_exp)
    if res is None:
        return inf_bits(fc, neg)
    e, q = res
    field = e + f.max_exp if q >> (f.prec - 1) else 0
    if fc == F80:
        return sign | (field << 64) | q
    return sign | (field << f.fbits) | (q & f.fmask)


def parsed_value(dst: int, neg: bool, num: int, den: int) -> int:
    """What the reference's parser leaves in a register for ±num/den: the rounded value as
    stored (f80 loses its integer bit), any zero as +0."""
    bits = round_decimal(dst, neg, num, den)
    if bits & (FORMATS[dst].sign - 1) == 0:
        return 0
    return store(dst, bits)
