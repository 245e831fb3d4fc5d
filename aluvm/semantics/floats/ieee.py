"""The IEEE interchange formats (f16, f32, f64, f128, f256): correctly rounded arithmetic with
the soft-float library's status rules, through MPFR (gmpy2) and host-FPU fast paths.

amplify_apfloat rounds correctly, so any correctly rounded engine reproduces its values; what
we add is its status mapping (semantics.md §5.1): OVERFLOW (infinity in the modes that round to
it, ±MAX with INEXACT otherwise), UNDERFLOW (inexact and subnormal/zero *after* rounding),
DIV_BY_ZERO and INVALID all make the result undefined.  Note that gmpy2's overflow flag cannot be
used: it is also raised when a toward-zero mode returns ±MAX, which the reference keeps.
"""
from __future__ import annotations

import struct
from typing import Optional

import gmpy2

from aluvm.semantics.floats.formats import F16, F32, F64, F128, F256, FORMATS, RND_NEAREST, Format

# Wide operands enter MPFR exactly through this context (237-bit significands, huge range).
_EXACT = gmpy2.context(precision=256, emin=-(1 << 30), emax=1 << 30)
_MPFR_ROUND = (gmpy2.RoundToZero, gmpy2.RoundToNearest, gmpy2.RoundDown, gmpy2.RoundUp)
_IEEE_BITS = {F16: 16, F32: 32, F64: 64, F128: 128, F256: 256}


def _make_ctx(fc: int, rnd: int) -> gmpy2.context:
    ctx = gmpy2.ieee(_IEEE_BITS[fc])
    ctx.round = _MPFR_ROUND[rnd]
    return ctx


# One context per (format, rounding mode), built once: creating contexts is the slow part.
# They are only read after this point (inexactness comes from each result's ternary `rc`, not
# from the context flags), so sharing them between threads is safe.
_CTX = {(fc, rnd): _make_ctx(fc, rnd) for fc in _IEEE_BITS for rnd in range(4)}


def _mpfr_op(ctx: gmpy2.context, op: str, x: object, y: object) -> gmpy2.mpfr:
    """One MPFR operation in `ctx` (operands: exact mpfr values or Python floats)."""
    if op == "add":
        return ctx.add(x, y)
    if op == "sub":
        return ctx.sub(x, y)
    if op == "mul":
        return ctx.mul(x, y)
    return ctx.div(x, y)


def _from_mpfr(f: Format, r: gmpy2.mpfr) -> int:
    """Bit pattern of a finite non-zero MPFR value already rounded to the format.

    Pure integer work on purpose: any MPFR arithmetic here would round in the global context.
    """
    m, e = r.as_mantissa_exp()
    m, e = int(m), int(e)
    sign = f.sign if m < 0 else 0
    m = abs(m)
    top = e + m.bit_length() - 1                 # unbiased exponent of the leading bit
    if top >= f.min_exp:
        frac = (m << (f.fbits - (m.bit_length() - 1))) & f.fmask
        return sign | ((top + f.max_exp) << f.fbits) | frac
    shift = e - (f.min_exp - f.fbits)               # subnormal: exact multiple of the min step
    return sign | (m << shift if shift >= 0 else m >> -shift)


def _special(op: str, fc: int, a: int, b: int) -> Optional[int]:
    """Result when an operand is zero, infinite or NaN (the library decides by category)."""
    f = FORMATS[fc]
    sbit = f.sign
    inf = f.emask << f.fbits
    ma, mb = a & (sbit - 1), b & (sbit - 1)
    if ma > inf or mb > inf:
        return None                                   # NaN (never produced by `read`)
    sa, sb = a & sbit, b & sbit
    if op in ("add", "sub"):
        if op == "sub":
            sb ^= sbit
        if ma == inf and mb == inf:
            return None if sa != sb else a
        if ma == inf or mb == 0:
            return a if ma else 0
        return (sb | mb) if mb else 0                 # a is zero or b is infinite
    if op == "mul":
        if (ma == 0 and mb == inf) or (ma == inf and mb == 0):
            return None
        return (sa ^ sb) | inf if inf in (ma, mb) else 0
    if (ma == mb == inf) or (ma == mb == 0):
        return None
    if ma == inf:
        return (sa ^ sb) | inf
    if ma == 0 or mb == inf:
        return 0
    return None                                       # finite / 0: DIV_BY_ZERO


# Per-format constants for the wide path: (fbits, emask, fmask, sign, hidden bit, bias + fbits).
_WIDE = {fc: (f.fbits, f.emask, f.fmask, f.sign, 1 << f.fbits, f.max_exp + f.fbits)
         for fc, f in enumerate(FORMATS) if fc in _IEEE_BITS}


def _wide_arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """f128/f256 (and any finite non-zero pair): MPFR on exact wide operands."""
    fb, emask, fmask, sbit, hidden, ebias = _WIDE[fc]
    fa, fbb = (a >> fb) & emask, (b >> fb) & emask
    ma = (a & fmask) | hidden if fa else a & fmask
    mb = (b & fmask) | hidden if fbb else b & fmask
    x = _EXACT.mul_2exp(-ma if a & sbit else ma, (fa or 1) - ebias)
    y = _EXACT.mul_2exp(-mb if b & sbit else mb, (fbb or 1) - ebias)
    r = _mpfr_op(_CTX[fc, rnd], op, x, y)
    if r.is_infinite():
        return None                                   # OVERFLOW in a mode rounding to infinity
    if r == 0:
        return None if r.rc else 0                    # underflow to zero / exact cancellation
    bits = _from_mpfr(FORMATS[fc], r)
    if r.rc and not bits & (emask << fb):
        return None                                   # UNDERFLOW: inexact and subnormal
    return bits


# f16/f32/f64 values are exact Python floats, and gmpy2 takes floats exactly, so the narrow
# formats skip the integer <-> mpfr conversions: (pair pack, pair unpack, one-value pack/unpack).
_QQ, _DD = struct.Struct("<QQ"), struct.Struct("<dd")
_II, _FF = struct.Struct("<II"), struct.Struct("<ff")
_HH, _EE = struct.Struct("<HH"), struct.Struct("<ee")
_D, _Q = struct.Struct("<d"), struct.Struct("<Q")
_F, _I = struct.Struct("<f"), struct.Struct("<I")
_E, _H = struct.Struct("<e"), struct.Struct("<H")
_NARROW = {
    F16: (_HH.pack, _EE.unpack, _E.pack, _H.unpack, 0x7C00, 0x7FFF),
    F32: (_II.pack, _FF.unpack, _F.pack, _I.unpack, 0x7F800000, 0x7FFFFFFF),
    F64: (_QQ.pack, _DD.unpack, _D.pack, _Q.unpack, 0x7FF << 52, (1 << 63) - 1),
}
_M63, _E64 = (1 << 63) - 1, 0x7FF << 52
_F64_TINY = 2.0 ** -1022
_FLOAT_INF = float("inf")


def _narrow_arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """f16/f32/f64: host FPU for f32/f64 round-to-nearest, MPFR on floats otherwise."""
    pack2, unpack2, pack1, unpack1, emask, mag = _NARROW[fc]
    if not (a & mag and b & mag) or a & emask == emask or b & emask == emask:
        s = _special(op, fc, a, b)
        return s if s is None or s & mag else 0
    x, y = unpack2(pack2(a, b))
    if rnd == RND_NEAREST:
        if fc == F64:
            return _hw_f64(op, x, y, a, b)
        if fc == F32:
            return _hw_f32(op, x, y)
    m = _mpfr_op(_CTX[fc, rnd], op, x, y)
    inexact = m.rc
    r = float(m)                                      # exact: the result is in the format
    if r == _FLOAT_INF or r == -_FLOAT_INF:
        return None                                   # OVERFLOW in a mode rounding to infinity
    if r == 0.0:
        return None if inexact else 0
    bits = unpack1(pack1(r))[0]
    if inexact and not bits & emask:
        return None                                   # UNDERFLOW: inexact and subnormal
    return bits


def f32_bits(x: float) -> int:
    """Round a double to f32 with round-to-nearest-even (overflow gives infinity)."""
    try:
        return _I.unpack(_F.pack(x))[0]
    except OverflowError:
        return 0xFF800000 if x < 0 else 0x7F800000


def host_op(op: str, x: float, y: float) -> float:
    """The operation on host doubles (no zero divisors reach here)."""
    if op == "add":
        return x + y
    if op == "sub":
        return x - y
    if op == "mul":
        return x * y
    return x / y


def _hw_f64(op: str, x: float, y: float, a: int, b: int) -> Optional[int]:
    """f64 round-to-nearest on the host FPU; tiny mul/div results go to MPFR for exactness.

    Sums and differences that land in the subnormal range are always exact, so only products
    and quotients need the exact "inexact and tiny" test.
    """
    r = host_op(op, x, y)
    if -_F64_TINY < r < _F64_TINY:
        if r == 0.0 and op in ("add", "sub"):
            return 0                                  # exact cancellation
        if op in ("mul", "div"):
            return _wide_arith(op, F64, RND_NEAREST, a, b)
    elif r == _FLOAT_INF or r == -_FLOAT_INF:
        return None                                   # overflow
    return _Q.unpack(_D.pack(r))[0]


def _hw_f32(op: str, x: float, y: float) -> Optional[int]:
    """f32 round-to-nearest via f64 (53 >= 2*24+2, so rounding twice equals rounding once).

    The f64 product of two f32 values is exact, and so is f64 `q * y` for an f32 quotient `q`,
    which gives exact inexactness tests for tiny results.
    """
    wide = host_op(op, x, y)
    bits = f32_bits(wide)
    m = bits & 0x7FFFFFFF
    if m < 0x00800000:
        if op == "mul" or op == "div":
            r = _F.unpack(_F.pack(wide))[0]
            if (r != wide) if op == "mul" else (r * y != x):
                return None                           # UNDERFLOW: inexact and tiny
        return bits if m else 0
    return None if m == 0x7F800000 else bits



#: the formats :func:`arith` computes
FORMATS_COMPUTED = frozenset(_IEEE_BITS)


def arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """``a op b`` in an IEEE format on defined operands; stored bits or None (undefined)."""
    if rnd == RND_NEAREST and (fc == F64 or fc == F32):
        # Hot path: finite non-zero operands straight to the host FPU.
        if fc == F64:
            if a & _M63 and b & _M63 and a & _E64 != _E64 and b & _E64 != _E64:
                x, y = _DD.unpack(_QQ.pack(a, b))
                return _hw_f64(op, x, y, a, b)
        elif a & 0x7FFFFFFF and b & 0x7FFFFFFF and a & 0x7F800000 != 0x7F800000 \
                and b & 0x7F800000 != 0x7F800000:
            x, y = _FF.unpack(_II.pack(a, b))
            return _hw_f32(op, x, y)
    if fc in _NARROW:
        return _narrow_arith(op, fc, rnd, a, b)
    f = FORMATS[fc]
    mag = f.sign - 1
    inf = f.emask << f.fbits
    if not (a & mag and b & mag) or a & inf == inf or b & inf == inf:
        r = _special(op, fc, a, b)
        return r if r is None or r & mag else 0
    return _wide_arith(op, fc, rnd, a, b)
