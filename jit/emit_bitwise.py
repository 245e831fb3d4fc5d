"""Emitters of bitwise logic, shifts, rotations and bit reversal on A and R registers
(``op_<key>(li)``; R registers by RegAR code 8..15, kept in the register file).

On R registers (numeric.shl/shr_r/scl/scr/rev_r) an undefined value is left alone (st0 too)
and an undefined shift register counts as 0; the shifts, rotations and reversal compile for
r128..r1024 (the widths of the runtime's out-of-line primitives), the logic for every width.
"""
from __future__ import annotations

from aluvm.machine.registers import A_BITS
from aluvm.jit.layout import REG_BITS

from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class BitwiseEmitters(FunctionSkeleton):
    """Emitters: A-register bitwise logic, shifts and rotations."""

    # -- bitwise ------------------------------------------------------------------------------
    def _logic(self, kind: str) -> None:
        """``dst <- src1 kind src2``, undefined if either is (A, or R up to r1024: the
        reference's r2048+ panics (P20) never meet compiled code)."""
        a = self.args
        c = a["reg"]
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        r = self.value(f"{kind} i{REG_BITS[c]} {x}, {y}")
        self.put(c, a["dst"], r, self.value(f"and i1 {dx}, {dy}"))

    def op_and(self, li: LInstr) -> None:
        self._logic("and")

    def op_or(self, li: LInstr) -> None:
        self._logic("or")

    def op_xor(self, li: LInstr) -> None:
        self._logic("xor")

    def op_not(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        self.put(c, a["idx"], self.value(f"xor i{REG_BITS[c]} {x}, -1"), d)

    def _msb_or_panic(self, c: int, x: str, d: str) -> None:
        """st0 <- top bit; an undefined register wider than a8 panics (P3)."""
        w = A_BITS[c]
        if c > 0:
            self.bail_if(self.value(f"xor i1 {d}, true"))
        top = self.value(f"icmp slt i{w} {x}, 0")
        self.set_st0(self.value(f"and i1 {d}, {top}"))

    def _shift_common(self) -> tuple[int, int, str, str, str, str]:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        s, ds = self.shift_amount(a["a2"], a["shift"])
        return c, A_BITS[c], x, d, s, ds

    # -- R registers: shifts, rotations, reversal ---------------------------------------------
    def _r_operands(self, c: int) -> tuple[int, str, str, str]:
        """(width, value, defined, shift amount as i32 - 0 when its register is undefined)."""
        a = self.args
        x, d = self.get(c, a["idx"])
        s, ds = self.shift_amount(a["a2"], a["shift"])
        return REG_BITS[c], x, d, self.select(ds, "i32", s, "0")

    def _r_result(self, c: int, r: str, d: str, st: str) -> None:
        """Write ``r`` and st0 <- ``st`` where the value is defined; else leave both."""
        self.put(c, self.args["idx"], r, d)
        self.set_st0(self.select(d, "i1", st, self.st0()))

    def _shift_r(self, c: int, left: bool) -> None:
        w, x, d, s = self._r_operands(c)
        inr = self.value(f"icmp ult i32 {s}, {w}")
        amt = self.select(inr, "i32", s, "0")
        r = self.select(inr, int_type(w), self.primitive("shl" if left else "lshr", w, [x], amt)[0], "0")
        st = self.value(f"icmp slt i{w} {x}, 0") if left else self.resize(x, w, 1)
        self._r_result(c, r, d, st)

    def _rot_r(self, c: int, left: bool) -> None:
        w, x, d, s = self._r_operands(c)
        amt = self.value(f"urem i32 {s}, {w}")
        if w & (w - 1) == 0:
            r = self.primitive("fshl" if left else "fshr", w, [x], amt)[0]
        else:   # r160: LLVM lowers a funnel shift of a width that is not a power of two to an
                # i160 remainder it has no library call for; two shifts instead
            ty = int_type(w)
            back = self.value(f"sub i32 {w}, {amt}")        # 1..160 (160 only when amt = 0)
            hi = self.primitive("shl" if left else "lshr", w, [x], amt)[0]
            back_ok = self.value(f"icmp ult i32 {back}, {w}")
            lo = self.primitive("lshr" if left else "shl", w, [x],
                                self.select(back_ok, "i32", back, "0"))[0]
            r = self.value(f"or {ty} {hi}, {self.select(back_ok, ty, lo, '0')}")
        st = self.value(f"icmp slt i{w} {x}, 0") if left else self.resize(x, w, 1)
        self._r_result(c, r, d, st)

    def op_shr_r(self, li: LInstr) -> None:
        self._shift_r(8 + self.args["reg"], False)

    def op_rev_r(self, li: LInstr) -> None:
        c = 8 + self.args["reg"]
        x, d = self.get(c, self.args["idx"])
        self.put(c, self.args["idx"], self.primitive("bitrev", REG_BITS[c], [x])[0], d)

    # -- A (and R) shifts and rotations ---------------------------------------------------------
    def op_shl(self, li: LInstr) -> None:
        if self.args["reg"] >= 8:
            self._shift_r(self.args["reg"], True)
            return
        c, w, x, d, s, ds = self._shift_common()
        self._msb_or_panic(c, x, d)
        ty = int_type(w)
        inr = self.value(f"icmp ult i32 {s}, {w}")
        amt = self.select(inr, "i32", s, "0")
        r = self.select(inr, ty, self.primitive("shl", w, [x], amt)[0], "0")
        self.put(c, self.args["idx"], r, self.value(f"and i1 {d}, {ds}"))

    def op_shr_a(self, li: LInstr) -> None:
        c, w, x, d, s, ds = self._shift_common()
        ty = int_type(w)
        both = self.value(f"and i1 {d}, {ds}")
        st = self.st0()
        self.set_st0(self.select(both, "i1", self.resize(x, w, 1), st))
        if self.args["sign"]:
            r = self.shr_signed(x, s, w)
        else:
            inr = self.value(f"icmp ult i32 {s}, {w}")
            amt = self.select(inr, "i32", s, "0")
            r = self.select(inr, ty, self.primitive("lshr", w, [x], amt)[0], "0")
        self.put(c, self.args["idx"], r, both)

    def shr_signed(self, x: str, s: str, w: int) -> str:
        """intmath.shr_signed: the 1024-bit signed bigint's shift of the sign-extended value."""
        called = self.by_value("shr_signed", w, x, s)
        if called is not None:
            return called
        ty = int_type(w)
        big = self.value(f"icmp uge i32 {s}, 1024")
        if w == 1024:
            y = self.primitive("lshr", w, [x], self.select(big, "i32", "0", s))[0]
            neg = self.value(f"icmp slt {ty} {x}, 0")
            y = self.select(neg, ty, self.value(f"or {ty} {y}, {1 << 1023}"), y)
        else:
            amt = self.umin("i32", s, str(w - 1))
            y = self.primitive("ashr", w, [x], amt)[0]
            # bits that the 1024-bit shift pulls in from beyond bit 1023 are zero (t >= 1: a
            # shift by 1024+ gives 0 anyway, below)
            t = self.value(f"sub i32 1024, {self.umin('i32', s, '1023')}")
            cut = self.value(f"icmp ult i32 {t}, {w}")
            sh = self.select(cut, "i32", self.value(f"sub i32 {w}, {t}"), "0")
            y = self.value(f"and {ty} {y}, {self.primitive('lshr', w, ['-1'], sh)[0]}")
        y = self.select(big, ty, "0", y)
        return self.store_signed(y, w)

    def _rot(self, left: bool) -> None:
        c, w, x, d, s, ds = self._shift_common()
        if left:
            self._msb_or_panic(c, x, d)
        else:
            self.set_st0(self.value(f"and i1 {d}, {self.resize(x, w, 1)}"))
        r = self.primitive("fshl" if left else "fshr", w, [x], self.value(f"and i32 {s}, {w - 1}"))[0]
        self.put(c, self.args["idx"], r, self.value(f"and i1 {d}, {ds}"))

    def op_scl(self, li: LInstr) -> None:
        if self.args["reg"] >= 8:
            self._rot_r(self.args["reg"], True)
        else:
            self._rot(True)

    def op_scr(self, li: LInstr) -> None:
        if self.args["reg"] >= 8:
            self._rot_r(self.args["reg"], False)
        else:
            self._rot(False)

    def op_rev_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        self.put(c, a["idx"], self.primitive("bitrev", A_BITS[c], [x])[0], d)

    def op_nop_spec(self, li: LInstr) -> None:
        pass


__all__ = ["BitwiseEmitters"]
