"""Port of the soft-float library's significand algorithms (amplify_apfloat 0.3.0, itself a
port of LLVM APFloat).

The reference computes every float format but bf16 through that library.  For the IEEE formats
its results are correctly rounded, so :mod:`.ieee` computes them faster; x87 ``f80`` is different:
the library stores it without the explicit integer bit, so its significands are *unnormalised*,
and its adder and divider then panic or produce garbage in ways no correctly-rounded model can
express.  For f80 we therefore run the library's own algorithms (normalise, add-or-subtract,
multiply, divide, integer conversion, comparison) on Python integers.  The same port doubles as
an independent oracle for the IEEE formats in the tests.
"""
from __future__ import annotations

from typing import Optional

from aluvm.errors import Panic
from aluvm.semantics.floats.formats import (
    F80, F80_FRAC, FORMATS, RND_CEIL, RND_FLOOR, RND_NEAREST, RND_ZERO, Format, store)

_M256 = (1 << 256) - 1          # the library's significand limb is a u256
_U64 = (1 << 64) - 1            # usize arithmetic inside the library wraps at 64 bits


# A value is a tuple (category, sign, exp, sig): `exp` is the unbiased exponent of the integer
# bit position prec-1 of `sig`, so the value is sig * 2**(exp - prec + 1).  Significands live in
# one 256-bit limb; left shifts wrap at 256 bits exactly like the library's.

ZERO, NORMAL, INF, NAN = 0, 1, 2, 3
OK, INVALID, DIVZERO, OVERFLOW, UNDERFLOW, INEXACT = 0, 1, 2, 4, 8, 16
# Lost fraction ("Loss"): exactly zero, less than half, exactly half, more than half.
L_ZERO, L_LT, L_HALF, L_GT = 0, 1, 2, 3

Apf = tuple[int, bool, int, int]
NAN_VALUE: Apf = (NAN, False, 0, 0)


def decode(fc: int, bits: int) -> Apf:
    """``from_bits`` of the library (the x87 variant keeps only 63 significand bits)."""
    f = FORMATS[fc]
    sign = bool(bits & f.sign)
    if fc == F80:
        sig = bits & F80_FRAC
        field = (bits >> 64) & 0x7FFF
    else:
        sig = bits & f.fmask
        field = (bits >> f.fbits) & f.emask
    if field == 0 and sig == 0:
        return (ZERO, sign, f.min_exp - 1, 0)
    if field == f.emask:
        if fc != F80 and sig == 0:
            return (INF, sign, f.max_exp + 1, 0)
        return (NAN, sign, f.max_exp + 1, sig)
    if field == 0:
        return (NORMAL, sign, f.min_exp, sig)
    if fc != F80:
        sig |= 1 << (f.prec - 1)
    return (NORMAL, sign, field - f.max_exp, sig)


def encode(fc: int, v: Apf) -> int:
    """``to_bits`` of the library."""
    f = FORMATS[fc]
    cat, sign, exp, sig = v
    if cat == NORMAL:
        field = 0 if exp == f.min_exp and not (sig >> (f.prec - 1)) & 1 else exp + f.max_exp
    elif cat == ZERO:
        field, sig = 0, 0
    elif cat == INF:
        field, sig = f.emask, (1 << 63 if fc == F80 else 0)
    else:
        field = f.emask
    sig &= (1 << 64) - 1 if fc == F80 else f.fmask
    return (f.sign if sign else 0) | (field << f.fbits) | sig


def _trunc_loss(sig: int, bits: int) -> int:
    """Lost fraction when the low `bits` bits of `sig` are dropped."""
    if bits <= 0:
        return L_ZERO
    half = (sig >> (bits - 1)) & 1
    rest = sig & ((1 << (bits - 1)) - 1) != 0
    return 2 * half + rest


def _combine(more: int, less: int) -> int:
    if less != L_ZERO:
        if more == L_ZERO:
            return L_LT
        if more == L_HALF:
            return L_GT
    return more


def _round_away(rnd: int, loss: int, lsb: int, sign: bool) -> bool:
    """Whether truncation must be corrected away from zero (library ``round_away_from_zero``)."""
    if rnd == RND_NEAREST:
        return loss == L_GT or (loss == L_HALF and lsb == 1)
    if rnd == RND_ZERO:
        return False
    return sign if rnd == RND_FLOOR else not sign


def _overflow_result(f: Format, sign: bool, rnd: int) -> tuple[int, Apf]:
    """Infinity, or the largest finite value for modes that round this sign toward zero."""
    if rnd == RND_NEAREST or (rnd == RND_CEIL and not sign) or (rnd == RND_FLOOR and sign):
        return OVERFLOW | INEXACT, (INF, sign, f.max_exp + 1, 0)
    return INEXACT, (NORMAL, sign, f.max_exp, (1 << f.prec) - 1)


def normalize(f: Format, sign: bool, exp: int, sig: int, rnd: int, loss: int) -> tuple[int, Apf]:
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
            if loss != L_ZERO:
                # assert_eq!(loss, Loss::ExactlyZero): unnormalised f80 operands reach it.
                raise Panic("f80 arithmetic: soft-float normalize assertion (reference P22)")
            return OK, (NORMAL, sign, final, (sig << (exp - final)) & _M256)
        if final > exp:
            change = final - exp
            loss = _combine(_trunc_loss(sig, change), loss)
            sig >>= change
            exp = final
            omsb = max(0, omsb - change)
    if loss == L_ZERO:
        return OK, ((NORMAL if omsb else ZERO), sign, exp, sig)
    if _round_away(rnd, loss, sig & 1, sign):
        if omsb == 0:
            exp = f.min_exp
        sig += 1
        omsb = sig.bit_length()
        if omsb == prec + 1:
            if exp == f.max_exp:
                return OVERFLOW | INEXACT, (INF, sign, exp, sig)
            return INEXACT, (NORMAL, sign, exp + 1, sig >> 1)
    if omsb == prec:
        return INEXACT, (NORMAL, sign, exp, sig)
    return UNDERFLOW | INEXACT, ((NORMAL if omsb else ZERO), sign, exp, sig)


def _add_or_sub(a: Apf, b: Apf) -> tuple[bool, int, int, int]:
    """Library ``sig::add_or_sub`` on two Normal values: (sign, exp, sig, loss)."""
    _, a_sign, a_exp, a_sig = a
    _, b_sign, b_exp, b_sig = b
    bits = a_exp - b_exp
    if a_sign != b_sign:
        if bits == 0:
            reverse, loss = a_sig < b_sig, L_ZERO
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
        borrow = loss != L_ZERO
        diff = (b_sig - a_sig if reverse else a_sig - b_sig) - borrow
        if diff < 0:
            # assert_eq!(sub(..), 0): the adder assumed normalised (integer-bit) significands.
            raise Panic("f80 add/sub: soft-float borrow assertion (reference P22)")
        if reverse:
            a_sign = not a_sign
        if loss == L_LT:
            loss = L_GT
        elif loss == L_GT:
            loss = L_LT
        return a_sign, a_exp, diff, loss
    if bits > 0:
        loss = _trunc_loss(b_sig, bits)
        b_sig >>= bits
    else:
        loss = _trunc_loss(a_sig, -bits)
        a_sig >>= -bits
        a_exp += -bits
    return a_sign, a_exp, a_sig + b_sig, loss


def _add(f: Format, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``add_r`` (``sub_r`` is ``add_r`` with the sign of `b` flipped)."""
    ca, cb = a[0], b[0]
    if ca == INF and cb == INF:
        return (INVALID, NAN_VALUE) if a[1] != b[1] else (OK, a)
    if cb == ZERO or ca == NAN or (ca == INF and cb == NORMAL):
        return OK, a
    if ca == ZERO or cb == NAN or cb == INF:
        return OK, b
    sign, exp, sig, loss = _add_or_sub(a, b)
    status, r = normalize(f, sign, exp, sig, rnd, loss)
    if r[0] == ZERO and loss != L_ZERO:
        raise Panic("f80 add/sub: soft-float zero-with-loss assertion (reference P22)")
    return status, r


def _mul(f: Format, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``mul_r``."""
    ca, cb = a[0], b[0]
    sign = a[1] != b[1]
    if ca == NAN or cb == NAN:
        return OK, NAN_VALUE
    if (ca == ZERO and cb == INF) or (ca == INF and cb == ZERO):
        return INVALID, NAN_VALUE
    if ca == INF or cb == INF:
        return OK, (INF, sign, f.max_exp + 1, 0)
    if ca == ZERO or cb == ZERO:
        return OK, (ZERO, sign, f.min_exp - 1, 0)
    prec = f.prec
    exp = a[2] + b[2] + 2 - (prec + 1)
    wide = a[3] * b[3]
    omsb = wide.bit_length()
    loss = L_ZERO
    if omsb > prec:
        loss = _trunc_loss(wide, omsb - prec)
        wide >>= omsb - prec
        exp += omsb - prec
    status, r = normalize(f, sign, exp, wide & _M256, rnd, loss)
    if loss != L_ZERO:
        status |= INEXACT
    return status, r


def _lost_fraction(rem: int, divisor: int) -> int:
    if rem > divisor:
        return L_GT
    if rem == divisor:
        return L_HALF
    return L_ZERO if rem == 0 else L_LT


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
        return exp, dividend, L_ZERO
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


def _div(f: Format, a: Apf, b: Apf, rnd: int) -> tuple[int, Apf]:
    """Library ``div_r``."""
    ca, cb = a[0], b[0]
    sign = a[1] != b[1]
    if ca == NAN or cb == NAN:
        return OK, NAN_VALUE
    if (ca == INF and cb == INF) or (ca == ZERO and cb == ZERO):
        return INVALID, NAN_VALUE
    if ca == INF or ca == ZERO:
        return OK, (ca, sign, a[2], a[3])
    if cb == INF:
        return OK, (ZERO, sign, f.min_exp - 1, 0)
    if cb == ZERO:
        return DIVZERO, (INF, sign, f.max_exp + 1, 0)
    exp, quotient, loss = _sig_div(a[2] - b[2], a[3], b[3], f.prec)
    status, r = normalize(f, sign, exp, quotient, rnd, loss)
    if loss != L_ZERO:
        status |= INEXACT
    return status, r


def arith(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """Full library path for one operation on stored bits; result as stored bits or None."""
    f = FORMATS[fc]
    va, vb = decode(fc, a), decode(fc, b)
    if op == "add":
        status, r = _add(f, va, vb, rnd)
    elif op == "sub":
        status, r = _add(f, va, (vb[0], not vb[1], vb[2], vb[3]), rnd)
    elif op == "mul":
        status, r = _mul(f, va, vb, rnd)
    elif op == "div":
        status, r = _div(f, va, vb, rnd)
    else:
        raise ValueError(f"unknown float operation {op!r}")
    if status & ~INEXACT or r[0] == NAN:
        return None
    if r[0] == ZERO:
        return 0
    return store(fc, encode(fc, r))


def to_i256(f: Format, v: Apf) -> tuple[int, bool]:
    """Library ``to_i256(256)``: truncate toward zero, saturate; (value, status == OK)."""
    cat, sign, exp, sig = v
    if cat == NAN:
        return 0, False
    if sign and cat != ZERO:
        r, ok = _to_u256(f, v, 256)
        if r > 1 << 255:
            return -(1 << 255), False
        return -r, ok
    r, ok = _to_u256(f, v, 255)
    return r, ok


def _to_u256(f: Format, v: Apf, width: int) -> tuple[int, bool]:
    """Library ``to_u256_r`` toward zero on the magnitude of `v` (sign ignored by caller)."""
    cat, _, exp, sig = v
    overflow = _M256 >> (256 - width)
    if cat == INF:
        return overflow, False
    if cat == ZERO:
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
    return r, _trunc_loss(sig, truncated) == L_ZERO


def compare(a: Apf, b: Apf) -> int:
    """Library ``partial_cmp`` (NaN never reaches it): -1, 0 or 1."""
    ca, cb = a[0], b[0]
    if ca == INF and cb == INF:
        return (b[1] - a[1])
    if ca == ZERO and cb == ZERO:
        return 0
    if ca == INF or (ca == NORMAL and cb == ZERO):
        return -1 if a[1] else 1
    if cb == INF or (ca == ZERO and cb == NORMAL):
        return 1 if b[1] else -1
    if a[1] != b[1]:
        return -1 if a[1] else 1
    mag = (a[2] > b[2]) - (a[2] < b[2]) or (a[3] > b[3]) - (a[3] < b[3])
    return -mag if a[1] else mag

