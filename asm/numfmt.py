"""Numbers as text: the reference's display of put values, and literal parsing for the assembler.

Display (what ``Number``'s ``Display`` prints in rust-aluvm v0.11.0-beta.6, observed in the
disasm vectors and described in shared/spec):

* unsigned integers (A and R registers) pick a style by the value's bit length: up to 12 bits in
  decimal; below 128 bits ``0x`` + upper-case hex; otherwise by register width: up to 16 bytes
  decimal, up to 32 bytes ``0x`` + 64 lower-case hex digits, then ``0x`` + 128 digits while the
  value is below 2**512, else ``0x`` + 256 digits;
* IEEE half/single/double/quad and x87 floats print through the soft-float library's decimal
  printer (an APFloat port): ``2 + P*59/196`` significant digits taken from the exact binary
  expansion (truncated first, then rounded half-up on one digit), trailing zeros dropped,
  scientific notation (``1.5E+27``) when the exponent is far from the digits; zero is ``0`` /
  ``-0``, infinities ``+Inf`` / ``-Inf``, NaN ``NaN``.  The x87 object of that library keeps only
  the 63 fraction bits (the explicit integer bit is dropped), so an f80 prints the value *without*
  its integer bit, and an all-ones exponent is always NaN;
* bfloat16 prints as Rust prints the equal f32: the shortest round-trip digits, never in
  scientific notation (``inf``/``-inf``/``NaN``);
* f256 and f512 print ``<not supported float layout for display>``;
* byte strings that are valid UTF-8 print quoted, every character outside 0x20..0x7E replaced by
  its code point in upper-case hex (2, 4 or 8 digits, no delimiter); other byte strings print as
  bare lower-case hex.

Parsing (the assembler's literals): integers in decimal, ``0x`` hex, ``0o`` octal or ``0b``
binary (``_`` separators allowed); decimal floats ``1.5``, ``-2.5e-3``, ``1.0E+10``; ``inf``,
``+Inf``, ``-Inf``, ``NaN``.  Floats are rounded to the register format to nearest-even.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple, Optional

NOT_SUPPORTED = "<not supported float layout for display>"

BF16, F16, F32, F64, F80, F128, F256, F512 = range(8)


class FloatFormat(NamedTuple):
    width: int        # storage bits
    ebits: int        # exponent field bits
    fbits: int        # stored fraction bits (f80: 63, the integer bit is separate)
    explicit: bool    # x87: explicit integer bit at bit 63

    @property
    def prec(self) -> int:
        """Significand precision including the integer bit."""
        return self.fbits + 1

    @property
    def bias(self) -> int:
        return (1 << (self.ebits - 1)) - 1

    @property
    def emax(self) -> int:
        return (1 << self.ebits) - 1

    @property
    def digits(self) -> int:
        """Significant digits of the library's decimal printer."""
        return 2 + self.prec * 59 // 196


FORMATS = (
    FloatFormat(16, 8, 7, False),      # bf16
    FloatFormat(16, 5, 10, False),     # f16
    FloatFormat(32, 8, 23, False),     # f32
    FloatFormat(64, 11, 52, False),    # f64
    FloatFormat(80, 15, 63, True),     # f80 (x87 extended)
    FloatFormat(128, 15, 112, False),  # f128
    FloatFormat(256, 19, 236, False),  # f256
    None,                              # f512: no float semantics (64 bytes of storage)
)
F_WIDTH_BYTES = (2, 2, 4, 8, 10, 16, 32, 64)

# Categories of a decoded float.
ZERO, FINITE, INF, NAN = "zero", "finite", "inf", "nan"


class Decoded(NamedTuple):
    cat: str
    neg: bool
    mant: int = 0     # value = mant * 2**exp (finite only)
    exp: int = 0


def decode_float(fc: int, bits: int, library: bool = False) -> Decoded:
    """Split a bit pattern into its value.

    ``library=True`` decodes f80 the way the reference's soft-float library does (integer bit
    dropped, any all-ones exponent NaN); otherwise f80 follows the x87 hardware rules (pseudo
    denormals/unnormals taken at face value, pseudo-infinities and pseudo-NaNs as NaN).
    """
    fmt = FORMATS[fc]
    assert fmt is not None
    neg = bool(bits >> (fmt.width - 1) & 1)
    if fmt.explicit:
        field = (bits >> 64) & 0x7FFF
        frac = bits & ((1 << 63) - 1)
        ibit = bits >> 63 & 1
        if library:
            if field == 0x7FFF:
                return Decoded(NAN, neg)
            if field == 0 and frac == 0:
                return Decoded(ZERO, neg)
            e = max(field, 1) - fmt.bias - 63
            return Decoded(FINITE, neg, frac, e)
        if field == 0x7FFF:
            if ibit and frac == 0:
                return Decoded(INF, neg)
            return Decoded(NAN, neg)
        mant = frac | (ibit << 63)
        if mant == 0:
            return Decoded(ZERO, neg)
        if field != 0 and not ibit:
            return Decoded(NAN, neg)  # unnormal: invalid operand on x87
        return Decoded(FINITE, neg, mant, max(field, 1) - fmt.bias - 63)
    field = (bits >> fmt.fbits) & fmt.emax
    frac = bits & ((1 << fmt.fbits) - 1)
    if field == fmt.emax:
        return Decoded(INF if frac == 0 else NAN, neg)
    if field == 0:
        if frac == 0:
            return Decoded(ZERO, neg)
        return Decoded(FINITE, neg, frac, 1 - fmt.bias - fmt.fbits)
    return Decoded(FINITE, neg, frac | (1 << fmt.fbits), field - fmt.bias - fmt.fbits)


# ---------------------------------------------------------------------------------------------
# Display


def _apfloat_digits(mant: int, exp: int, precision: int) -> tuple[str, int]:
    """Decimal digits D and exponent E (value = D * 10**E) as the APFloat printer makes them."""
    tz = (mant & -mant).bit_length() - 1
    mant >>= tz
    exp += tz
    if exp >= 0:
        sig, dexp = mant << exp, 0
    else:
        sig, dexp = mant * 5 ** -exp, exp
    # Drop the digits the printer never looks at (a truncation, no rounding).
    required = (precision * 196 + 58) // 59
    discard = max(0, sig.bit_length() - required) * 59 // 196
    if discard:
        sig //= 10 ** discard
        dexp += discard
    while sig % 10 == 0:
        sig //= 10
        dexp += 1
    text = str(sig)
    if len(text) > precision:
        drop = len(text) - precision
        kept = int(text[:precision])
        if text[precision] >= "5":
            kept += 1
        dexp += drop
        while kept % 10 == 0:
            kept //= 10
            dexp += 1
        text = str(kept)
    return text, dexp


def _apfloat_layout(neg: bool, digits: str, dexp: int, precision: int, width: int = 3) -> str:
    sign = "-" if neg else ""
    n = len(digits)
    if dexp >= 0:
        scientific = dexp > width or n + dexp > precision
    else:
        msd = dexp + n - 1
        scientific = msd < 0 and -msd > width
    if scientific:
        e10 = dexp + n - 1
        frac = digits[1:] or "0"
        return f"{sign}{digits[0]}.{frac}E{e10:+d}"
    if dexp >= 0:
        return sign + digits + "0" * dexp
    unit = -dexp
    if unit < n:
        return f"{sign}{digits[:n - unit]}.{digits[n - unit:]}"
    return f"{sign}0.{'0' * (unit - n)}{digits}"


def apfloat_text(fc: int, d: Decoded) -> Optional[str]:
    """The soft-float library's ``Display`` of a decoded value (``None``: the printer panics)."""
    if d.cat == NAN:
        return "NaN"
    if d.cat == INF:
        return "-Inf" if d.neg else "+Inf"
    if d.cat == ZERO:
        return "-0" if d.neg else "0"
    if d.mant == 0:
        return None   # f80 power of two in the library's view: `no characters in buffer` panic
    fmt = FORMATS[fc]
    assert fmt is not None  # decode_float (which made ``d``) already asserted it
    prec = fmt.digits
    digits, dexp = _apfloat_digits(d.mant, d.exp, prec)
    return _apfloat_layout(d.neg, digits, dexp, prec)


def _f32_shortest(mant: int, exp: int) -> tuple[str, int]:
    """Shortest decimal (digits, exponent) that reads back as the same f32 (Rust's `{}`)."""
    value = Fraction(mant) * Fraction(2) ** exp
    # rounding interval of this f32
    if mant == 1 << 23 and exp > -149:
        lo_gap = Fraction(2) ** (exp - 2)
    else:
        lo_gap = Fraction(2) ** (exp - 1)
    hi_gap = Fraction(2) ** (exp - 1)
    inclusive = mant % 2 == 0
    lo, hi = value - lo_gap, value + hi_gap

    def inside(x: Fraction) -> bool:
        if inclusive:
            return lo <= x <= hi
        return lo < x < hi

    top = _decimal_exponent(value)
    for n in range(1, 18):
        k = top - n + 1
        scale = Fraction(10) ** k
        base = value / scale
        fl = base.numerator // base.denominator
        best = None
        for c in (fl, fl + 1):
            if c <= 0:
                continue
            x = c * scale
            if inside(x):
                dist = abs(x - value)
                if best is None or dist < best[0] or (dist == best[0] and c % 2 == 0):
                    best = (dist, c)
        if best is not None:
            c = best[1]
            while c % 10 == 0:
                c //= 10
                k += 1
            return str(c), k
    raise AssertionError("no shortest representation")  # pragma: no cover


def _decimal_exponent(x: Fraction) -> int:
    """floor(log10(x)) for x > 0."""
    e = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def _plain_layout(neg: bool, digits: str, dexp: int) -> str:
    sign = "-" if neg else ""
    if dexp >= 0:
        return sign + digits + "0" * dexp
    n, unit = len(digits), -dexp
    if unit < n:
        return f"{sign}{digits[:n - unit]}.{digits[n - unit:]}"
    return f"{sign}0.{'0' * (unit - n)}{digits}"


def bf16_text(bits: int) -> str:
    """Rust's ``Display`` of the f32 equal to a bfloat16."""
    d = decode_float(F32, bits << 16)
    if d.cat == NAN:
        return "NaN"
    if d.cat == INF:
        return "-inf" if d.neg else "inf"
    if d.cat == ZERO:
        return "-0" if d.neg else "0"
    digits, dexp = _f32_shortest(d.mant, d.exp)
    return _plain_layout(d.neg, digits, dexp)


def float_display(fc: int, bits: int) -> str:
    """The reference's display text of a float register value (put operand)."""
    if fc == BF16:
        return bf16_text(bits)
    if fc in (F256, F512):
        return NOT_SUPPORTED
    text = apfloat_text(fc, decode_float(fc, bits, library=True))
    return text if text is not None else f"0x{bits:0{F_WIDTH_BYTES[fc] * 2}x}"


def float_value_text(fc: int, bits: int) -> Optional[str]:
    """A decimal text of the *true* value (f80 with its integer bit, f256 too), in the same
    style as the reference; ``None`` for f512."""
    if fc == BF16:
        return bf16_text(bits)
    if fc == F512:
        return None
    return apfloat_text(fc, decode_float(fc, bits))


def int_display(value: int, nbytes: int) -> str:
    """The reference's display text of an unsigned register value of ``nbytes`` bytes."""
    bl = value.bit_length()
    if bl <= 12:
        return str(value)
    if bl < 128:
        return f"0x{value:X}"
    if nbytes <= 16:
        return str(value)
    if nbytes <= 32:
        return f"0x{value:064x}"
    if bl < 512:
        return f"0x{value:0128x}"
    # (over 1024 bits the reference's conversion asserts; we print the full width)
    return f"0x{value:0256x}"


def bytes_display(blob: bytes) -> str:
    """The reference's display text of a byte string."""
    try:
        s = blob.decode("utf-8")
    except UnicodeDecodeError:
        return blob.hex()
    out = []
    for ch in s:
        v = ord(ch)
        if 0x20 <= v < 0x7F:
            out.append(ch)
        elif v <= 0xFF:
            out.append(f"{v:02X}")
        elif v <= 0xFFFF:
            out.append(f"{v:04X}")
        else:
            out.append(f"{v:08X}")
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------------------------------------
# Parsing literals


_INT_RE = re.compile(r"^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$")
_FLOAT_RE = re.compile(r"^([+-]?)([0-9][0-9_]*)?(?:\.([0-9_]*))?(?:[eE]([+-]?[0-9]+))?$")


#: a value no register holds, for decimal literals too long to convert (> 4000 digits)
TOO_LARGE = 1 << 16384


def parse_int(text: str) -> Optional[int]:
    """An integer literal (``None`` when the text is not one)."""
    m = _INT_RE.match(text)
    if not m:
        return None
    body = m.group(2).replace("_", "")
    if body[:2].lower() in ("0x", "0o", "0b"):
        v = int(body, 0)
    elif len(body.lstrip("0")) > 4000:
        v = TOO_LARGE
    else:
        v = int(body, 10)
    return -v if m.group(1) == "-" else v


def is_radix_int(text: str) -> bool:
    t = text.lstrip("+-")
    return t[:2].lower() in ("0x", "0o", "0b")


def parse_decimal(text: str) -> Optional[tuple[bool, Fraction]]:
    """A decimal number (integer or float syntax) as (negative, |value|)."""
    m = _FLOAT_RE.match(text)
    if not m or (m.group(2) is None and not m.group(3)):
        return None
    ip = (m.group(2) or "0").replace("_", "")
    fp = (m.group(3) or "").replace("_", "")
    digits = (ip + fp).lstrip("0") or "0"
    exp = int(m.group(4) or 0) - len(fp)
    if len(digits) > 4000:          # keep 4000 digits and a sticky one (rounding is unaffected)
        sticky = "1" if digits[4000:].strip("0") else "0"
        exp += len(digits) - 4001
        digits = digits[:4000] + sticky
    mant = int(digits)
    if mant and len(digits) + exp > 100000:
        return m.group(1) == "-", Fraction(10) ** 100000     # beyond every format: infinity
    if mant and len(digits) + exp < -100000:
        return m.group(1) == "-", Fraction(0)               # below every format: zero
    value = Fraction(mant) * (Fraction(10) ** exp)
    return m.group(1) == "-", value


SPECIAL_FLOATS = {"inf": (False, INF), "+inf": (False, INF), "-inf": (True, INF),
                  "nan": (False, NAN), "+nan": (False, NAN), "-nan": (True, NAN)}


def encode_float(fc: int, neg: bool, value: Fraction) -> int:
    """Round ``value`` (>= 0) to format ``fc`` to nearest-even; overflow gives infinity."""
    fmt = FORMATS[fc]
    assert fmt is not None
    sign = (1 << (fmt.width - 1)) if neg else 0
    if value == 0:
        return sign
    prec = fmt.prec
    emin = 1 - fmt.bias                      # exponent of the smallest normal
    # e: exponent of the leading bit, value in [2**e, 2**(e+1))
    num, den = value.numerator, value.denominator
    e = num.bit_length() - den.bit_length()
    if Fraction(2) ** e > value:
        e -= 1
    e = max(e, emin)
    shift = e - (prec - 1)                  # weight of the last significand bit
    scaled = value / (Fraction(2) ** shift)
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q & 1):
        q += 1
        if q >> prec:
            q >>= 1
            e += 1
    if e > fmt.bias:
        return inf_bits(fc, neg)
    if q >> (prec - 1):
        field = e + fmt.bias
    else:
        field = 0                           # subnormal
    if fmt.explicit:
        return sign | (field << 64) | q     # q carries the integer bit
    return sign | (field << fmt.fbits) | (q & ((1 << fmt.fbits) - 1))


def inf_bits(fc: int, neg: bool) -> int:
    fmt = FORMATS[fc]
    assert fmt is not None
    sign = (1 << (fmt.width - 1)) if neg else 0
    if fmt.explicit:
        return sign | (0x7FFF << 64) | (1 << 63)
    return sign | (fmt.emax << fmt.fbits)


def nan_bits(fc: int, neg: bool = False) -> int:
    """The default quiet NaN."""
    fmt = FORMATS[fc]
    assert fmt is not None
    sign = (1 << (fmt.width - 1)) if neg else 0
    if fmt.explicit:
        return sign | (0x7FFF << 64) | (3 << 62)
    return sign | (fmt.emax << fmt.fbits) | (1 << (fmt.fbits - 1))


def float_literal_bits(fc: int, text: str) -> Optional[int]:
    """Bits of a decimal/special float literal in format ``fc`` (bf16 via f32, as `half` does:
    the value rounded to f32 first, then to bfloat16, both to nearest-even)."""
    special = SPECIAL_FLOATS.get(text.lower())
    if fc == BF16:
        b32 = float_literal_bits(F32, text)
        if b32 is None:
            return None
        return _bf16_from_f32(b32)
    if special is not None:
        neg, cat = special
        return inf_bits(fc, neg) if cat == INF else nan_bits(fc, neg)
    parsed = parse_decimal(text)
    if parsed is None:
        return None
    return encode_float(fc, *parsed)


def _bf16_from_f32(bits: int) -> int:
    if (bits >> 23) & 0xFF == 0xFF and bits & 0x7FFFFF:
        return (bits >> 16) | 0x40          # quiet NaN
    lower = bits & 0xFFFF
    upper = bits >> 16
    if lower > 0x8000 or (lower == 0x8000 and upper & 1):
        upper += 1
    return upper & 0xFFFF
