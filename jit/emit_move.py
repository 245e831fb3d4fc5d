"""Emitters of A-register put, clear and move instructions (``op_<key>(li)``).
"""
from __future__ import annotations

from aluvm.machine.registers import A_BITS

from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class MoveEmitters(FunctionSkeleton):
    """Emitters: A-register put, clear and move."""

    # -- put / clear --------------------------------------------------------------------------
    def op_clr_a(self, li: LInstr) -> None:
        a = self.args
        self.put(a["reg"], a["idx"], None, "false")

    def op_put_a(self, li: LInstr) -> None:
        a, value = self.args, li.ins.value
        if value is None:
            self.put(a["reg"], a["idx"], None, "false")
            self.set_st0("false")
        else:
            self.put(a["reg"], a["idx"], str(value), "true")

    def op_putif_a(self, li: LInstr) -> None:
        a, value = self.args, li.ins.value
        c, i = a["reg"], a["idx"]
        v, d = self.get(c, i)
        st = self.st0()
        if value is None:              # undefined register: st0 = false; defined: nothing
            self.set_st0(self.value(f"and i1 {st}, {d}"))
            return
        ty = int_type(A_BITS[c])
        self.put(c, i, self.select(d, ty, v, str(value)), "true")
        self.set_st0(self.value(f"and i1 {st}, {self.value(f'xor i1 {d}, true')}"))

    # -- move ---------------------------------------------------------------------------------
    def op_mov_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        v, d = self.get(c, a["idx1"])
        self.put(c, a["idx2"], v, d)
        self.put(c, a["idx1"], None, "false")

    def op_dup_a(self, li: LInstr) -> None:
        a = self.args
        v, d = self.get(a["reg"], a["idx1"])
        self.put(a["reg"], a["idx2"], v, d)

    def op_swp_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        v1, d1 = self.get(c, a["idx1"])
        v2, d2 = self.get(c, a["idx2"])
        self.put(c, a["idx1"], v2, d2)
        self.put(c, a["idx2"], v1, d1)

    def _reshape(self, signed: bool) -> None:
        a = self.args
        c1, c2 = a["reg1"], a["reg2"]
        w1, w2 = A_BITS[c1], A_BITS[c2]
        x, d = self.get(c1, a["idx1"])
        y = self.resize(x, w1, w2)
        if signed:
            y = self.store_signed(y, w2)
        fits = "true" if w1 <= w2 else self.value(f"icmp eq i{w1} {self.value(f'lshr i{w1} {x}, {w2}')}, 0")
        self.put(c2, a["idx2"], y, d)
        self.set_st0(self.select(d, "i1", fits, "true"))

    def op_cpy_a(self, li: LInstr) -> None:
        self._reshape(False)

    def op_cnv_a(self, li: LInstr) -> None:
        self._reshape(True)


__all__ = ["MoveEmitters"]
