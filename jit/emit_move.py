"""Emitters of put, clear and move instructions on A and R registers (``op_<key>(li)``).

R registers are addressed by their RegAR code (8 + the R field), so one emitter serves both
families: an R register is a wide register kept in the register file (see the skeleton).
"""
from __future__ import annotations

from typing import Optional

from aluvm.jit.layout import REG_BITS

from aluvm.jit.irbuilder import int_type
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class MoveEmitters(FunctionSkeleton):
    """Emitters: A-register put, clear and move."""

    # -- put / clear --------------------------------------------------------------------------
    def op_clr_a(self, li: LInstr) -> None:
        a = self.args
        self.put(a["reg"], a["idx"], None, "false")

    def op_clr_r(self, li: LInstr) -> None:
        a = self.args
        self.put(8 + a["reg"], a["idx"], None, "false")

    def _put_value(self, c: int, i: int, value: Optional[int]) -> None:
        if value is None:
            self.put(c, i, None, "false")
            self.set_st0("false")
        else:
            self.put(c, i, str(value), "true")

    def op_put_a(self, li: LInstr) -> None:
        self._put_value(self.args["reg"], self.args["idx"], li.ins.value)

    def op_put_r(self, li: LInstr) -> None:
        self._put_value(8 + self.args["reg"], self.args["idx"], li.ins.value)

    def _putif(self, c: int, i: int, value: Optional[int]) -> None:
        v, d = self.get(c, i)
        st = self.st0()
        if value is None:              # undefined register: st0 = false; defined: nothing
            self.set_st0(self.value(f"and i1 {st}, {d}"))
            return
        ty = int_type(REG_BITS[c])
        self.put(c, i, self.select(d, ty, v, str(value)), "true")
        self.set_st0(self.value(f"and i1 {st}, {self.value(f'xor i1 {d}, true')}"))

    def op_putif_a(self, li: LInstr) -> None:
        self._putif(self.args["reg"], self.args["idx"], li.ins.value)

    def op_putif_r(self, li: LInstr) -> None:
        self._putif(8 + self.args["reg"], self.args["idx"], li.ins.value)

    # -- move ---------------------------------------------------------------------------------
    def _mov(self, c: int) -> None:
        a = self.args
        v, d = self.get(c, a["idx1"])
        self.put(c, a["idx2"], v, d)
        self.put(c, a["idx1"], None, "false")

    def _dup(self, c: int) -> None:
        a = self.args
        v, d = self.get(c, a["idx1"])
        self.put(c, a["idx2"], v, d)

    def op_mov_a(self, li: LInstr) -> None:
        self._mov(self.args["reg"])

    def op_mov_r(self, li: LInstr) -> None:
        self._mov(8 + self.args["reg"])

    def op_dup_a(self, li: LInstr) -> None:
        self._dup(self.args["reg"])

    def op_dup_r(self, li: LInstr) -> None:
        self._dup(8 + self.args["reg"])

    def op_swp_a(self, li: LInstr) -> None:
        a = self.args
        c = a["reg"]
        v1, d1 = self.get(c, a["idx1"])
        v2, d2 = self.get(c, a["idx2"])
        self.put(c, a["idx1"], v2, d2)
        self.put(c, a["idx2"], v1, d1)

    def _reshape(self, c1: int, c2: int, signed: bool) -> None:
        """numeric._reshape: ``x mod 2^W`` (relabelled signed when ``signed``), st0 <- it fitted;
        an undefined source clears the destination with st0 <- true."""
        a = self.args
        w1, w2 = REG_BITS[c1], REG_BITS[c2]
        x, d = self.get(c1, a["idx1"])
        y = self.resize(x, w1, w2)
        if signed:
            y = self.store_signed(y, w2)
        fits = "true" if w1 <= w2 else self.value(f"icmp eq i{w1} {self.value(f'lshr i{w1} {x}, {w2}')}, 0")
        self.put(c2, a["idx2"], y, d)
        self.set_st0(self.select(d, "i1", fits, "true"))

    def op_cpy_a(self, li: LInstr) -> None:
        self._reshape(self.args["reg1"], self.args["reg2"], False)

    def op_cpy_r(self, li: LInstr) -> None:
        self._reshape(8 + self.args["reg1"], 8 + self.args["reg2"], False)

    def op_cnv_a(self, li: LInstr) -> None:
        self._reshape(self.args["reg1"], self.args["reg2"], True)

    def op_spy(self, li: LInstr) -> None:
        """numeric.spy: swap an A and an R register, each value cut to the other's width;
        st0 <- both defined values fitted."""
        a = self.args
        ca, cr = a["reg1"], 8 + a["reg2"]
        wa, wr = REG_BITS[ca], REG_BITS[cr]
        x, dx = self.get(ca, a["idx1"])
        y, dy = self.get(cr, a["idx2"])
        fits = []
        for v, d, w1, w2 in ((x, dx, wa, wr), (y, dy, wr, wa)):
            if w1 <= w2:
                fits.append("true")
                continue
            ok = self.value(f"icmp eq i{w1} {self.value(f'lshr i{w1} {v}, {w2}')}, 0")
            fits.append(self.value(f"or i1 {self.value(f'xor i1 {d}, true')}, {ok}"))
        self.put(cr, a["idx2"], self.resize(x, wa, wr), dx)
        self.put(ca, a["idx1"], self.resize(y, wr, wa), dy)
        self.set_st0(self.value(f"and i1 {fits[0]}, {fits[1]}"))


__all__ = ["MoveEmitters"]
