"""Spec-profile float instructions (aluvm.semantics.floats.spec): the reference panics P7-P11, P22.

* known answers worked out by hand for every fixed panic (the reference panics on each of them);
* independent oracles (MPFR via gmpy2, exact ``Fraction`` ordering) for the new rules;
* equivalence: wherever the reference op finishes, the spec op leaves identical registers/st0;
* every shared vector whose reference run hit a float panic runs to the end under the spec
  profile with these overrides.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Optional

import gmpy2
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aluvm.semantics import floats as F
from aluvm.semantics.floats import reference, spec
from aluvm.semantics.floats.formats import RND_NEAREST
from aluvm.machine import interp
from aluvm.isa import table as isa
from aluvm.semantics import numeric
from aluvm.errors import Panic
from aluvm.semantics.floats.spec import SPEC_OVERRIDES
from aluvm.machine.registers import A_BITS, A_MASK, Registers

BF16, F16, F32, F64, F80, F128, F256, F512 = range(8)
OPS = ("add", "sub", "mul", "div")
KEYS = ("cnv_f", "cnv_af", "cnv_fa", "gt_f", "lt_f", "add_f", "sub_f", "mul_f", "div_f")
PROFILE = dataclasses.replace(interp.SPEC, ops={**interp.SPEC.ops, **SPEC_OVERRIDES})
LIB = bytes([7]) * 32
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# (width, exponent bits, stored fraction bits); f80 stores 64 with the explicit integer bit.
LAYOUT = {BF16: (16, 8, 7), F16: (16, 5, 10), F32: (32, 8, 23), F64: (64, 11, 52),
          F80: (80, 15, 64), F128: (128, 15, 112), F256: (256, 19, 236)}


# ---- helpers ---------------------------------------------------------------------------------

def code(*instrs: tuple) -> bytes:
    """Assemble (key, *fields) tuples through the ISA table, then ``ret``."""
    out = bytearray()
    for key, *args in instrs:
        form = isa.BY_KEY[key]
        out.append(form.opcode)
        out += form.pack(tuple(args)).to_bytes(form.arg_bits // 8, "little")
    return bytes(out) + b"\x07"


def run(prog: bytes, regs: Registers, profile=PROFILE) -> tuple[Registers, str]:
    m = interp.Machine(profile)
    m.add(prog, b"", (), LIB)
    return regs, m.run(LIB, 0, regs).reason


def spec_and_ref(prog: bytes, setup) -> Registers:
    """Run under the reference (must panic) and under the spec profile (must not)."""
    _, why = run(prog, setup(Registers()), interp.REFERENCE)
    assert why.startswith("panic"), why
    regs, why = run(prog, setup(Registers()))
    assert not why.startswith("panic"), why
    return regs


def value(fc: int, bits: int) -> Optional[Fraction]:
    """Exact value of IEEE bits (f80: with its integer bit), None for inf/NaN; independent of
    the module."""
    w, eb, fb = LAYOUT[fc]
    sign = -1 if bits >> (w - 1) & 1 else 1
    field = (bits >> fb) & ((1 << eb) - 1)
    frac = bits & ((1 << fb) - 1)
    bias = (1 << (eb - 1)) - 1
    if field == (1 << eb) - 1:
        return None
    if fc == F80:
        return sign * Fraction(frac) * Fraction(2) ** (max(field, 1) - bias - 63)
    if field == 0:
        return sign * Fraction(frac) * Fraction(2) ** (1 - bias - fb)
    return sign * Fraction(frac | (1 << fb)) * Fraction(2) ** (field - bias - fb)


def f80_model_value(bits: int) -> Fraction:
    """§1.4 value of stored f80 bits: fraction * 2^(E - 63), no integer bit."""
    sign = -1 if bits >> 79 else 1
    field = (bits >> 64) & 0x7FFF
    return sign * Fraction(bits & ((1 << 63) - 1)) * Fraction(2) ** (max(field, 1) - 16383 - 63)


def f80_restored(bits: int) -> Fraction:
    """Value of a stored f80 *result*: the integer bit was set before the store dropped it."""
    field = (bits >> 64) & 0x7FFF
    return value(F80, bits | (1 << 63) if field else bits)


def mpfr_ctx(fc: int, rnd: int = RND_NEAREST) -> gmpy2.context:
    """Destination contexts from semantics.md §5.1 (MPFR convention emin/emax)."""
    if fc == F80:
        ctx = gmpy2.context(precision=64, emax=16384, emin=-16444, subnormalize=True)
    elif fc == BF16:
        ctx = gmpy2.context(precision=8, emax=128, emin=-132, subnormalize=True)
    else:
        ctx = gmpy2.ieee({F16: 16, F32: 32, F64: 64, F128: 128, F256: 256}[fc])
    ctx.round = (gmpy2.RoundToZero, gmpy2.RoundToNearest, gmpy2.RoundDown, gmpy2.RoundUp)[rnd]
    return ctx


def frac(r: gmpy2.mpfr) -> Fraction:
    return Fraction(*r.as_integer_ratio())


def to_mpfr(q: Fraction, ctx: gmpy2.context) -> gmpy2.mpfr:
    """q rounded once in `ctx` (MPFR divides the exact numerator by the exact denominator)."""
    prec = max(2, q.numerator.bit_length(), q.denominator.bit_length())
    return ctx.div(gmpy2.mpfr(q.numerator, prec), gmpy2.mpfr(q.denominator, prec))


def ref_spec_ops(key: str, setup, args: tuple) -> Optional[tuple[Registers, Registers]]:
    """Apply the reference op and the spec op to copies; None if the reference panics."""
    r1 = setup(Registers())
    r2 = r1.copy()
    try:
        numeric.OPS[key](r1, *args)
    except Panic:
        return None
    SPEC_OVERRIDES[key](r2, *args)
    return r1, r2


def same(r1: Registers, r2: Registers) -> None:
    assert r1.f == r2.f and r1.a == r2.a and r1.st0 == r2.st0


# ---- strategies ------------------------------------------------------------------------------

def float_bits(fc: int) -> st.SearchStrategy[int]:
    if fc == F512:
        return st.one_of(st.integers(0, 255), st.integers(0, (1 << 512) - 1),
                         st.integers(0, 64).map(lambda k: (1 << k) * 3))
    w, eb, fb = LAYOUT[fc]
    emax = (1 << eb) - 1
    bias = emax >> 1
    sign = st.integers(0, 1)
    fields = st.one_of(st.integers(0, emax), st.integers(bias - 40, bias + 70),
                       st.sampled_from([0, 1, emax - 1, emax]))
    fracs = st.one_of(st.integers(0, (1 << fb) - 1), st.sampled_from([0, 1, (1 << fb) - 1]),
                      st.integers(0, 7).map(lambda k: k << (fb - 3)))
    return st.builds(lambda s, e, f: (s << (w - 1)) | (e << fb) | f, sign, fields, fracs)


any_fc = st.integers(0, 7)
any_a = st.integers(0, 7)


def a_value(reg: int) -> st.SearchStrategy[int]:
    w = A_BITS[reg]
    return st.one_of(st.integers(0, A_MASK[reg]), st.integers(0, min(w, 80)).map(lambda k: (1 << k) - 1),
                     st.integers(0, w - 1).map(lambda k: 1 << k), st.integers(0, 300))


# ---- P7: cnv A -> F -------------------------------------------------------------------------

@pytest.mark.parametrize("dst, x, bits, st0", [
    (F32, 3, 0x40400000, True),                       # 3 = 1.1b * 2^1
    (F32, 0, 0, True),
    (F32, 16777217, 0x4B800000, False),               # 2^24 + 1: tie -> even (2^24)
    (F32, 16777219, 0x4B800002, False),               # 2^24 + 3: tie -> even (2^24 + 4)
    (F16, 65504, 0x7BFF, True),                       # f16 MAX
    (F16, 65519, 0x7BFF, False),                      # below the midpoint to 65536
    (F16, 65520, None, False),                        # rounds to 2^16: OVERFLOW -> undefined
    (BF16, 3, 0x4040, True),
    (BF16, 257, 0x4380, False),                       # 256 + 1 -> 256 (8-bit precision)
    (F64, (1 << 53) + 1, 0x4340000000000000, False),
    (F64, 1 << 1023, 0x7FE0000000000000, True),
    (F64, (1 << 1024) - 1, None, False),              # rounds to 2^1024: overflow
    (F128, (1 << 1024) - 1, 0x43FF0000000000000000000000000000, False),  # 2^1024
    (F256, (1 << 1024) - 1, (1024 + 262143) << 236, False),  # rounds up to 2^1024
    (F80, 3, 0x4000_4000000000000000, True),          # 3.0, stored without the integer bit
    (F80, (1 << 64) + 1, 0x403F_0000000000000000, False),  # tie -> 2^64, field 16383+64
    (F512, 5, 5, True),                               # f512: integer cpy
])
def test_cnv_af_known_answers(dst: int, x: int, bits: Optional[int], st0: Optional[bool]) -> None:
    src = A_BITS.index(1024)
    prog = code(("cnv_af", src, 0, dst, 1))
    regs = spec_and_ref(prog, lambda r: (r.a[src].__setitem__(0, x), r)[1])
    assert regs.f[dst][1] == bits
    assert regs.st0 is st0


def test_cnv_af_a8_3_to_f32_through_bytecode() -> None:
    # 16 00 02: cnv a8[0],f32[0]
    assert code(("cnv_af", 0, 0, 2, 0)) == bytes.fromhex("16000207")
    regs = spec_and_ref(bytes.fromhex("16000207"), lambda r: (r.a[0].__setitem__(0, 3), r)[1])
    assert regs.f[F32][0] == 0x40400000 and regs.st0 is True


def test_cnv_af_bf16_overflow_and_f512_wide() -> None:
    big = (1 << 1024) - 1
    src = A_BITS.index(1024)
    regs = spec_and_ref(code(("cnv_af", src, 0, BF16, 0)), lambda r: (r.a[src].__setitem__(0, big), r)[1])
    assert regs.f[BF16][0] == 0x7F80 and regs.st0 is False          # bf16: +inf, inexact
    regs = spec_and_ref(code(("cnv_af", src, 0, F512, 0)), lambda r: (r.a[src].__setitem__(0, big), r)[1])
    assert regs.f[F512][0] == (1 << 512) - 1 and regs.st0 is False  # cpy: does not fit


def test_cnv_af_undefined_source_unchanged() -> None:
    regs, _ = run(code(("cnv_af", 0, 0, F32, 0)), Registers())
    assert regs.f[F32][0] is None and regs.st0 is True


@SETTINGS
@given(reg=any_a, dst=any_fc, data=st.data())
def test_cnv_af_matches_mpfr(reg: int, dst: int, data) -> None:
    x = data.draw(a_value(reg))
    bits, st0 = spec.cnv_af_spec(A_BITS[reg], x, dst)
    if dst == F512:
        assert (bits, st0) == (x & ((1 << 512) - 1), x < (1 << 512))
        return
    r = to_mpfr(Fraction(x), mpfr_ctx(dst))
    if r.is_infinite():
        assert (bits, st0) == ((0x7F80, False) if dst == BF16 else (None, False))
        return
    assert st0 is (frac(r) == x)
    got = f80_restored(bits) if dst == F80 and x else value(dst, bits)
    assert got == frac(r)


# ---- P8: cnv F -> F -------------------------------------------------------------------------

ONE = {BF16: 0x3F80, F16: 0x3C00, F32: 0x3F800000, F64: 0x3FF0000000000000,
       F128: 0x3FFF << 112, F256: 0x3FFFF << 236}


@pytest.mark.parametrize("src, dst, a, bits", [
    (F32, F64, 0x7F800000, 0x7FF0000000000000),       # +inf -> +inf
    (F64, F16, 0xFFF0000000000000, 0xFC00),           # -inf -> -inf
    (F16, F128, 0x7C00, 0x7FFF << 112),
    (F32, F80, 0xFF800000, 0xFFFF_0000000000000000),  # stored like any f80 inf (reads undefined)
    (F256, F32, ONE[F256], ONE[F32]),
    (F32, F256, ONE[F32], ONE[F256]),
    (F256, F64, ONE[F256] | 1, ONE[F64]),             # 1 + 2^-236 rounds to 1.0
    (F32, F256, 0x3DCCCCCD, (0x3FFFB << 236) | (0x4CCCCD << 213) & ((1 << 236) - 1)),  # exact widening
    (F256, F32, ((262143 + 300) << 236), 0x7F800000),  # 2^300: overflow -> +inf stored
    (F256, F32, ((262143 - 200) << 236), 0),           # 2^-200: underflows to +0
    (F256, BF16, ONE[F256] | (1 << 228) | (1 << 206), 0x3F81),  # 1+2^-8+2^-30: single RNE
    (F256, F128, (262143 + 1) << 236, 0x4000 << 112),              # 2.0 -> f128
    (F256, F80, (262143 + 1) << 236, 0x4000_0000000000000000),     # 2.0, integer bit dropped
    (F256, F16, 0x7FFFF << 236, 0x7C00),                            # f256 +inf -> f16 +inf
    (F80, F64, 0x3FFF_0000000000000000, 0),           # f80 1.0: stored fraction 0, value 0
    (F512, F32, 3, 0x40400000),                       # integer 3 -> f32 (st0: exact, below)
    (F512, F512, 12345, 12345),
])
def test_cnv_ff_known_answers(src: int, dst: int, a: int, bits: int) -> None:
    prog = code(("cnv_f", src, 0, dst, 1))
    regs = spec_and_ref(prog, lambda r: (r.f[src].__setitem__(0, F.store(src, a)), r)[1])
    assert regs.f[dst][1] == bits
    assert regs.st0 is (src == F512)                  # cross-format float conversions: false


def test_cnv_ff_f512_overflow_and_f512_destination() -> None:
    assert spec.cnv_ff_spec(F512, F32, (1 << 512) - 1) == (None, False)   # like cnv A->F: overflow
    assert spec.cnv_ff_spec(F512, F64, (1 << 512) - 1) == ((1023 + 512) << 52, False)  # 2^512
    assert spec.cnv_ff_spec(F512, F32, (1 << 24) + 1) == (0x4B800000, False)
    assert spec.cnv_ff_spec(F32, F512, 0x40200000) == (2, False)          # 2.5 -> 2 (toward zero)
    assert spec.cnv_ff_spec(F32, F512, 0xC0800000) == ((1 << 256) - 4, True)  # -4: i256, 0-extended
    assert spec.cnv_ff_spec(F256, F512, ONE[F256]) == (1, True)
    assert spec.cnv_ff_spec(BF16, F512, 0x4060) == (3, False)             # bf16 3.5
    assert spec.cnv_ff_spec(F64, F512, 0x7FF0000000000000) == ((1 << 255) - 1, False)


@SETTINGS
@given(other=st.sampled_from([BF16, F16, F32, F64, F80, F128]), to_f256=st.booleans(),
       data=st.data())
def test_cnv_ff_f256_matches_mpfr(other: int, to_f256: bool, data) -> None:
    """f256 on either side: the exact value rounded once (RNE) into the destination."""
    src, dst = (other, F256) if to_f256 else (F256, other)
    a = F.read(src, F.store(src, data.draw(float_bits(src))))
    assume(a is not None)
    bits, st0 = spec.cnv_ff_spec(src, dst, a)
    assert st0 is False
    q = f80_model_value(a) if src == F80 else value(src, a)
    if q is None:                                     # infinity
        neg = bool(a >> (LAYOUT[src][0] - 1))
        assert bits == reference.stored_inf(dst, neg)
        return
    r = to_mpfr(q, mpfr_ctx(dst))
    if r.is_infinite():
        assert bits == reference.stored_inf(dst, r < 0)
    elif r == 0:
        assert bits == 0
    else:
        assert (f80_restored(bits) if dst == F80 else value(dst, bits)) == frac(r)


# ---- P9: cnv bf16 -> A ----------------------------------------------------------------------

@pytest.mark.parametrize("a, dst, out, st0", [
    (0x4060, 0, 3, False),                # 3.5 -> 3 toward zero
    (0xC060, 0, 0xFD, False),             # -3.5 -> -3, low byte
    (0xBF80, 1, 0xFFFF, True),            # -1.0 -> a16 all ones, exact
    (0x4380, 0, 0, True),                 # 256 -> a8: 0 (width is not checked), exact
    (0x7F80, 0, 0xFF, False),             # +inf saturates to 2^255-1
    (0xFF80, 7, 1 << 255, False),         # -inf -> -2^255, zero-extended into a1024
    (0x7F7F, 5, 0xFF << 120, True),       # bf16 MAX = 0xFF * 2^120, exact
    (0x3F00, 2, 0, False),                # 0.5 -> 0
])
def test_cnv_fa_bf16_known_answers(a: int, dst: int, out: int, st0: bool) -> None:
    regs = spec_and_ref(code(("cnv_fa", BF16, 0, dst, 1)),
                        lambda r: (r.f[BF16].__setitem__(0, a), r)[1])
    assert regs.a[dst][1] == out and regs.st0 is st0


@SETTINGS
@given(a=float_bits(BF16), dst=any_a)
def test_cnv_fa_bf16_is_truncating_i256(a: int, dst: int) -> None:
    x = F.read(BF16, a)
    assume(x is not None)
    out, st0 = spec.cnv_fa_spec(BF16, x, A_BITS[dst])
    q = value(BF16, x)
    if q is None:
        i = (1 << 255) - 1 if not x >> 15 else -(1 << 255)
        exact = False
    else:
        t = int(q)                                    # truncation toward zero
        i = max(-(1 << 255), min((1 << 255) - 1, t))
        exact = i == q
    assert out == i % (1 << min(256, A_BITS[dst])) and st0 is exact


# ---- P10: f256 gt.e / lt.e ------------------------------------------------------------------

def test_f256_ordering_known_answers() -> None:
    two, one = (262143 + 1) << 236, 262143 << 236
    neg_one = one | (1 << 255)
    inf, max_ = 0x7FFFF << 236, (0x7FFFE << 236) | ((1 << 236) - 1)
    setup = lambda r: (r.f[F256].__setitem__(0, two), r.f[F256].__setitem__(1, one), r)[-1]
    assert spec_and_ref(code(("gt_f", 0, 0, 1, F256)), setup).st0 is True    # 2.0 > 1.0
    assert spec_and_ref(code(("lt_f", 0, 0, 1, F256)), setup).st0 is False
    assert spec_and_ref(code(("lt_f", 0, 1, 0, F256)), setup).st0 is True    # 1.0 < 2.0
    for x, y, gt in [(neg_one, one, False), (inf, max_, True), (1, 0, True),
                     (neg_one | 1, neg_one, False), (1 << 255, 0, False)]:
        assert spec.gt_spec(F256, 0, F.read(F256, x), F.read(F256, y)) is gt
    # -0 reads as +0: neither greater nor less
    assert not spec.gt_spec(F256, 0, F.read(F256, 1 << 255), 0)
    assert not spec.lt_spec(F256, 0, F.read(F256, 1 << 255), 0)


@SETTINGS
@given(a=float_bits(F256), b=float_bits(F256))
def test_f256_ordering_is_ieee(a: int, b: int) -> None:
    x, y = F.read(F256, a), F.read(F256, b)
    assume(x is not None and y is not None)

    def key(v: int):
        q = value(F256, v)
        if q is None:
            return Fraction(-1 if v >> 255 else 1) * 10 ** 100000
        return q
    assert spec.gt_spec(F256, 0, x, y) is (key(x) > key(y))
    assert spec.lt_spec(F256, 0, x, y) is (key(x) < key(y))


# ---- P11: f512 arithmetic -------------------------------------------------------------------

@pytest.mark.parametrize("op", OPS)
def test_f512_arith_is_undefined(op: str) -> None:
    setup = lambda r: (r.f[F512].__setitem__(0, 6), r.f[F512].__setitem__(1, 3), r)[-1]
    regs = spec_and_ref(code((f"{op}_f", 1, 0, 1, F512)), setup)
    assert regs.f[F512][1] is None and regs.st0 is False
    assert regs.f[F512][0] == 6


# ---- P22: f80 add/sub -----------------------------------------------------------------------

def test_f80_add_known_answer() -> None:
    # a = 4000 0000000000000001: value 1 * 2^(1-63) = 2^-62 (the integer bit of 2.0 is gone)
    # b = BFFF 6000000000000000 (-1.75): value -0.75
    # a + b = -(0.75 - 2^-62) = -(0xC000000000000000 - 4) * 2^-64: 64 bits, exact
    #   -> sign 1, field 0x3FFE, significand 0xBFFFFFFFFFFFFFFC, stored without bit 63
    setup = lambda r: (r.f[F80].__setitem__(0, F.store(F80, 0x4000_0000000000000001)),
                       r.f[F80].__setitem__(1, F.store(F80, 0xBFFF_6000000000000000)), r)[-1]
    regs = spec_and_ref(code(("add_f", RND_NEAREST, 0, 1, F80)), setup)
    assert regs.f[F80][1] == 0xBFFE_3FFFFFFFFFFFFFFC and regs.st0 is True
    # sub with the sign of b flipped is the same computation
    setup2 = lambda r: (r.f[F80].__setitem__(0, F.store(F80, 0x4000_0000000000000001)),
                        r.f[F80].__setitem__(1, F.store(F80, 0x3FFF_6000000000000000)), r)[-1]
    regs = spec_and_ref(code(("sub_f", RND_NEAREST, 0, 1, F80)), setup2)
    assert regs.f[F80][1] == 0xBFFE_3FFFFFFFFFFFFFFC and regs.st0 is True


def test_f80_zero_fraction_operands() -> None:
    # 1.0 (3FFF 8000...) stores fraction 0: value 0 under the model; 1.5 stores 0.5
    one, half = F.store(F80, 0x3FFF_8000000000000000), F.store(F80, 0x3FFF_C000000000000000)
    assert spec.f80_value_arith("div", RND_NEAREST, half, one) is None    # x / 0
    assert spec.f80_value_arith("div", RND_NEAREST, one, half) == 0       # 0 / x
    # 0 + 0.5 = 0.5, normalised to 3FFE 8000... and stored without the integer bit
    assert spec.f80_value_arith("add", RND_NEAREST, one, half) == 0x3FFE_0000000000000000
    assert spec.f80_value_arith("sub", RND_NEAREST, half, half) == 0      # exact cancellation


def f80_oracle(op: str, rnd: int, a: int, b: int) -> Optional[int]:
    """§1.4 recipe with MPFR: value model, precision 64, §5.1 status rules, bit 63 cleared."""
    x, y = f80_model_value(a), f80_model_value(b)
    if op == "div" and y == 0:
        return None
    q = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y if y else 0}[op]
    if q == 0:
        return 0
    r = to_mpfr(q, mpfr_ctx(F80, rnd))
    if r.is_infinite():
        return None                                   # OVERFLOW in a mode rounding to inf
    inexact = frac(r) != q
    if r == 0:
        return None if inexact else 0
    if inexact and abs(frac(r)) < Fraction(2) ** -16382:
        return None
    v = frac(r)
    sign = 1 << 79 if v < 0 else 0
    v = abs(v)
    top = max(-16382, v.numerator.bit_length() - v.denominator.bit_length()
              - (v < Fraction(2) ** (v.numerator.bit_length() - v.denominator.bit_length())))
    sig = v / Fraction(2) ** (top - 63)
    assert sig.denominator == 1 and sig.numerator < 1 << 64
    # stored: bit 63 dropped, and the lowest binade (field 1) re-encodes with field 0 (§1.4)
    field = top + 16383 if sig.numerator >> 63 and top > -16382 else 0
    return sign | (field << 64) | (sig.numerator & ((1 << 63) - 1))


def f80_operand() -> st.SearchStrategy[int]:
    return st.builds(lambda s, e, f: F.store(F80, (s << 79) | (e << 64) | f),
                     st.integers(0, 1),
                     st.one_of(st.integers(16370, 16400), st.integers(0, 0x7FFE),
                               st.sampled_from([0, 1, 2, 0x7FFE]), st.integers(0, 70)),
                     st.one_of(st.integers(0, (1 << 63) - 1), st.just((1 << 63) - 1),
                               st.integers(1, 63).map(lambda k: ((1 << 63) - 1) >> k),
                               st.integers(0, 7).map(lambda k: k << 60)))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=st.sampled_from(OPS), rnd=st.integers(0, 3), a=f80_operand(), b=f80_operand())
def test_f80_fallback_matches_mpfr_value_model(op: str, rnd: int, a: int, b: int) -> None:
    x, y = F.read(F80, a), F.read(F80, b)
    assume(x is not None and y is not None)
    assert spec.f80_value_arith(op, rnd, x, y) == f80_oracle(op, rnd, x, y)
    try:
        F.arith(op, F80, rnd, x, y)
    except Panic:
        assert spec.arith_spec(op, F80, rnd, x, y) == f80_oracle(op, rnd, x, y)


# ---- equivalence with the reference wherever it finishes -------------------------------------

def _setf(fc: int, vals: dict[int, Optional[int]]):
    def setup(r: Registers) -> Registers:
        for i, v in vals.items():
            r.f[fc][i] = None if v is None else F.store(fc, v)
        return r
    return setup


def maybe(s: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(s, s, s, st.none())


@SETTINGS
@given(src=any_fc, dst=any_fc, data=st.data(), st0=st.booleans())
def test_cnv_f_equivalence(src: int, dst: int, data, st0: bool) -> None:
    a = data.draw(maybe(float_bits(src)))

    def setup(r: Registers) -> Registers:
        r.st0 = st0
        r.f[src][0] = None if a is None else F.store(src, a)
        return r
    res = ref_spec_ops("cnv_f", setup, (src, 0, dst, 1))
    if res is not None:
        same(*res)


@SETTINGS
@given(src=any_fc, dst=any_a, data=st.data(), st0=st.booleans())
def test_cnv_fa_equivalence(src: int, dst: int, data, st0: bool) -> None:
    a = data.draw(maybe(float_bits(src)))

    def setup(r: Registers) -> Registers:
        r.st0 = st0
        r.f[src][0] = None if a is None else F.store(src, a)
        return r
    res = ref_spec_ops("cnv_fa", setup, (src, 0, dst, 1))
    if res is not None:
        same(*res)


@SETTINGS
@given(src=any_a, dst=any_fc, st0=st.booleans(), data=st.data())
def test_cnv_af_equivalence(src: int, dst: int, st0: bool, data) -> None:
    x = data.draw(maybe(a_value(src)))

    def setup(r: Registers) -> Registers:
        r.st0, r.a[src][0] = st0, x
        return r
    res = ref_spec_ops("cnv_af", setup, (src, 0, dst, 1))
    assert (res is None) is (x is not None)           # P7: every defined source panics
    if res is not None:
        same(*res)


@SETTINGS
@given(fc=any_fc, flag=st.integers(0, 1), key=st.sampled_from(["gt_f", "lt_f"]), data=st.data())
def test_compare_equivalence(fc: int, flag: int, key: str, data) -> None:
    a, b = data.draw(maybe(float_bits(fc))), data.draw(maybe(float_bits(fc)))
    res = ref_spec_ops(key, _setf(fc, {0: a, 1: b}), (flag, 0, 1, fc))
    if res is not None:
        same(*res)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fc=any_fc, rnd=st.integers(0, 3), op=st.sampled_from(OPS), data=st.data())
def test_arith_equivalence(fc: int, rnd: int, op: str, data) -> None:
    if fc == F80:
        a, b = data.draw(maybe(f80_operand())), data.draw(maybe(f80_operand()))
    else:
        a, b = data.draw(maybe(float_bits(fc))), data.draw(maybe(float_bits(fc)))
    res = ref_spec_ops(f"{op}_f", _setf(fc, {0: a, 1: b}), (rnd, 0, 1, fc))
    if res is not None:
        same(*res)


def test_overrides_cover_exactly_the_panicking_float_ops() -> None:
    assert set(SPEC_OVERRIDES) == set(KEYS)
    for key, fn in SPEC_OVERRIDES.items():
        assert key in numeric.OPS and fn is not numeric.OPS[key]


# ---- the shared vectors: no float panic left -------------------------------------------------

VECTORS = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors"
# Rust panic messages of the float panics (P7-P11, P22 and the other soft-float assertions)
FLOAT_PANIC = re.compile(r"reshape from u\d+ to (?![ui]\d)|IEEE|tapered|BFloat16|"
                         r"of integer numbers|apfloat|float layout conversion|no characters")
FIXED = re.compile(r"\(reference P(7|8|9|10|11|22)\)|f80 |float layout|IEEE|tapered|BFloat16")


def _float_panic_vectors() -> list[dict]:
    out = []
    for path in sorted(VECTORS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as fh:
            for line in fh:
                if '"reference_panics"' not in line:
                    continue
                v = json.loads(line)
                if v.get("reference_panics") and FLOAT_PANIC.search(v["expect"].get("panic", "")):
                    out.append(v)
    return out


def _runner(lib, regs, entry, profile):
    m = interp.Machine(PROFILE)
    m.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
    return m.run(lib.id, entry, regs)


@pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors not present")
def test_shared_vectors_have_no_float_panic_left() -> None:
    from aluvm.tools.service import handle
    vectors = _float_panic_vectors()
    assert len(vectors) > 500
    left = []
    for v in vectors:
        out = handle(v["request"], "spec", _runner)
        reason = out.get("reason", "")
        if reason.startswith("panic") and FIXED.search(reason):
            left.append((v["id"], reason))
    assert not left, left[:10]
