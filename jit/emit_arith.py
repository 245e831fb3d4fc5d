"""Emitters of A-register arithmetic (``op_<key>(li)``): exact, with the reference's panics and
corner cases left to the interpreter through :meth:`~FunctionSkeleton.bail_if`.
"""
from __future__ import annotations

from typing import Callable

from aluvm.machine.registers import A_BITS
from aluvm.semantics import numeric

from aluvm.jit.emit_float import sign_op_f
from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class ArithEmitters(FunctionSkeleton):
    """Emitters: A-register arithmetic."""

    # -- arithmetic ---------------------------------------------------------------------------
    def _arith(self, compute: Callable[[str, str, int], tuple[str, str]]) -> None:
        """``src2 <- src1 op src2``; st0 <- result defined."""
        a = self.args
        c = a["reg"]
        w = A_BITS[c]
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        both = self.value(f"and i1 {dx}, {dy}")
        self.both = both    # corner-case exits are only taken when both operands are defined
        v, ok = compute(x, y, w)
        d = self.value(f"and i1 {both}, {ok}")
        self.put(c, a["src2"], v, d)
        self.set_st0(d)

    def _sw1024_overflow(self, x: str, y: str, r: str) -> str:
        """add1024_sw: overflow unless an operand is MIN (the bigint misses that case)."""
        ty = "i1024"
        xmin = self.value(f"icmp eq {ty} {x}, {1 << 1023}")
        ymin = self.value(f"icmp eq {ty} {y}, {1 << 1023}")
        sx = self.value(f"icmp slt {ty} {x}, 0")
        sy = self.value(f"icmp slt {ty} {y}, 0")
        sr = self.value(f"icmp slt {ty} {r}, 0")
        same = self.eq1(sx, sy)
        flip = self.value(f"xor i1 {sr}, {sx}")
        ovf = self.value(f"and i1 {same}, {flip}")
        anymin = self.value(f"or i1 {xmin}, {ymin}")
        return self.value(f"and i1 {ovf}, {self.value(f'xor i1 {anymin}, true')}")

    def op_add_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = int_type(w)
            if not self.args["flags"]:
                r = self.intrinsic(f"llvm.uadd.with.overflow.{ty}", f"{{{ty}, i1}}", [(ty, x), (ty, y)])
                v = self.value(f"extractvalue {{{ty}, i1}} {r}, 0")
                o = self.value(f"extractvalue {{{ty}, i1}} {r}, 1")
                return v, self.value(f"xor i1 {o}, true")
            r = self.value(f"add {ty} {x}, {y}")
            if w == 1024:
                ok = self.value(f"xor i1 {self._sw1024_overflow(x, y, r)}, true")
                return self.store_signed(r, w), ok
            return self.store_signed(r, w, nonneg_likely=True), "true"
        self._arith(compute)

    def op_sub_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = int_type(w)
            r = self.value(f"sub {ty} {x}, {y}")
            if not self.args["flags"]:
                return r, self.value(f"icmp uge {ty} {x}, {y}")
            if w == 1024:
                ny = self.value(f"sub {ty} 0, {y}")
                ok = self.value(f"xor i1 {self._sw1024_overflow(x, ny, r)}, true")
                return self.store_signed(r, w), ok
            return self.store_signed(r, w, nonneg_likely=True), "true"
        self._arith(compute)

    def op_mul_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = int_type(w)
            if not self.args["flags"]:
                v, o = self.primitive("umulo", w, [x, y])
                return v, self.value(f"xor i1 {o}, true")
            if w == 1024:
                # the bigint's Booth multiplication is exact unless src1 is 2^1023 (interpreter)
                self.bail_if(self.value(f"and i1 {self.both}, {self.value(f'icmp eq {ty} {x}, {1 << 1023}')}"))
                v, o = self.primitive("smulo", w, [x, y])
                return self.store_signed(v, w), self.value(f"xor i1 {o}, true")
            return self.store_signed(self.primitive("mul", w, [x, y])[0], w), "true"
        self._arith(compute)

    def op_div_a(self, li: LInstr) -> None:
        def compute(x: str, y: str, w: int) -> tuple[str, str]:
            ty = int_type(w)
            ynz = self.value(f"icmp ne {ty} {y}, 0")
            # divide by a safe divisor; the result is discarded when y == 0
            ys = self.select(ynz, ty, y, "1")
            if not self.args["flags"]:
                return self.store_signed(self.primitive("udiv", w, [x, ys])[0], w), ynz
            mn = str(1 << (w - 1))
            xz = self.value(f"icmp eq {ty} {x}, 0")
            live = self.value(f"and i1 {self.both}, {ynz}")
            live = self.value(f"and i1 {live}, {self.value(f'xor i1 {xz}, true')}")
            if w == 1024:   # 2^1023 involved: the bigint's own long division (interpreter)
                xm = self.value(f"icmp eq {ty} {x}, {mn}")
                ym = self.value(f"icmp eq {ty} {y}, {mn}")
                self.bail_if(self.value(f"and i1 {self.both}, {self.value(f'or i1 {xm}, {ym}')}"))
            xn = self.value(f"icmp slt {ty} {x}, 0")
            yn = self.value(f"icmp slt {ty} {y}, 0")
            ax = self.select(xn, ty, self.value(f"sub {ty} 0, {x}"), x)
            ay = self.select(yn, ty, self.value(f"sub {ty} 0, {y}"), y)
            lzx, lzy = self.primitive("ctlz", w, [ax])[0], self.primitive("ctlz", w, [ay])[0]
            shorter = self.value(f"icmp ugt {ty} {lzx}, {lzy}")
            opp = self.value(f"xor i1 {xn}, {yn}")
            # P18: opposite signs and |x| has fewer bits than |y|: the reference panics
            self.bail_if(self.value(f"and i1 {live}, {self.value(f'and i1 {opp}, {shorter}')}"))
            ovf = self.value(f"and i1 {self.value(f'icmp eq {ty} {x}, {mn}')}, "
                          f"{self.value(f'icmp eq {ty} {y}, -1')}")
            ysafe = self.select(ovf, ty, "1", ys)
            q0, r0 = self.primitive("sdivrem", w, [x, ysafe])
            rneg = self.value(f"icmp slt {ty} {r0}, 0")
            adj = self.select(yn, ty, "1", "-1")
            q = self.select(rneg, ty, self.value(f"add {ty} {q0}, {adj}"), q0)
            q = self.select(xz, ty, "0", q)
            ok = self.value(f"and i1 {ynz}, {self.value(f'xor i1 {ovf}, true')}")
            return self.store_signed(q, w), ok
        self._arith(compute)

    def op_rem(self, li: LInstr) -> None:
        """``aM[j] <- aN[i] rem aM[j]`` through i128 (sign-extended operands, Rust ``%``)."""
        a = self.args
        c1, c2 = a["reg1"], a["reg2"]
        w1, w2 = A_BITS[c1], A_BITS[c2]
        x, dx = self.get(c1, a["idx1"])
        y, dy = self.get(c2, a["idx2"])
        live = self.value(f"and i1 {self.value(f'and i1 {dx}, {dy}')}, {self.value(f'icmp ne i{w2} {y}, 0')}")
        if c1 >= 5 or c2 >= 5:          # todo!() / i128 conversion out of bounds (P4, P5)
            self.bail_if(live)
            self.put(c2, a["idx2"], None, "false")
            self.set_st0("false")
            return
        wide = 128 if max(w1, w2) == 128 else 64
        xs, ys = self.resize(x, w1, wide, True), self.resize(y, w2, wide, True)
        if wide == 128:                 # -2^127 rem -1 overflows (P6)
            mn = self.value(f"icmp eq i128 {xs}, {1 << 127}")
            m1 = self.value(f"icmp eq i128 {ys}, -1")
            self.bail_if(self.value(f"and i1 {live}, {self.value(f'and i1 {mn}, {m1}')}"))
        # a divisor of 0 or -1 (-1: the remainder is 0, and i64 MIN % -1 would trap)
        trivial = self.value(f"icmp ule i{wide} {self.value(f'add i{wide} {ys}, 1')}, 1")
        ysafe = self.select(trivial, f"i{wide}", "1", ys)
        r = self.primitive("sdivrem", wide, [xs, ysafe])[1]
        r = self.store_signed(self.resize(r, wide, w2), w2)
        self.put(c2, a["idx2"], r, live)
        self.set_st0(live)

    def op_stp(self, li: LInstr) -> None:
        """Reference release build: undefined -> st0 = false; defined -> panics (P1), left to
        the interpreter.  A profile whose ``stp`` is :func:`numeric.stp_spec` (the checked
        unsigned step the reference's debug build intends) gets that natively."""
        a = self.args
        x, d = self.get(a["reg"], a["idx"])
        if self.prog.profile.ops.get("stp") is numeric.stp_spec:
            self._stp_checked(a["reg"], a["idx"], x, d, a["step"])
            return
        self.bail_if(d)
        self.set_st0("false")

    def _stp_checked(self, c: int, i: int, x: str, d: str, step: int) -> None:
        """``x + step`` (step -128..127) if it stays in ``0..2^w-1``, else undefined and
        st0 <- false; st0 is otherwise left as it is (numeric.stp_spec)."""
        w = A_BITS[c]
        ty = int_type(w)
        if step >= 0:
            ok = self.value(f"icmp ule {ty} {x}, {(1 << w) - 1 - step}")
        else:
            ok = self.value(f"icmp uge {ty} {x}, {-step}")
        r = self.value(f"add {ty} {x}, {step}")
        live = self.value(f"and i1 {d}, {ok}")
        self.put(c, i, r, live)
        self.set_st0(self.value(f"and i1 {self.st0()}, {live}"))

    def op_neg(self, li: LInstr) -> None:
        a = self.args
        if a["reg"] >= 8:                               # an F register (RegAF)
            sign_op_f(self, True, a["reg"] - 8, a["idx"])
            return
        self.put(a["reg"], a["idx"], None, "false")     # neg on A always fails (§4.5)
        self.set_st0("false")

    def op_abs(self, li: LInstr) -> None:
        a = self.args
        if a["reg"] >= 8:
            sign_op_f(self, False, a["reg"] - 8, a["idx"])
            return
        _, d = self.get(a["reg"], a["idx"])
        self.set_st0(d)


__all__ = ["ArithEmitters"]
