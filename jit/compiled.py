"""A compiled library: native code plus the interpreter program it falls back to.

:class:`CompiledLib` plays the role of :class:`aluvm.machine.interp.Program` inside a
``Machine``; its ``run`` alternates between native code and the interpreter:

* native code runs from a block leader until it stops or exits; the native register file
  (:mod:`aluvm.jit.layout`) is marshalled from/to :class:`~aluvm.machine.registers.Registers`
  for just the A registers the compiled code uses plus the control registers;
* after a fallback exit the interpreter executes at least one instruction (with its exact
  counters) and continues until the next hot native entry (:mod:`aluvm.jit.tiering`), so
  whatever is not compiled - and the block in which ``cl0`` is reached - runs in the
  interpreter with exact state.
"""
from __future__ import annotations

import ctypes
import struct
import threading
from typing import Any, Optional

from aluvm.machine.interp import Program
from aluvm.library.ids import LibSite
from aluvm.machine.registers import Registers

from aluvm.jit import guard, layout
from aluvm.jit.layout import CS_WINDOW, EXIT_END, EXIT_STOP, RegFile
from aluvm.jit.loader import LoadedCode, loader
from aluvm.jit.marshal import marshaller
from aluvm.jit.stats import run_stats
from aluvm.jit.tiering import HotEntries

_TLS = threading.local()


def _new_buffer() -> tuple[Any, RegFile, int]:
    """A register file for native runs, its runtime helper slots filled (compiled code exists,
    so the runtime is loaded)."""
    if guard.MODE is not None:   # test mode: the register file touches a PROT_NONE page
        buf, rf, addr = guard.new_buffer(guard.MODE)
    else:
        buf = bytearray(layout.SIZE)
        rf = RegFile.from_buffer(buf)
        addr = ctypes.addressof(rf)
    rf.rt[:] = loader().rt_table[:]
    return buf, rf, addr


def _buffers() -> list:
    """This thread's free register-file buffers (a run takes one and gives it back; whatever a
    previous run left in it is never read: entry marshals every value native code uses)."""
    pool = getattr(_TLS, "pool", None)
    if pool is None:
        pool = _TLS.pool = []
    return pool


class CompiledLib:
    """A library compiled for one profile (see the module docstring)."""

    def __init__(self, prog: Program, meta: dict, loaded: Optional[LoadedCode]) -> None:
        self.prog = prog
        self.id = prog.id
        self.meta = meta
        self.loaded = loaded
        self.fn = loaded.fn if loaded is not None else None
        self.leaders = frozenset(meta["leaders"])
        self.entries = frozenset(meta["entries"]) if self.fn is not None else frozenset()
        # entries worth leaving the interpreter for (a native run of HOT_RUN+ instructions);
        # an entry whose native runs keep ending right away is dropped (see run)
        self.heat = HotEntries(frozenset(meta["hot"]) & self.entries)
        # (code, idx, value offset, bytes, defined offset) of every register kept natively
        # (RegAR codes: A and R)
        self.aset = tuple((c, i, layout.reg_offset(c, i), layout.REG_BYTES[c],
                           layout.reg_def_offset(c, i)) for c, i in meta["aset"])
        self._in, self._out = marshaller(self.aset)

    @property
    def hot(self) -> frozenset[int]:
        return self.heat.hot

    # -- marshalling --------------------------------------------------------------------------
    def _replay_calls(self, regs: Registers, rf: RegFile, bp: int, hi: int) -> None:
        """Replay the native call-stack window onto the sparse cs0."""
        cs0, lid = regs.cs0, self.id
        for k in range(min(hi, CS_WINDOW + 1)):
            state = rf.cs_state[k]
            if state == 1:
                cs0[bp + k] = LibSite(lid, rf.cs_pos[k])
            elif state == 2:
                cs0.pop(bp + k, None)

    def _sync_out(self, regs: Registers, buf: bytearray, rf: RegFile) -> int:
        """The register file back into ``regs`` after a native run; returns the exit pos."""
        pos, bp, hi = self._out(regs, buf)
        if hi:
            self._replay_calls(regs, rf, bp, hi)
        return pos

    # -- running ------------------------------------------------------------------------------
    def run(self, regs: Registers, pos: int, trace=None) -> tuple[Optional[LibSite], Optional[str]]:
        """Same contract as :meth:`aluvm.machine.interp.Program.run`.  (One frame per round
        trip native -> interpreter -> native: this loop is the cost of every fallback.)"""
        if trace is not None or self.fn is None:
            return self.prog.run(regs, pos, trace)
        stats = run_stats()
        entries, fn, sync_in, sync_out, interp = self.entries, self.fn, self._in, self._out, self.prog
        pool = _buffers()
        buf, rf, addr = pool.pop() if pool else _new_buffer()
        steps = [0]             # instructions the interpreter ran
        reentry = False
        try:
            while True:
                if pos in entries:
                    start, ca0 = pos, regs.ca0
                    try:
                        sync_in(regs, buf)
                    except (OverflowError, struct.error):
                        # a register holds a value outside its type (only possible through
                        # the API): the interpreter gives it its own meaning
                        return interp.run(regs, pos)
                    code = fn(addr, pos)
                    pos, bp, hi = sync_out(regs, buf)
                    if hi:
                        self._replay_calls(regs, rf, bp, hi)
                    stats[0] += 1
                    if code == EXIT_STOP:
                        return None, "stopped" if regs.st0 else "failed"
                    if code == EXIT_END:
                        return None, "end of code"
                    stats[1] += 1
                    if reentry:
                        self.heat.count_reentry(start, regs.ca0 - ca0)
                # the interpreter: at least one instruction, then until a hot native entry
                site, reason, reached = interp.run_until(regs, pos, self.heat.hot, steps)
                if reached is None:
                    return site, reason         # stopped, or a transfer to another library
                pos = reached
                reentry = True
        finally:
            stats[2] += steps[0]
            pool.append((buf, rf, addr))

__all__ = ["CompiledLib"]
