"""Emitters of F-register instructions (``op_<key>(li)``): f32 and f64 only, arithmetic in
round-to-nearest-even only - where the host's IEEE arithmetic gives the reference's results
bit for bit.  Every other format and rounding mode runs in the interpreter.

What the reference adds to IEEE arithmetic (:mod:`aluvm.semantics.floats.ieee`): operands are
read with NaN -> undefined and -0 -> +0, a result is undefined on INVALID (NaN), DIV_BY_ZERO or
OVERFLOW (an infinity from finite operands) and on UNDERFLOW (inexact and tiny), and -0 is
stored as +0.  A tiny sum or difference is always exact; a product or quotient of non-zero
finite operands that lands below the smallest normal leaves to the interpreter (its exactness
test is the rare path).  F registers have codes ``F_CODE + format`` (:mod:`~aluvm.jit.layout`).
"""
from __future__ import annotations

from aluvm.semantics.floats.formats import F32, FORMATS, store

from aluvm.jit.layout import F_CODE
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


def _consts(fc: int) -> tuple[int, str, int, int, int]:
    """(width, LLVM type, magnitude mask, exponent field mask (in place), smallest normal)."""
    f = FORMATS[fc]
    return (f.width, "float" if fc == F32 else "double", f.sign - 1, f.emask << f.fbits,
            1 << f.fbits)


def read_f(b: FunctionSkeleton, fc: int, v: str, d: str) -> tuple[str, str]:
    """A value as instructions see it (``floats.read``): NaN undefined, -0 as +0."""
    w, _, mag, emask, _ = _consts(fc)
    m = b.value(f"and i{w} {v}, {mag}")
    nan = b.value(f"icmp ugt i{w} {m}, {emask}")
    zero = b.value(f"icmp eq i{w} {m}, 0")
    return (b.select(zero, f"i{w}", "0", v),
            b.value(f"and i1 {d}, {b.value(f'xor i1 {nan}, true')}"))


def sign_op_f(b: FunctionSkeleton, neg: bool, fc: int, idx: int) -> None:
    """``neg``/``abs`` on an f32/f64 register (AF codes 10/11; numeric.neg/abs_ with
    floats.neg/abs_): the read value with its sign flipped (a zero stays +0) or cleared;
    st0 <- the value is defined."""
    w, _, mag, _, _ = _consts(fc)
    c = F_CODE + fc
    v, d = read_f(b, fc, *b.get(c, idx))
    m = b.value(f"and i{w} {v}, {mag}")
    if neg:
        r = b.select(b.value(f"icmp eq i{w} {m}, 0"), f"i{w}", "0",
                     b.value(f"xor i{w} {v}, {FORMATS[fc].sign}"))
    else:
        r = m
    b.put(c, idx, r, d)
    b.set_st0(d)


class FloatEmitters(FunctionSkeleton):
    """Emitters: f32/f64 arithmetic (round to nearest), comparisons, put, clear and moves
    (``neg``/``abs``: :func:`sign_op_f`, called by the A-register emitters of those keys)."""

    def _read(self, fc: int, v: str, d: str) -> tuple[str, str]:
        return read_f(self, fc, v, d)

    def _arith_f(self, op: str) -> None:
        a = self.args
        fc = a["reg"]
        c = F_CODE + fc
        w, fty, mag, emask, tiny = _consts(fc)
        ty = f"i{w}"
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        both = self.value(f"and i1 {dx}, {dy}")
        fx, fy = (self.value(f"bitcast {ty} {v} to {fty}") for v in (x, y))
        rb = self.value(f"bitcast {fty} {self.value(f'f{op} {fty} {fx}, {fy}')} to {ty}")
        m = self.value(f"and {ty} {rb}, {mag}")
        nan = self.value(f"icmp ugt {ty} {m}, {emask}")
        inf = self.value(f"icmp eq {ty} {m}, {emask}")
        finite = [self.value(f"icmp ne {ty} {self.value(f'and {ty} {v}, {emask}')}, {emask}")
                  for v in (x, y)]
        fin = self.value(f"and i1 {finite[0]}, {finite[1]}")
        if op in ("mul", "div"):
            nonzero = [self.value(f"icmp ne {ty} {self.value(f'and {ty} {v}, {mag}')}, 0")
                       for v in (x, y)]
            small = self.value(f"icmp ult {ty} {m}, {tiny}")
            risky = self.value(f"and i1 {small}, {self.value(f'and i1 {nonzero[0]}, {nonzero[1]}')}")
            self.bail_if(self.value(f"and i1 {both}, {self.value(f'and i1 {risky}, {fin}')}"))
        bad = self.value(f"or i1 {nan}, {self.value(f'and i1 {inf}, {fin}')}")
        ok = self.value(f"and i1 {both}, {self.value(f'xor i1 {bad}, true')}")
        r = self.select(self.value(f"icmp eq {ty} {m}, 0"), ty, "0", rb)
        self.put(c, a["src2"], r, ok)
        self.set_st0(ok)

    def op_add_f(self, li: LInstr) -> None:
        self._arith_f("add")

    def op_sub_f(self, li: LInstr) -> None:
        self._arith_f("sub")

    def op_mul_f(self, li: LInstr) -> None:
        self._arith_f("mul")

    def op_div_f(self, li: LInstr) -> None:
        self._arith_f("div")

    # -- comparisons (numeric.gt_f/lt_f/eq_f on read values; an undefined one gives false) ----
    def _cmp_f(self, kind: str) -> None:
        """``eq``: equal read values; ``gt``/``lt``: IEEE order (``.e``), or with ``.r`` the
        reference's defective order - the lowest exponent bit flipped, raw unsigned."""
        a = self.args
        fc = a["reg"]
        w, fty, _, _, _ = _consts(fc)
        x, dx = self._read(fc, *self.get(F_CODE + fc, a["idx1"]))
        y, dy = self._read(fc, *self.get(F_CODE + fc, a["idx2"]))
        if kind == "eq":
            r = self.value(f"icmp eq i{w} {x}, {y}")
        elif a["flag"]:
            m = 1 << FORMATS[fc].rbit
            xs, ys = (self.value(f"xor i{w} {v}, {m}") for v in (x, y))
            r = self.value(f"icmp {'ugt' if kind == 'gt' else 'ult'} i{w} {xs}, {ys}")
        else:
            fx, fy = (self.value(f"bitcast i{w} {v} to {fty}") for v in (x, y))
            r = self.value(f"fcmp {'ogt' if kind == 'gt' else 'olt'} {fty} {fx}, {fy}")
        both = self.value(f"and i1 {dx}, {dy}")
        self.set_st0(self.value(f"and i1 {both}, {r}"))

    def op_gt_f(self, li: LInstr) -> None:
        self._cmp_f("gt")

    def op_lt_f(self, li: LInstr) -> None:
        self._cmp_f("lt")

    def op_eq_f(self, li: LInstr) -> None:
        self._cmp_f("eq")

    # -- put, clear and moves (numeric.put_f/clr_f/mov_f/dup_f/swp_f: moved values pass through
    # ``read``) --------------------------------------------------------------------------------
    def op_put_f(self, li: LInstr) -> None:
        a, value = self.args, li.ins.value
        if value is None:               # past the data segment: undefined, st0 <- false
            self.put(F_CODE + a["reg"], a["idx"], None, "false")
            self.set_st0("false")
        else:
            self.put(F_CODE + a["reg"], a["idx"], str(store(a["reg"], value)), "true")

    def op_clr_f(self, li: LInstr) -> None:
        self.put(F_CODE + self.args["reg"], self.args["idx"], None, "false")

    def _moved(self, idx: int) -> tuple[str, str]:
        fc = self.args["reg"]
        return self._read(fc, *self.get(F_CODE + fc, idx))

    def op_mov_f(self, li: LInstr) -> None:
        a = self.args
        v, d = self._moved(a["idx1"])
        self.put(F_CODE + a["reg"], a["idx2"], v, d)
        self.put(F_CODE + a["reg"], a["idx1"], None, "false")

    def op_dup_f(self, li: LInstr) -> None:
        a = self.args
        v, d = self._moved(a["idx1"])
        self.put(F_CODE + a["reg"], a["idx2"], v, d)

    def op_swp_f(self, li: LInstr) -> None:
        a = self.args
        v1, d1 = self._moved(a["idx1"])
        v2, d2 = self._moved(a["idx2"])
        self.put(F_CODE + a["reg"], a["idx1"], v2, d2)
        self.put(F_CODE + a["reg"], a["idx2"], v1, d1)


__all__ = ["FloatEmitters"]
