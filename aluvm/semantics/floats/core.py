"""Bit-exact semantics of the AluVM float registers (f16b ... f512).

Everything here is a pure function over integer bit patterns: an F register holds the IEEE bit
pattern of its format as a plain ``int`` (big-endian value) and the interpreter hands us values it
has already passed through :func:`read`.  The behaviour reproduces rust-aluvm v0.11.0-beta.6,
which delegates to two libraries, so the two halves of this module mirror them:

* ``bf16`` arithmetic comes from the ``half`` crate: widen to f32, compute in f32 round-to-nearest,
  narrow with round-to-nearest-even on the bit pattern.  No status, so overflow gives infinity.
* every other format goes through the soft-float library amplify_apfloat 0.3.0 (a port of LLVM
  APFloat).  For the IEEE interchange formats its results are correctly rounded, so we compute
  them with MPFR (gmpy2) plus hardware fast paths, and derive the status rules of the spec
  (semantics.md §5.1) ourselves.  x87 ``f80`` is different: the library stores it without the
  explicit integer bit, so its significands are *unnormalised*, and the library's adder and
  divider then panic or produce garbage in ways no correctly-rounded model can express.  For f80
  we therefore re-implement the library's own significand algorithms (normalise, add-or-subtract,
  multiply, divide, integer conversion, decimal printing) on Python integers (``_apf_*``).  The
  same re-implementation doubles as an independent oracle for the IEEE formats in the tests.

Panics of the reference (semantics.md §10.1: P7, P8, P9, P10, P11, P22 and the f80 divider
assertions) are raised as :class:`aluvm.errors.Panic`.
"""
from __future__ import annotations

import struct
from typing import NamedTuple, Optional

import gmpy2

from aluvm.errors import Panic

__all__ = [
    "FORMAT_NAMES", "store", "read", "arith", "neg", "abs_", "gt", "lt", "eq",
    "cnv_ff", "cnv_fa", "cnv_af",
]

FORMAT_NAMES = ("f16b", "f16", "f32", "f64", "f80", "f128", "f256", "f512")

BF16, F16, F32, F64, F80, F128, F256, F512 = range(8)

# AluVM rounding flag values; the apfloat port uses the same codes.
RND_ZERO, RND_NEAREST, RND_FLOOR, RND_CEIL = 0, 1, 2, 3


class _Fmt(NamedTuple):
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


def _fmt(width: int, ebits: int, fbits: int, prec: int) -> _Fmt:
    max_exp = (1 << (ebits - 1)) - 1
    return _Fmt(width, ebits, fbits, prec, max_exp, 1 - max_exp, 1 << (width - 1),
                (1 << ebits) - 1, (1 << fbits) - 1, fbits, 2 + prec * 59 // 196)


_FMTS = (
    _fmt(16, 8, 7, 8),          # bf16
    _fmt(16, 5, 10, 11),        # f16
    _fmt(32, 8, 23, 24),        # f32
    _fmt(64, 11, 52, 53),       # f64
    _fmt(80, 15, 64, 64),       # f80 (explicit integer bit)
    _fmt(128, 15, 112, 113),    # f128
    _fmt(256, 19, 236, 237),    # f256
)
_F512_MASK = (1 << 512) - 1
_M256 = (1 << 256) - 1          # the library's significand limb is a u256
_U64 = (1 << 64) - 1            # usize arithmetic inside the library wraps at 64 bits
_F80_FRAC = (1 << 63) - 1


# ---------------------------------------------------------------------------------------------
# Storage and reading
# ---------------------------------------------------------------------------------------------

def _store_f80(bits: int) -> int:
    """What the x87 soft-float object re-encodes to: integer bit gone, field 1 shown as 0."""
    field = (bits >> 64) & 0x7FFF
    if field == 1:
        field = 0
    return (bits & (1 << 79)) | (field << 64) | (bits & _F80_FRAC)


def store(fc: int, bits: int) -> int:
    """Bits as the reference stores them on any write (semantics.md §1.1, §1.4).

    Every format round-trips its bit pattern except f80, whose ``from_bits`` drops the explicit
    integer bit; ``to_bits`` then prints the lowest binade with exponent field 0.
    """
    if fc == F80:
        return _store_f80(bits & ((1 << 80) - 1))
    if fc == F512:
        return bits & _F512_MASK
    return bits & ((1 << _FMTS[fc].width) - 1)


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
    f = _FMTS[fc]
    mag = bits & (f.sign - 1)
    if mag > (f.emask << f.fbits):
        return None                          # NaN
    return mag if mag == 0 else bits


# ---------------------------------------------------------------------------------------------
# Port of the soft-float library's significand algorithms (amplify_apfloat 0.3.0)
#
# A value is a tuple (category, sign, exp, sig): `exp` is the unbiased exponent of the integer
# bit position prec-1 of `sig`, so the value is sig * 2**(exp - prec + 1).  Significands live in
# one 256-bit limb; left shifts wrap at 256 bits exactly like the library's.
# ---------------------------------------------------------------------------------------------

_ZERO, _NORMAL, _INF, _NAN = 0, 1, 2, 3
_OK, _INVALID, _DIVZERO, _OVERFLOW, _UNDERFLOW, _INEXACT = 0, 1, 2, 4, 8, 16
# Lost fraction ("Loss"): exactly zero, less than half, exactly half, more than half.
_L_ZERO, _L_LT, _L_HALF, _L_GT = 0, 1, 2, 3

Apf = tuple[int, bool, int, int]
_NAN_V: Apf = (_NAN, False, 0, 0)


def _apf_decode(fc: int, bits: int) -> Apf:
    """``from_bits`` of the library (the x87 variant keeps only 63 significand bits)."""
    f = _FMTS[fc]
    sign = bool(bits & f.sign)
    if fc == F80:
        sig = bits & _F80_FRAC
        field = (bits >> 64) & 0x7FFF
    else:
        sig = bits & f.fmask
        field = (bits >> f.fbits) & f.emask
    if field == 0 and sig == 0:
        return (_ZERO, sign, f.min_exp - 1, 0)
    if field == f.emask:
        if fc != F80 and sig == 0:
            return (_INF, sign, f.max_exp + 1, 0)
        return (_NAN, sign, f.max_exp + 1, sig)
    if field == 0:
        return (_NORMAL, sign, f.min_exp, sig)
    if fc != F80:
        sig |= 1 << (f.prec - 1)
    return (_NORMAL, sign, field - f.max_exp, sig)


def _apf_encode(fc: int, v: Apf) -> int:
    """``to_bits`` of the library."""
    f = _FMTS[fc]
    cat, sign, exp, sig = v
    if cat == _NORMAL:
        field = 0 if exp == f.min_exp and not (sig >> (f.prec - 1)) & 1 else exp + f.max_exp
    elif cat == _ZERO:
        field, sig = 0, 0
    elif cat == _INF:
        field, sig = f.emask, (1 << 63 if fc == F80 else 0)
    else:
        field = f.emask
    sig &= (1 << 64) - 1 if fc == F80 else f.fmask
    return (f.sign if sign else 0) | (field << f.fbits) | sig


def _trunc_loss(sig: int, bits: int) -> int:
    """Lost fraction when the low `bits` bits of `sig` are dropped."""
    if bits <= 0:
        return _L_ZERO
    half = (sig >> (bits - 1)) & 1
    rest = sig & ((1 << (bits - 1)) - 1) != 0
    return 2 * half + rest


def _combine(more: int, less: int) -> int:
    if less != _L_ZERO:
        if more == _L_ZERO:
            return _L_LT
        if more == _L_HALF:
            return _L_GT
    return more


def _round_away(rnd: int, loss: int, lsb: int, sign: bool) -> bool:
    """Whether truncation must be corrected away from zero (library ``round_away_from_zero``)."""
    if rnd == RND_NEAREST:
        return loss == _L_GT or (loss == _L_HALF and lsb == 1)
    if rnd == RND_ZERO:
        return False
    return sign if rnd == RND_FLOOR else not sign


def _overflow_result(f: _Fmt, sign: bool, rnd: int) -> tuple[int, Apf]:
    """Infinity, or the largest finite value for modes that round this sign toward zero."""
    if rnd == RND_NEAREST or (rnd == RND_CEIL and not sign) or (rnd == RND_FLOOR and sign):
        return _OVERFLOW | _INEXACT, (_INF, sign, f.max_exp + 1, 0)
    return _INEXACT, (_NORMAL, sign, f.max_exp, (1 << f.prec) - 1)


def _normalize(f: _Fmt, sign: bool, exp: int, sig: int, rnd: int, loss: int) -> tuple[int, Apf]:
    """Library ``normalize``: place the MSB at the integer bit, round, classify the status."""
    prec = f.prec
    omsb = sig.bit_length()
    if omsb:
        final = exp + omsb - prec
        if final > f.max_exp:
            return _overflow_result(f, sign, rnd)
        if final < f.min_exp:
            final = f.min_exp
        if final < exp:
            if loss != _L_ZERO:
                # assert_eq!(loss, Loss::ExactlyZero): unnormalised f80 operands reach it.
                raise Panic("f80 arithmetic: soft-float normalize assertion (reference P22)")
            return _OK, (_NORMAL, sign, final, (sig << (exp - final)) & _M256)
        if final > exp:
            change = final - exp
            loss = _combine(_trunc_loss(sig, change), loss)
            sig >>= change
            exp = final
            omsb = max(0, omsb - change)
    if loss == _L_ZERO:
        return _OK, ((_NORMAL if omsb else _ZERO), sign, exp, sig)
    if _round_away(rnd, loss, sig & 1, sign):
        if omsb == 0:
            exp = f.min_exp
        sig += 1
        omsb = sig.bit_length()
        if omsb == prec + 1:
            if exp == f.max_exp:
                return _OVERFLOW | _INEXACT, (_INF, sign, exp, sig)
            return _INEXACT, (_NORMAL, sign, exp + 1, sig >> 1)
    if omsb == prec:
        return _INEXACT, (_NORMAL, sign, exp, sig)
    return _UNDERFLOW | _INEXACT, ((_NORMAL if omsb else _ZERO), sign, exp, sig)


def _add_or_sub(a: Apf, b: Apf) -> tuple[bool, int, int, int]:
    """Library ``sig::add_or_sub`` on two Normal values: (sign, exp, sig, loss)."""
    _, a_sign, a_exp, a_sig = a
    _, b_sign, b_exp, b_sig = b
    bits = a_exp - b_exp
    if a_sign != b_sign:
        if bits == 0:
            reverse, loss = a_sig < b_sig, _L_ZERO
        elif bits > 0:
            loss = _trunc_loss(b_sig, bits - 1)
            b_sig >>= bits - 1
            a_sig = (a_sig << 1) & _M256
            a_exp -= 1
            reverse = False
        else:
            loss = _trunc_loss(a_sig, -bits - 1)
            a_sig >>= -bits - 1
            a_exp += -bits - 1
            b_sig = (b_sig << 1) & _M256
            reverse = True
        borrow = loss != _L_ZERO
        diff = (b_sig - a_sig if reverse else a_sig - b_sig) - borrow
        if diff < 0:
            # assert_eq!(sub(..), 0): the adder assumed normalised (integer-bit) significands.
            raise Panic("f80 add/sub: soft-float borrow assertion (reference P22)")
        if reverse:
            a_sign = not a_sign
        if loss == _L_LT:
            loss = _L_GT
        elif loss == _L_GT:
            loss = _L_LT
        return a_sign, a_exp, diff, loss
    if bits > 0:
        loss = _trunc_loss(b_sig, bits)
        b_sig >>= bits
    else:
        loss = _trunc_loss(a_sig, -bits)
        a_sig >>= -bits
        a_exp += -bits
    return a_sign, a_exp, a_sig + b_sig, loss


def _apf_add(f: _Fmt, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``add_r`` (``sub_r`` is ``add_r`` with the sign of `b` flipped)."""
    ca, cb = a[0], b[0]
    if ca == _INF and cb == _INF:
        return (_INVALID, _NAN_V) if a[1] != b[1] else (_OK, a)
    if cb == _ZERO or ca == _NAN or (ca == _INF and cb == _NORMAL):
        return _OK, a
    if ca == _ZERO or cb == _NAN or cb == _INF:
        return _OK, b
    sign, exp, sig, loss = _add_or_sub(a, b)
    status, r = _normalize(f, sign, exp, sig, rnd, loss)
    if r[0] == _ZERO and loss != _L_ZERO:
        raise Panic("f80 add/sub: soft-float zero-with-loss assertion (reference P22)")
    return status, r


def _apf_mul(f: _Fmt, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``mul_r``."""
    ca, cb = a[0], b[0]
    sign = a[1] != b[1]
    if ca == _NAN or cb == _NAN:
        return _OK, _NAN_V
    if (ca == _ZERO and cb == _INF) or (ca == _INF and cb == _ZERO):
        return _INVALID, _NAN_V
    if ca == _INF or cb == _INF:
        return _OK, (_INF, sign, f.max_exp + 1, 0)
    if ca == _ZERO or cb == _ZERO:
        return _OK, (_ZERO, sign, f.min_exp - 1, 0)
    prec = f.prec
    exp = a[2] + b[2] + 2 - (prec + 1)
    wide = a[3] * b[3]
    omsb = wide.bit_length()
    loss = _L_ZERO
    if omsb > prec:
        loss = _trunc_loss(wide, omsb - prec)
        wide >>= omsb - prec
        exp += omsb - prec
    status, r = _normalize(f, sign, exp, wide & _M256, rnd, loss)
    if loss != _L_ZERO:
        status |= _INEXACT
    return status, r


def _lost_fraction(rem: int, divisor: int) -> int:
    if rem > divisor:
        return _L_GT
    if rem == divisor:
        return _L_HALF
    return _L_ZERO if rem == 0 else _L_LT


def _sig_div(exp: int, dividend: int, divisor: int, prec: int) -> tuple[int, int, int]:
    """Library ``sig::div`` on one 256-bit limb: (exp, quotient, loss).

    A zero divisor (an f80 power of two, whose stored fraction is 0) is "normalised" by a full
    64-bit shift and then divides with wrapped ``usize`` arithmetic; we follow it literally.
    """
    shift = prec - divisor.bit_length()
    divisor = (divisor << shift) & _M256
    exp += shift
    shift = prec - dividend.bit_length()
    dividend = (dividend << shift) & _M256
    exp -= shift
    olsb = (divisor & -divisor).bit_length()
    if olsb == prec:
        return exp, dividend, _L_ZERO
    if dividend < divisor:
        dividend = (dividend << 1) & _M256
        exp -= 1
        if dividend < divisor:
            raise Panic("f80 div: soft-float dividend assertion (zero stored fraction)")
    divisor_bits = (prec - ((olsb - 1) & _U64)) & _U64
    for half in (16, 32, 64):
        if divisor_bits * 2 <= half:
            return (exp,) + _short_div(dividend, divisor >> (olsb - 1), divisor_bits, half)
    quotient = 0
    for bit in range(prec - 1, -1, -1):
        if dividend >= divisor:
            dividend -= divisor
            quotient |= 1 << bit
        dividend = (dividend << 1) & _M256
    return exp, quotient, _lost_fraction(dividend, divisor)


def _short_div(dividend: int, d: int, divisor_bits: int, half: int) -> tuple[int, int]:
    """The library's chunked short division for divisors of at most `half`/2 bits."""
    hmask = (1 << half) - 1
    d &= hmask
    rem = (dividend >> (256 - (divisor_bits - 1))) & hmask
    dividend = (dividend << (divisor_bits - 1)) & _M256
    quotient = 0
    for i in range(256 // half - 1, -1, -1):
        combined = (rem << half) | ((dividend >> (i * half)) & hmask)
        rem = combined % d
        quotient |= ((combined // d) & hmask) << (i * half)
    return quotient, _lost_fraction((rem << 1) & _M256, d)


def _apf_div(f: _Fmt, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``div_r``."""
    ca, cb = a[0], b[0]
    sign = a[1] != b[1]
    if ca == _NAN or cb == _NAN:
        return _OK, _NAN_V
    if (ca == _INF and cb == _INF) or (ca == _ZERO and cb == _ZERO):
        return _INVALID, _NAN_V
    if ca == _INF or ca == _ZERO:
        return _OK, (ca, sign, a[2], a[3])
    if cb == _INF:
        return _OK, (_ZERO, sign, f.min_exp - 1, 0)
    if cb == _ZERO:
        return _DIVZERO, (_INF, sign, f.max_exp + 1, 0)
    exp, quotient, loss = _sig_div(a[2] - b[2], a[3], b[3], f.prec)
    status, r = _normalize(f, sign, exp, quotient, rnd, loss)
    if loss != _L_ZERO:
        status |= _INEXACT
    return status, r


def _apf_arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """Full library path for one operation on stored bits; result as stored bits or None."""
    f = _FMTS[fc]
    va, vb = _apf_decode(fc, a), _apf_decode(fc, b)
    if op == "add":
        status, r = _apf_add(f, va, vb, rnd)
    elif op == "sub":
        status, r = _apf_add(f, va, (vb[0], not vb[1], vb[2], vb[3]), rnd)
    elif op == "mul":
        status, r = _apf_mul(f, va, vb, rnd)
    elif op == "div":
        status, r = _apf_div(f, va, vb, rnd)
    else:
        raise ValueError(f"unknown float operation {op!r}")
    if status & ~_INEXACT or r[0] == _NAN:
        return None
    if r[0] == _ZERO:
        return 0
    return store(fc, _apf_encode(fc, r))


def _apf_to_i256(f: _Fmt, v: Apf) -> tuple[int, bool]:
    """Library ``to_i256(256)``: truncate toward zero, saturate; (value, status == OK)."""
    cat, sign, exp, sig = v
    if cat == _NAN:
        return 0, False
    if sign and cat != _ZERO:
        r, ok = _apf_to_u256(f, v, 256)
        if r > 1 << 255:
            return -(1 << 255), False
        return -r, ok
    r, ok = _apf_to_u256(f, v, 255)
    return r, ok


def _apf_to_u256(f: _Fmt, v: Apf, width: int) -> tuple[int, bool]:
    """Library ``to_u256_r`` toward zero on the magnitude of `v` (sign ignored by caller)."""
    cat, _, exp, sig = v
    overflow = _M256 >> (256 - width)
    if cat == _INF:
        return overflow, False
    if cat == _ZERO:
        return 0, True
    prec = f.prec
    if exp < 0:
        r, truncated = 0, prec - 1 - exp
    else:
        bits = exp + 1
        if bits > width:
            return overflow, False
        if bits < prec:
            r, truncated = sig >> (prec - bits), prec - bits
        else:
            r, truncated = (sig << (bits - prec)) & _M256, 0
    if r > overflow:
        return overflow, False
    return r, _trunc_loss(sig, truncated) == _L_ZERO


def _apf_cmp(a: Apf, b: Apf) -> int:
    """Library ``partial_cmp`` (NaN never reaches it): -1, 0 or 1."""
    ca, cb = a[0], b[0]
    if ca == _INF and cb == _INF:
        return (b[1] - a[1])
    if ca == _ZERO and cb == _ZERO:
        return 0
    if ca == _INF or (ca == _NORMAL and cb == _ZERO):
        return -1 if a[1] else 1
    if cb == _INF or (ca == _ZERO and cb == _NORMAL):
        return 1 if b[1] else -1
    if a[1] != b[1]:
        return -1 if a[1] else 1
    mag = (a[2] > b[2]) - (a[2] < b[2]) or (a[3] > b[3]) - (a[3] < b[3])
    return -mag if a[1] else mag


# ---------------------------------------------------------------------------------------------
# IEEE formats (f16, f32, f64, f128, f256) through MPFR, with hardware fast paths
#
# amplify_apfloat rounds correctly, so any correctly rounded engine reproduces its values; what
# we add is its status mapping: OVERFLOW (infinity in the modes that round to it, ±MAX with
# INEXACT otherwise), UNDERFLOW (inexact and subnormal/zero *after* rounding), DIV_BY_ZERO and
# INVALID all make the result undefined.  Note that gmpy2's overflow flag cannot be used: it is
# also raised when a toward-zero mode returns ±MAX, which the reference keeps.
# ---------------------------------------------------------------------------------------------

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


def _from_mpfr(f: _Fmt, r: gmpy2.mpfr) -> int:
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
    f = _FMTS[fc]
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
         for fc, f in enumerate(_FMTS) if fc in _IEEE_BITS}


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
    bits = _from_mpfr(_FMTS[fc], r)
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
_FLOAT_INF = float("inf")   # (the category constant _INF above is a different thing)


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


def _f32_bits(x: float) -> int:
    """Round a double to f32 with round-to-nearest-even (overflow gives infinity)."""
    try:
        return _I.unpack(_F.pack(x))[0]
    except OverflowError:
        return 0xFF800000 if x < 0 else 0x7F800000


def _host_op(op: str, x: float, y: float) -> float:
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
    r = _host_op(op, x, y)
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
    wide = _host_op(op, x, y)
    bits = _f32_bits(wide)
    m = bits & 0x7FFFFFFF
    if m < 0x00800000:
        if op == "mul" or op == "div":
            r = _F.unpack(_F.pack(wide))[0]
            if (r != wide) if op == "mul" else (r * y != x):
                return None                           # UNDERFLOW: inexact and tiny
        return bits if m else 0
    return None if m == 0x7F800000 else bits


# ---------------------------------------------------------------------------------------------
# bfloat16 (crate `half`)
# ---------------------------------------------------------------------------------------------

def _bf16_from_f32(bits: int) -> int:
    """``bf16::from_f32``: round-to-nearest-even on the bit pattern; NaN stays NaN."""
    if bits & 0x7FFFFFFF > 0x7F800000:
        return (bits >> 16) | 0x0040
    if bits & 0x8000 and bits & 0x17FFF:
        return (bits >> 16) + 1
    return bits >> 16


def _bf16_arith(op: str, a: int, b: int) -> Optional[int]:
    """Widen to f32, f32 op (RNE), narrow; the rounding flag is ignored (semantics.md §5.2)."""
    wide: float
    x, y = _FF.unpack(_II.pack(a << 16, b << 16))
    if op == "div" and y == 0.0:
        if x == 0.0 or x != x:
            return None
        wide = _FLOAT_INF if x > 0 else -_FLOAT_INF
    else:
        wide = _host_op(op, x, y)
    if wide != wide:
        return None
    r = _bf16_from_f32(_f32_bits(wide))
    return r if r & 0x7FFF else 0


# ---------------------------------------------------------------------------------------------
# Arithmetic entry point
# ---------------------------------------------------------------------------------------------

_OP_NOUN = {"add": "addition", "sub": "subtraction", "mul": "multiplication", "div": "division"}


def arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """``a op b`` for add/sub/mul/div on defined operands; stored bits or None (undefined).

    `rnd`: 0 toward zero, 1 nearest-even, 2 floor, 3 ceil.  Status rules (semantics.md §5.1):
    only an OK or INEXACT-only status yields a value; −0 results are stored as +0.
    """
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
    if fc == BF16:
        return _bf16_arith(op, a, b)
    if fc == F80:
        return _apf_arith(op, fc, rnd, a, b)
    if fc == F512:
        raise Panic(f"float {_OP_NOUN.get(op, op)} of integer numbers (f512, reference P11)")
    f = _FMTS[fc]
    mag = f.sign - 1
    inf = f.emask << f.fbits
    if not (a & mag and b & mag) or a & inf == inf or b & inf == inf:
        r = _special(op, fc, a, b)
        return r if r is None or r & mag else 0
    return _wide_arith(op, fc, rnd, a, b)


# ---------------------------------------------------------------------------------------------
# neg / abs / comparisons
# ---------------------------------------------------------------------------------------------

def _sign_mask(fc: int) -> int:
    return 1 << 79 if fc == F80 else _FMTS[fc].sign


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


def _cmp(fc: int, flag: int, a: int, b: int) -> int:
    """``Number::cmp`` / ``rounding_cmp`` on read values: -1, 0 or 1."""
    if fc == F512:
        return (a > b) - (a < b)
    if flag:
        # Defect (semantics.md §3.2): flips the lowest exponent bit, compares raw unsigned.
        m = 1 << _FMTS[fc].rbit
        a, b = a ^ m, b ^ m
        return (a > b) - (a < b)
    if fc == F256:
        raise Panic("IEEE-754 256-bit floats are not yet supported (gt/lt, reference P10)")
    return _apf_cmp(_apf_decode(fc, a), _apf_decode(fc, b))


def gt(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``gt.e`` (IEEE order, f80 by stored fields) or ``gt.r`` (defective raw-bit order)."""
    return _cmp(fc, rounding_flag, a, b) > 0


def lt(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``lt.e`` / ``lt.r``; see :func:`gt`."""
    return _cmp(fc, rounding_flag, a, b) < 0


def eq(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """Bitwise equality of the read values; both flags agree (same XOR on both sides)."""
    return a == b


# ---------------------------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------------------------

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


def _parse_value(dst: int, neg_: bool, num: int, den: int) -> int:
    """Correctly rounded (RNE) decimal parse into `dst`, overflow -> infinity, as stored bits."""
    if num == 0:
        return 0
    if dst == BF16:
        f32 = _parse_value(F32, neg_, num, den)
        r = _bf16_from_f32(f32)
        return 0 if r & 0x7FFF == 0 else r
    f = _FMTS[dst]
    res = _round_rne(num, den, f.prec, f.min_exp, f.max_exp)
    sign = f.sign if neg_ else 0
    if res is None:
        return store(dst, _apf_encode(dst, (_INF, neg_, 0, 0)))
    e, q = res
    if q == 0:
        return 0
    if q >> (f.prec - 1):
        field = e + f.max_exp
    else:
        field = 0
    if dst == F80:
        return store(dst, sign | (field << 64) | q)
    return sign | (field << f.fbits) | (q & f.fmask)


def _apf_decimal(f: _Fmt, v: Apf) -> tuple[int, int]:
    """Value printed by the library's ``Display`` as (M, E) meaning M * 10**E.

    Truncates the exact expansion to about P digits' worth of bits, then rounds half-up on the
    single next digit (no sticky bit), exactly like the library.
    """
    sig = v[3]
    if sig == 0:
        # An f80 power of two (stored fraction 0, Normal): the digit loop yields nothing and
        # `assert!(!buffer.is_empty())` fires.
        raise Panic("float layout conversion: no characters in buffer (f80 zero fraction)")
    exp = v[2] - (f.prec - 1)
    tz = (sig & -sig).bit_length() - 1
    sig >>= tz
    exp += tz
    if exp > 0:
        sig <<= exp
        exp = 0
    elif exp < 0:
        sig *= 5 ** -exp
    required = (f.digits * 196 + 58) // 59
    discard = max(0, sig.bit_length() - required) * 59 // 196
    if discard:
        sig //= 10 ** discard
        exp += discard
    text = str(sig)
    if len(text) > f.digits:
        first = len(text) - f.digits
        sig = int(text[:f.digits]) + (text[f.digits] >= "5")
        exp += first
    return sig, exp


def _f32_shortest(bits: int) -> tuple[int, int]:
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


def _inf_bits(dst: int, neg_: bool) -> int:
    if dst == BF16:
        return 0xFF80 if neg_ else 0x7F80
    return store(dst, _apf_encode(dst, (_INF, neg_, 0, 0)))


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
    neg_, value = _print_value(src, a)
    if dst == F256:
        raise Panic("IEEE octal precision layout conversion (reference P8)")
    if dst == F512:
        raise Panic("tapered float layout conversion (reference P8)")
    if value is None:                                 # infinity
        if src != BF16 and dst != BF16:
            raise Panic("float layout conversion: '+Inf'/'-Inf' rejected (reference P8)")
        return _inf_bits(dst, neg_), False
    m, e = value
    num, den = (m * 10 ** e, 1) if e >= 0 else (m, 10 ** -e)
    return _parse_value(dst, neg_, num, den), False


def _print_value(src: int, a: int) -> tuple[bool, Optional[tuple[int, int]]]:
    """(negative, (M, E)) of the source's Display text M * 10**E; None for infinity.

    bf16 prints through Rust's f32 ``Display`` (shortest round-trip); the other formats through
    the soft-float library's ``Display`` (see :func:`_apf_decimal`).
    """
    if src == BF16:
        f32 = a << 16
        mag = f32 & 0x7FFFFFFF
        neg_ = bool(f32 >> 31)
        if mag == 0x7F800000:
            return neg_, None
        return neg_, (_f32_shortest(mag) if mag else (0, 0))
    v = _apf_decode(src, a)
    if v[0] == _INF:
        return v[1], None
    if v[0] == _ZERO:
        return v[1], (0, 0)
    return v[1], _apf_decimal(_FMTS[src], v)


def cnv_fa(src: int, a: int, dst_bits: int) -> tuple[Optional[int], bool]:
    """F -> A (semantics.md §2.3): i256 toward zero, saturating; st0 = exact; mod 2**min(M,256).

    f512 reads as an unsigned integer, so it behaves like ``cpy`` (st0 = the value fits).
    """
    if src == F512:
        return a & ((1 << dst_bits) - 1), a.bit_length() <= dst_bits
    if src == BF16:
        raise Panic("BFloat16 to integer conversion (reference P9)")
    value, exact = _apf_to_i256(_FMTS[src], _apf_decode(src, a))
    return value & ((1 << min(dst_bits, 256)) - 1), exact


def cnv_af(src_bits: int, a: int, dst: int) -> tuple[Optional[int], bool]:
    """A -> F: the reference reaches ``todo!`` for every defined source (P7)."""
    raise Panic(f"Number layout reshape from u{src_bits} to {FORMAT_NAMES[dst]} (reference P7)")


# ---------------------------------------------------------------------------------------------
# Spec profile: the float panics of the reference (semantics.md §10.1 P7-P11, P22) replaced
#
# Every ``*_spec`` function below first calls the reference function above and returns its answer
# unchanged whenever it finishes; only a reference :class:`Panic` is replaced.  So the spec
# profile equals the reference wherever the reference does not panic, by construction.
# ---------------------------------------------------------------------------------------------

def _round_encode(dst: int, neg_: bool, m: int, k: int) -> tuple[Optional[int], bool]:
    """m * 2**k (m > 0) rounded once, to nearest-even, into `dst` (not f512): (bits, exact).

    Overflow gives ``(None, False)``; the callers decide what that means.  Subnormals are
    produced normally (an integer source never reaches them); a result that rounds to zero is
    stored as +0.  f80 results go through :func:`store`, so they lose the integer bit like every
    f80 write (§1.4), and "exact" refers to the rounding, not to that storage loss (as for f80
    arithmetic, where 1.0 + 1.0 stores 0 with st0 true).
    """
    f = _FMTS[dst]
    prec = f.prec
    e = max(m.bit_length() - 1 + k, f.min_exp)        # exponent of the leading bit position
    shift = e - (prec - 1) - k                        # bits of m below the result's ulp
    if shift <= 0:
        q, exact = m << -shift, True
    else:
        q = m >> shift
        rest = m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        exact = rest == 0
        if rest > half or (rest == half and q & 1):
            q += 1
            if q >> prec:
                q >>= 1
                e += 1
    if e > f.max_exp:
        return None, False
    if q == 0:
        return 0, exact
    field = e + f.max_exp if q >> (prec - 1) else 0
    sign = f.sign if neg_ else 0
    if dst == F80:
        return store(F80, sign | (field << 64) | q), exact
    return sign | (field << f.fbits) | (q & f.fmask), exact


def _int_to_float_spec(x: int, dst: int) -> tuple[Optional[int], bool]:
    """An unsigned integer into format `dst`: the spec rule of ``cnv`` A->F (see
    :func:`cnv_af_spec`)."""
    if dst == F512:
        return x & _F512_MASK, x <= _F512_MASK
    if x == 0:
        return 0, True
    bits, exact = _round_encode(dst, False, x, 0)
    if bits is None and dst == BF16:
        return 0x7F80, False                          # bf16 has no overflow status: +inf
    return bits, exact


def cnv_af_spec(src_bits: int, a: int, dst: int) -> tuple[Optional[int], bool]:
    """``cnv aN,fM`` in the spec profile (reference P7: ``todo!`` for every defined source).

    Rule: the unsigned integer is rounded once, to nearest-even, into the destination format and
    st0 <- the conversion was exact.  Overflow follows the arithmetic rule of the destination
    under round-to-nearest (§5.1): the soft-float formats (f16, f32, f64; f80/f128/f256 cannot
    overflow from a1024) report OVERFLOW, so the register is undefined and st0 false; bf16 has
    no status (§5.2), so it stores +inf (st0 false, inexact).  An f80 destination is stored like
    every f80 write (integer bit dropped, §1.4).  f512 is not a float format here (it reads as a
    u512, §1.1), so an f512 destination behaves as integer ``cpy`` into 512 bits: value mod
    2^512, st0 <- it fits (mirroring ``cnv`` f512->A, §2.3).
    """
    try:
        return cnv_af(src_bits, a, dst)
    except Panic:
        pass
    return _int_to_float_spec(a, dst)


def cnv_fa_spec(src: int, a: int, dst_bits: int) -> tuple[Optional[int], bool]:
    """``cnv fN,aM`` in the spec profile (reference P9: ``todo!`` for a defined bf16 source).

    Rule: bf16 behaves like every other format (§2.3): truncate toward zero into a saturating
    i256, st0 <- that was exact, then keep the low min(M, 256) bits.  A bf16 value widens to f32
    exactly, so this is the f32 conversion of the widened bits.
    """
    try:
        return cnv_fa(src, a, dst_bits)
    except Panic:
        if src != BF16:
            raise
    return cnv_fa(F32, a << 16, dst_bits)


def _exact_value(src: int, a: int) -> tuple[bool, Optional[tuple[int, int]]]:
    """(negative, (m, k)) with value m * 2**k of a read float value, None for an infinity.

    f80 uses the §1.4 value model (stored 63-bit fraction, no integer bit), exactly the value
    the reference prints and computes with; an f80 "Normal" with a zero fraction is worth 0.
    """
    v = _apf_decode(src, a)
    cat, neg_, exp, sig = v
    if cat == _INF:
        return neg_, None
    if cat == _ZERO or sig == 0:
        return neg_, (0, 0)
    return neg_, (sig, exp - (_FMTS[src].prec - 1))


def cnv_ff_spec(src: int, dst: int, a: int) -> tuple[Optional[int], bool]:
    """``cnv fN,fM`` in the spec profile (reference P8, plus the f80 zero-fraction print panic).

    Wherever the reference finishes, its decimal-text conversion is kept (so spec == reference
    there).  The panicking cases become:

    * ±inf (neither side bf16): ±inf in the destination, st0 false like every cross-format
      conversion of the reference (an f80 destination stores it as every f80 write does, so it
      then reads as undefined, §1.4);
    * f256 source or destination: the exact value, rounded once to nearest-even into the
      destination (all other formats are exactly representable in f256); overflow gives ±inf
      stored as a value and underflow a subnormal or +0, as the reference's parser does; st0
      false (the reference's cross-format rule).  A bf16 destination is rounded directly, not
      through f32;
    * f80 source whose stored fraction is 0 under a non-zero exponent (every power of two; the
      reference's printer asserts on an empty digit buffer): its §1.4 value is 0, so the
      destination gets +0 (st0 false);
    * f512 source: f512 holds an unsigned integer (§1.1), so this is ``cnv`` A->F of that
      integer (:func:`cnv_af_spec`: rounded to nearest-even, st0 <- exact, overflow undefined,
      bf16 +inf);
      f512 -> f512 is therefore a copy with st0 true;
    * f512 destination (float source): float -> integer like ``cnv`` F->A into 512 bits
      (:func:`cnv_fa_spec`: truncation toward zero into a saturating i256, st0 <- exact, stored
      zero-extended from 256 bits).
    """
    try:
        return cnv_ff(src, dst, a)
    except Panic:
        pass
    if src == F512:
        return _int_to_float_spec(a, dst)
    if dst == F512:
        return cnv_fa_spec(src, a, 512)
    neg_, value = _exact_value(src, a)
    if value is None:
        return _inf_bits(dst, neg_), False
    m, k = value
    if m == 0:
        return 0, False
    bits, _ = _round_encode(dst, neg_, m, k)
    return (_inf_bits(dst, neg_) if bits is None else bits), False


def _cmp_spec(fc: int, flag: int, a: int, b: int) -> int:
    """Like :func:`_cmp`, but f256 ``e`` ordering is IEEE (reference P10: ``unimplemented!``)."""
    try:
        return _cmp(fc, flag, a, b)
    except Panic:
        if fc != F256 or flag:
            raise
    return _apf_cmp(_apf_decode(F256, a), _apf_decode(F256, b))


def gt_spec(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``gt`` in the spec profile: f256 ``gt.e`` is the IEEE order (P10 fixed)."""
    return _cmp_spec(fc, rounding_flag, a, b) > 0


def lt_spec(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``lt`` in the spec profile: f256 ``lt.e`` is the IEEE order (P10 fixed)."""
    return _cmp_spec(fc, rounding_flag, a, b) < 0


def _f80_value_arith(op: str, rnd: int, a: int, b: int) -> Optional[int]:
    """f80 ``a op b`` under the §1.4 value model, without the library's significand algorithms.

    Operand value: stored 63-bit fraction f times 2^(E-63), E = max(e, 1) - 16383 (a zero
    fraction is worth 0 even under a non-zero exponent).  The exact rational result is rounded
    to 64 bits in the selected mode with the library's own ``normalize`` (so the §5.1 status
    rules apply: OVERFLOW in a mode rounding to infinity, inexact-and-tiny after rounding,
    division by zero and 0/0 give undefined; exact cancellation gives +0), then stored with
    bit 63 cleared.  This is what the reference computes whenever its adder does not assert
    (§1.4, [run] 0 mismatches).
    """
    f = _FMTS[F80]
    _, sa, ea, ma = _apf_decode(F80, a)
    _, sb, eb, mb = _apf_decode(F80, b)
    if op == "sub":
        sb = not sb
    loss = _L_ZERO
    if op in ("add", "sub"):
        e = min(ea, eb)
        x = (ma << (ea - e)) * (-1 if sa else 1) + (mb << (eb - e)) * (-1 if sb else 1)
        sign, sig, exp = x < 0, abs(x), e
    elif op == "mul":
        sign, sig, exp = sa != sb, ma * mb, ea + eb - (f.prec - 1)
    elif op == "div":
        if mb == 0:
            return None                               # x/0: DIV_BY_ZERO, 0/0: INVALID
        sign = sa != sb
        if ma == 0:
            return 0
        k = max(0, f.prec + 2 + mb.bit_length() - ma.bit_length())
        q, rem = divmod(ma << k, mb)
        # q has at least prec + 2 exact bits, so a trailing sticky bit rounds correctly
        sig, exp = (q << 1) | (rem != 0), ea - eb - k - 1 + (f.prec - 1)
    else:
        raise ValueError(f"unknown float operation {op!r}")
    if sig == 0:
        return 0
    status, r = _normalize(f, sign, exp, sig, rnd, loss)
    if status & ~_INEXACT or r[0] == _NAN:
        return None
    if r[0] == _ZERO:
        return 0
    return store(F80, _apf_encode(F80, r))


def arith_spec(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """add/sub/mul/div in the spec profile.

    * f512 (reference P11: float arithmetic on the u512 an f512 register reads as): f512 is
      reserved for a planned tapered float and has no float semantics in this version, so the
      result is undefined (st0 false) instead of a panic.
    * f80 where the library asserts (P22 for add/sub, also its divider's assertion for a zero
      stored fraction): the §1.4 value model, :func:`_f80_value_arith`.
    * everything else: the reference result, unchanged.
    """
    if fc == F512:
        return None
    try:
        return arith(op, fc, rnd, a, b)
    except Panic:
        if fc != F80:
            raise
    return _f80_value_arith(op, rnd, a, b)
