"""The spec profile's float rules: the float instructions whose reference version can panic.

The ``spec`` profile is the reference op table with a few entries replaced (see
:mod:`aluvm.machine.interp`).  This module replaces exactly the float ops that can reach a reference
panic (semantics.md §10.1):

=========  =====================  ==========================================================
key        opcode                 reference panic fixed here
=========  =====================  ==========================================================
cnv_af     0x16 ``cnv`` A->F      P7 (``todo!`` for every defined source)
cnv_f      0x13 ``cnv`` F->F      P8 (±inf, f256, f512) and the f80 zero-fraction print assert
cnv_fa     0x17 ``cnv`` F->A      P9 (bf16 source)
gt_f/lt_f  0x18 ``gt.e/lt.e``     P10 (f256)
add_f ...  0x20-0x23 on F         P11 (f512), P22 (f80 add/sub assertions) and the f80
                                  divider's zero-fraction assertion
=========  =====================  ==========================================================

Every function has the signature of its reference op (:mod:`aluvm.semantics.numeric`) and the same
register plumbing (reads through ``get_n``: NaN -> undefined, -0 -> +0; an undefined source
clears the destination with the reference's st0 rule).  Only the value function differs: each
``*_spec`` value function below calls the reference value function first and replaces nothing but a
:class:`~aluvm.errors.Panic`, so wherever the reference finishes, spec == reference.  The chosen
rules are documented on those functions:

* :func:`cnv_af_spec` — integer rounded to nearest-even, st0 <- exact, overflow
  undefined (bf16: +inf), f512 destination = integer ``cpy`` into 512 bits;
* :func:`cnv_ff_spec` — ±inf -> ±inf, f256 by exact RNE conversion, f512 source as
  an integer -> float conversion, f512 destination as float -> integer into 512 bits;
* :func:`cnv_fa_spec` — bf16 like the other formats (toward zero, saturating i256);
* :func:`gt_spec` / :func:`lt_spec` — f256 IEEE ordering;
* :func:`arith_spec` — f512 undefined (st0 false), f80 assertion cases by the §1.4
  value model.
"""
from __future__ import annotations

from typing import Callable, Optional

from aluvm.errors import Panic
from aluvm.semantics.numeric import make_arith_f, make_cmp_f, make_cnv_af, make_cnv_f, make_cnv_fa
from aluvm.semantics.differs import AT_PANICS, Differs
from aluvm.semantics.floats import apfloat, reference
from aluvm.semantics.floats.formats import BF16, F32, F80, F256, F512, F512_MASK, FORMATS, store
from aluvm.semantics.floats.reference import compare, stored_inf

Op = Callable[..., None]

# ---------------------------------------------------------------------------------------------
# Value functions: each first calls the reference function and returns its answer unchanged
# whenever it finishes; only a reference :class:`Panic` is replaced.  So the spec profile equals
# the reference wherever the reference does not panic, by construction.
# ---------------------------------------------------------------------------------------------

def _round_encode(dst: int, neg_: bool, m: int, k: int) -> tuple[Optional[int], bool]:
    """m * 2**k (m > 0) rounded once, to nearest-even, into `dst` (not f512): (bits, exact).

    Overflow gives ``(None, False)``; the callers decide what that means.  Subnormals are
    produced normally (an integer source never reaches them); a result that rounds to zero is
    stored as +0.  f80 results go through :func:`store`, so they lose the integer bit like every
    f80 write (§1.4), and "exact" refers to the rounding, not to that storage loss (as for f80
    arithmetic, where 1.0 + 1.0 stores 0 with st0 true).
    """
    f = FORMATS[dst]
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
        return x & F512_MASK, x <= F512_MASK
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
        return reference.cnv_af(src_bits, a, dst)
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
        return reference.cnv_fa(src, a, dst_bits)
    except Panic:
        if src != BF16:
            raise
    return reference.cnv_fa(F32, a << 16, dst_bits)


def _exact_value(src: int, a: int) -> tuple[bool, Optional[tuple[int, int]]]:
    """(negative, (m, k)) with value m * 2**k of a read float value, None for an infinity.

    f80 uses the §1.4 value model (stored 63-bit fraction, no integer bit), exactly the value
    the reference prints and computes with; an f80 "Normal" with a zero fraction is worth 0.
    """
    v = apfloat.decode(src, a)
    cat, neg_, exp, sig = v
    if cat == apfloat.INF:
        return neg_, None
    if cat == apfloat.ZERO or sig == 0:
        return neg_, (0, 0)
    return neg_, (sig, exp - (FORMATS[src].prec - 1))


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
        return reference.cnv_ff(src, dst, a)
    except Panic:
        pass
    if src == F512:
        return _int_to_float_spec(a, dst)
    if dst == F512:
        return cnv_fa_spec(src, a, 512)
    neg_, value = _exact_value(src, a)
    if value is None:
        return stored_inf(dst, neg_), False
    m, k = value
    if m == 0:
        return 0, False
    bits, _ = _round_encode(dst, neg_, m, k)
    return (stored_inf(dst, neg_) if bits is None else bits), False


def _cmp_spec(fc: int, flag: int, a: int, b: int) -> int:
    """Like :func:`.reference.compare`, but f256 ``e`` ordering is IEEE (reference P10: ``unimplemented!``)."""
    try:
        return compare(fc, flag, a, b)
    except Panic:
        if fc != F256 or flag:
            raise
    return apfloat.compare(apfloat.decode(F256, a), apfloat.decode(F256, b))


def gt_spec(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``gt`` in the spec profile: f256 ``gt.e`` is the IEEE order (P10 fixed)."""
    return _cmp_spec(fc, rounding_flag, a, b) > 0


def lt_spec(fc: int, rounding_flag: int, a: int, b: int) -> bool:
    """``lt`` in the spec profile: f256 ``lt.e`` is the IEEE order (P10 fixed)."""
    return _cmp_spec(fc, rounding_flag, a, b) < 0


def f80_value_arith(op: str, rnd: int, a: int, b: int) -> Optional[int]:
    """f80 ``a op b`` under the §1.4 value model, without the library's significand algorithms.

    Operand value: stored 63-bit fraction f times 2^(E-63), E = max(e, 1) - 16383 (a zero
    fraction is worth 0 even under a non-zero exponent).  The exact rational result is rounded
    to 64 bits in the selected mode with the library's own ``normalize`` (so the §5.1 status
    rules apply: OVERFLOW in a mode rounding to infinity, inexact-and-tiny after rounding,
    division by zero and 0/0 give undefined; exact cancellation gives +0), then stored with
    bit 63 cleared.  This is what the reference computes whenever its adder does not assert
    (§1.4, [run] 0 mismatches).
    """
    f = FORMATS[F80]
    _, sa, ea, ma = apfloat.decode(F80, a)
    _, sb, eb, mb = apfloat.decode(F80, b)
    if op == "sub":
        sb = not sb
    loss = apfloat.L_ZERO
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
    status, r = apfloat.normalize(f, sign, exp, sig, rnd, loss)
    if status & ~apfloat.INEXACT or r[0] == apfloat.NAN:
        return None
    if r[0] == apfloat.ZERO:
        return 0
    return store(F80, apfloat.encode(F80, r))


def arith_spec(op: str, fc: int, rnd: int, a: int, b: int) -> Optional[int]:
    """add/sub/mul/div in the spec profile.

    * f512 (reference P11: float arithmetic on the u512 an f512 register reads as): f512 is
      reserved for a planned tapered float and has no float semantics in this version, so the
      result is undefined (st0 false) instead of a panic.
    * f80 where the library asserts (P22 for add/sub, also its divider's assertion for a zero
      stored fraction): the §1.4 value model, :func:`f80_value_arith`.
    * everything else: the reference result, unchanged.
    """
    if fc == F512:
        return None
    try:
        return reference.arith(op, fc, rnd, a, b)
    except Panic:
        if fc != F80:
            raise
    return f80_value_arith(op, rnd, a, b)


# ---------------------------------------------------------------------------------------------
# The op table: same register plumbing as the reference ops; only the value functions differ.
# ---------------------------------------------------------------------------------------------

cnv_f = make_cnv_f(cnv_ff_spec)      # P8 fixed (and the f80 zero-fraction print assert)
cnv_af = make_cnv_af(cnv_af_spec)    # P7 fixed
cnv_fa = make_cnv_fa(cnv_fa_spec)    # P9 fixed: bf16 like every other format
gt_f = make_cmp_f(gt_spec)           # P10 fixed: f256 IEEE order
lt_f = make_cmp_f(lt_spec)
# P11 (f512: undefined, st0 false) and P22 (f80 assertion cases: §1.4 value model)
add_f, sub_f, mul_f, div_f = (make_arith_f(k, arith_spec)
                              for k in ("add", "sub", "mul", "div"))


SPEC_OVERRIDES: dict[str, Op] = {
    "cnv_f": cnv_f, "cnv_af": cnv_af, "cnv_fa": cnv_fa,
    "gt_f": gt_f, "lt_f": lt_f,
    "add_f": add_f, "sub_f": sub_f, "mul_f": mul_f, "div_f": div_f,
}
#: every override equals the reference wherever the reference finishes (see above): they
#: differ only where the reference panics
SPEC_DIFFERS: dict[str, tuple[Differs, ...]] = {k: AT_PANICS for k in SPEC_OVERRIDES}

__all__ = ["SPEC_OVERRIDES", "cnv_f", "cnv_af", "cnv_fa", "gt_f", "lt_f",
           "add_f", "sub_f", "mul_f", "div_f"]
