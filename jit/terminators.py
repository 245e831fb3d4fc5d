"""Block terminators: fail, test, jmp, jif, routine, ret and reserved opcodes.

Each ``term_<key>(li, total)`` ends a native block whose whole complexity ``total`` is
charged (or exits before charging it when it must leave to the interpreter).  ``test`` may
only stop: lifting keeps it inside its block, compiled by ``op_test`` as a conditional exit
(``term_test`` remains for a block made of it alone, as the single-step tier builds).
"""
from __future__ import annotations

from aluvm.machine.registers import CALL_DEPTH, JUMP_LIMIT

from aluvm.jit.layout import CS_WINDOW, EXIT_STOP, OFF
from aluvm.jit.lift import LInstr
from aluvm.jit.skeleton import FunctionSkeleton


class Terminators(FunctionSkeleton):
    """Block terminators."""

    # -- terminators --------------------------------------------------------------------------
    def term_fail(self, li: LInstr, total: str) -> None:
        self.set_st0("false")
        self.emit(f"store i64 {total}, ptr %ca0p")
        self.exit(EXIT_STOP, "0")

    def term_reserved(self, li: LInstr, total: str) -> None:
        self.term_fail(li, total)

    def term_test(self, li: LInstr, total: str) -> None:
        """A conditional exit: st0 false stops, else the next block runs."""
        self.emit(f"store i64 {total}, ptr %ca0p")
        nxt = li.nxt
        if nxt in self.entries:
            self.exit_edge(EXIT_STOP, "0")
            self.cbr(self.st0(), f"b{nxt}", "exit", likely=True)
            return
        self.exit_unless(self.st0(), self.label("test.on"), EXIT_STOP, "0")
        self.goto(nxt)

    def op_test(self, li: LInstr) -> None:
        """``test`` inside a block: st0 false stops with ca0 charged up to and including it.
        Inside a block ca0's slot still holds the block's starting value, so the exit only
        says by how much to charge it (:data:`~aluvm.jit.layout.EXIT_STOP_CHARGE`)."""
        st = self.st0()
        if st == "true":        # known to hold (set by a constant, or a test passed before)
            return
        charge = self.cur_prefix + li.cx
        if charge < 1 << 31:
            self.stop_unless_st0(st, charge)
        else:
            ca = self.value(f"add nuw i64 {self.ca_start}, {charge}")
            self.emit(f"store i64 {ca}, ptr %ca0p")
            self.exit_unless(st, self.label("test.on"), EXIT_STOP, "0")
        self.known_st0 = "true"  # past the test, st0 holds

    def jump_edge(self) -> None:
        """cy0 += 1, or st0 = false and stop at the limit (ca0 already charged)."""
        cy = self.value("load i32, ptr %cy0p")
        over = self.value(f"icmp uge i32 {cy}, {JUMP_LIMIT}")
        stop, cont = self.label("jlim"), self.label("jok")
        self.cbr(over, stop, cont)
        self.begin(stop)
        self.set_st0("false")
        self.exit(EXIT_STOP, "0")
        self.begin(cont)
        self.emit(f"store i32 {self.value(f'add i32 {cy}, 1')}, ptr %cy0p")

    def term_jmp(self, li: LInstr, total: str) -> None:
        self.emit(f"store i64 {total}, ptr %ca0p")
        self.jump_edge()
        self.goto(li.ins.args[0])

    def term_jif(self, li: LInstr, total: str) -> None:
        self.emit(f"store i64 {total}, ptr %ca0p")
        on, off = self.label("jif.on"), self.label("jif.off")
        self.cbr(self.st0(), on, off)
        self.begin(off)
        self.goto(li.nxt)
        self.begin(on)
        self.jump_edge()
        self.goto(li.ins.args[0])

    def cs_ptr(self, field: str, ty: str, k: str) -> str:
        base = self.gep(OFF[field])
        return self.value(f"getelementptr inbounds {ty}, ptr {base}, i32 {k}")

    def term_routine(self, li: LInstr, total: str) -> None:
        cp = self.value("load i32, ptr %cp0p")
        k = self.value(f"sub i32 {cp}, %bp")
        self.bail_if(self.value(f"icmp uge i32 {k}, {CS_WINDOW}"))   # window full (or cp0 < bp)
        self.emit(f"store i64 {total}, ptr %ca0p")
        self.jump_edge()
        site = li.nxt if self.call_stack else li.pos   # reference pushes the routine's own site (S6)
        self.emit(f"store i16 {site}, ptr {self.cs_ptr('cs_pos', 'i16', k)}")
        self.emit(f"store i8 1, ptr {self.cs_ptr('cs_state', 'i8', k)}")
        self.bump_cs_hi(k)
        if self.call_stack:
            full = self.value(f"icmp uge i32 {cp}, {CALL_DEPTH}")
            stop, cont = self.label("cpfull"), self.label("cpok")
            self.cbr(full, stop, cont)
            self.begin(stop)
            self.set_st0("false")
            self.exit(EXIT_STOP, "0")
            self.begin(cont)
            self.emit(f"store i32 {self.value(f'add i32 {cp}, 1')}, ptr %cp0p")
        self.goto(li.ins.args[0])

    def bump_cs_hi(self, k: str) -> None:
        hp = self.gep(OFF["cs_hi"])
        hi = self.value(f"load i32, ptr {hp}")
        k1 = self.value(f"add i32 {k}, 1")
        self.emit(f"store i32 {self.umax('i32', hi, k1)}, ptr {hp}")

    def term_ret(self, li: LInstr, total: str) -> None:
        cp = self.value("load i32, ptr %cp0p")
        empty, some = self.label("ret.empty"), self.label("ret.some")
        self.cbr(self.value(f"icmp eq i32 {cp}, 0"), empty, some)
        self.begin(empty)
        self.emit(f"store i64 {total}, ptr %ca0p")
        self.exit(EXIT_STOP, "0")
        self.begin(some)
        k = self.value(f"sub i32 {cp}, %bp")
        # native only for frames pushed by this activation (0 < k <= window); else interpreter
        inwin = self.value(f"icmp ult i32 {self.value(f'sub i32 {k}, 1')}, {CS_WINDOW}")
        self.bail_if(self.value(f"xor i1 {inwin}, true"))
        self.emit(f"store i64 {total}, ptr %ca0p")
        self.emit(f"store i8 2, ptr {self.cs_ptr('cs_state', 'i8', k)}")
        self.bump_cs_hi(k)
        k1 = self.value(f"sub i32 {k}, 1")
        self.emit(f"store i32 {self.value(f'sub i32 {cp}, 1')}, ptr %cp0p")
        tgt = self.value(f"load i16, ptr {self.cs_ptr('cs_pos', 'i16', k1)}")
        self.emit(f"store i32 {self.resize(tgt, 16, 32)}, ptr %dposp")
        self.br("dispatch")


__all__ = ["Terminators"]
