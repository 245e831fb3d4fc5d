"""Numbers as text: the reference's display of put values, and literal parsing for the assembler.

Floats are printed and rounded by the float semantics themselves
(:mod:`aluvm.semantics.floats.decimal_text`, the same code the ``cnv`` instruction uses); this
module adds the integer and byte-string display and the assembler's literal syntax.

Display (what ``Number``'s ``Display`` prints in rust-aluvm v0.11.0-beta.6, observed in the
disasm vectors and described in shared/spec):

* unsigned integers (A and R registers) pick a style by the value's bit length: up to 12 bits in
  decimal; below 128 bits ``0x`` + upper-case hex; otherwise by register width: up to 16 bytes
  decimal, up to 32 bytes ``0x`` + 64 lower-case hex digits, then ``0x`` + 128 digits while the
  value is below 2**512, else ``0x`` + 256 digits;
* IEEE half/single/double/quad and x87 floats print through the soft-float library's decimal
  printer, bfloat16 as Rust prints the equal f32 (see the float module); an f80 power of two,
  where the library's printer panics, shows its bit pattern;
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
from typing import Optional

from aluvm.semantics.floats import bf16
from aluvm.semantics.floats.decimal_text import apfloat_text, bf16_text, round_decimal, value_text
from aluvm.semantics.floats.formats import BF16, F32, F256, F512, FORMATS, inf_bits, nan_bits

NOT_SUPPORTED = "<not supported float layout for display>"


def float_display(fc: int, bits: int) -> str:
    """The reference's display text of a float register value (put operand)."""
    if fc == BF16:
        return bf16_text(bits)
    if fc in (F256, F512):
        return NOT_SUPPORTED
    text = apfloat_text(fc, bits)
    return text if text is not None else f"0x{bits:0{FORMATS[fc].width // 4}x}"


def float_value_text(fc: int, bits: int) -> Optional[str]:
    """A decimal text of the *true* value (f80 with its integer bit, f256 too), in the same
    style as the reference; ``None`` for f512."""
    if fc == F512:
        return None
    return value_text(fc, bits)


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


SPECIAL_FLOATS = {"inf": (False, "inf"), "+inf": (False, "inf"), "-inf": (True, "inf"),
                  "nan": (False, "nan"), "+nan": (False, "nan"), "-nan": (True, "nan")}


def float_literal_bits(fc: int, text: str) -> Optional[int]:
    """Bits of a decimal/special float literal in format ``fc`` (bf16 via f32, as `half` does:
    the value rounded to f32 first, then to bfloat16, both to nearest-even)."""
    special = SPECIAL_FLOATS.get(text.lower())
    if special is not None:
        neg, cat = special
        if fc == BF16:      # as `half` converts the f32 infinity / NaN
            return bf16.from_f32(inf_bits(F32, neg) if cat == "inf" else nan_bits(F32, neg))
        return inf_bits(fc, neg) if cat == "inf" else nan_bits(fc, neg)
    parsed = parse_decimal(text)
    if parsed is None:
        return None
    neg, value = parsed
    return round_decimal(fc, neg, value.numerator, value.denominator)
