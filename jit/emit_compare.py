"""Emitters of A- and R-register comparisons and the st0 instructions (``op_<key>(li)``).
"""
from __future__ import annotations

from aluvm.machine.registers import A_BITS
from aluvm.jit.layout import REG_BITS

from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class CompareEmitters(FunctionSkeleton):
    """Emitters: A-register comparisons and st0."""

    # -- compare ------------------------------------------------------------------------------
    def _order(self, gt: bool) -> None:
        a = self.args
        c = a["reg"]
        w, ty = A_BITS[c], int_type(A_BITS[c])
        x, dx = self.get(c, a["idx1"])
        y, dy = self.get(c, a["idx2"])
        if a["flag"]:
            r = self.signed_gt(x, y, w) if gt else self.signed_gt(y, x, w)
        else:
            r = self.value(f"icmp {'ugt' if gt else 'ult'} {ty} {x}, {y}")
        both = self.value(f"and i1 {dx}, {dy}")
        self.set_st0(self.value(f"and i1 {both}, {r}"))

    def op_gt_a(self, li: LInstr) -> None:
        self._order(True)

    def op_lt_a(self, li: LInstr) -> None:
        self._order(False)

    def _eq(self, c: int) -> None:
        a = self.args
        x, dx = self.get(c, a["idx1"])
        y, dy = self.get(c, a["idx2"])
        both = self.value(f"and i1 {dx}, {dy}")
        eq = self.value(f"icmp eq i{REG_BITS[c]} {x}, {y}")
        self.set_st0(self.select(both, "i1", eq, "true" if a["flag"] == 1 else "false"))

    def op_eq_a(self, li: LInstr) -> None:
        self._eq(self.args["reg"])

    def op_eq_r(self, li: LInstr) -> None:
        self._eq(8 + self.args["reg"])

    def _order_r(self, gt: bool) -> None:
        """Unsigned; an undefined operand gives false (r128..r1024: the reference's r2048+
        panics (P20/P21) never meet compiled code)."""
        a = self.args
        c = 8 + a["reg"]
        ty = int_type(REG_BITS[c])
        x, dx = self.get(c, a["idx1"])
        y, dy = self.get(c, a["idx2"])
        both = self.value(f"and i1 {dx}, {dy}")
        r = self.value(f"icmp {'ugt' if gt else 'ult'} {ty} {x}, {y}")
        self.set_st0(self.value(f"and i1 {both}, {r}"))

    def op_gt_r(self, li: LInstr) -> None:
        self._order_r(True)

    def op_lt_r(self, li: LInstr) -> None:
        self._order_r(False)

    def _ifz(self, c: int) -> None:
        x, d = self.get(c, self.args["idx"])
        z = self.value(f"icmp eq i{REG_BITS[c]} {x}, 0")
        self.set_st0(self.value(f"and i1 {d}, {z}"))

    def op_ifz_a(self, li: LInstr) -> None:
        self._ifz(self.args["reg"])

    def op_ifz_r(self, li: LInstr) -> None:
        self._ifz(8 + self.args["reg"])

    def op_ifn_a(self, li: LInstr) -> None:
        _, d = self.get(self.args["reg"], self.args["idx"])
        self.set_st0(self.value(f"xor i1 {d}, true"))

    def op_ifn_r(self, li: LInstr) -> None:
        _, d = self.get(8 + self.args["reg"], self.args["idx"])
        self.set_st0(self.value(f"xor i1 {d}, true"))

    def op_st(self, li: LInstr) -> None:
        a = self.args
        flag, c, i = a["flag"], a["reg"], a["idx"]
        w = A_BITS[c]
        ty = int_type(w)
        s = self.resize(self.st0(), 1, w)
        if flag == 0:
            self.put(c, i, s, "true")
            return
        x, d = self.get(c, i)
        if flag == 1:
            if c > 0:   # add with a 1-byte status into a wider register: reference panics (P2)
                self.bail_if(d)
                self.put(c, i, s, "true")
                return
            room = self.value(f"icmp ult i8 {x}, 255")
            y = self.select(room, "i8", self.value(f"add i8 {x}, {s}"), x)
        else:
            y = self.value(f"{'and' if flag == 2 else 'or'} {ty} {x}, {s}")
        self.put(c, i, self.select(d, ty, y, s), "true")

    def op_stinv(self, li: LInstr) -> None:
        self.set_st0(self.value(f"xor i1 {self.st0()}, true"))


__all__ = ["CompareEmitters"]
