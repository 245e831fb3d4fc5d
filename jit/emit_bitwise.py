"""Emitters of A-register bitwise logic, shifts, rotations and bit reversal (``op_<key>(li)``).
"""
from __future__ import annotations

from aluvm.machine.registers import A_BITS

from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class BitwiseEmitters(FunctionSkeleton):
    """Emitters: A-register bitwise logic, shifts and rotations."""

    # -- bitwise ------------------------------------------------------------------------------
    def _logic(self, kind: str) -> None:
        a = self.args
        c = a["reg"]
        x, dx = self.get(c, a["src1"])
        y, dy = self.get(c, a["src2"])
        r = self.value(f"{kind} i{A_BITS[c]} {x}, {y}")
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
        self.put(c, a["idx"], self.value(f"xor i{A_BITS[c]} {x}, -1"), d)

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

    def op_shl(self, li: LInstr) -> None:
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
        self._rot(True)

    def op_scr(self, li: LInstr) -> None:
        self._rot(False)

    def op_rev_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        x, d = self.get(c, a["idx"])
        self.put(c, a["idx"], self.primitive("bitrev", A_BITS[c], [x])[0], d)

    def op_nop_spec(self, li: LInstr) -> None:
        pass


__all__ = ["BitwiseEmitters"]
