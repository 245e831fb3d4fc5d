"""The LLVM backend: target setup, the IR pass list, object and assembly emission.

One :class:`LLVMBackend` per process (:func:`backend`): LLVM has one global context and symbol
table, so every use of it goes through the backend's lock.  It is created on first use, not at
import.
"""
from __future__ import annotations

import ctypes
import threading
from typing import Any, Optional

import llvmlite
import llvmlite.binding as llvm

from aluvm.jit import runtime
from aluvm.jit.elf import undefined_symbols

#: the optimisation level of code with loops (code without loops compiles at level 0)
OPT_LEVEL = 2
#: the only external symbols compiled code may reference (codegen may emit them for copies)
RESOLVED = ("memcpy", "memmove", "memset")
#: Code with loops goes through LLVM's O2 *function simplification* pipeline (SROA, early CSE,
#: instcombine, loop canonicalisation - loop-simplify, LCSSA, rotation - LICM, trivial loop
#: unswitching, induction variables, GVN, DSE, ...).  llvmlite leaks about 100 KB each time it
#: *builds* a default pipeline (and ~130 KB for the module pipeline), but not when a built one
#: runs again: running it keeps no state between runs (llvmlite makes fresh analysis managers
#: per run), so the backend builds it once per process and reuses it under its lock.


class LLVMBackend:
    """LLVM initialised for the host: target machines per optimisation level, IR -> object."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        # i128 division would otherwise be a libcall (__udivti3 ...): expand it inline like
        # every wider division, so compiled code needs nothing from outside the process
        llvm.set_option("", "-expand-div-rem-bits=64")
        libc = ctypes.CDLL(None)
        for name in RESOLVED:
            llvm.add_symbol(name, ctypes.cast(getattr(libc, name), ctypes.c_void_p).value)
        self.target = llvm.Target.from_default_triple()
        self.cpu = llvm.get_host_cpu_name()
        self.features = llvm.get_host_cpu_features().flatten()
        self.triple = llvm.get_default_triple()
        self.machines = {level: self.target_machine(level) for level in (0, OPT_LEVEL)}
        self._pipeline: Optional[tuple[Any, Any, Any]] = None   # (tuning options, builder, FPM)

    def target_machine(self, opt: int = OPT_LEVEL) -> Any:
        """A fresh target machine for the host (an MCJIT engine takes ownership of one)."""
        return self.target.create_target_machine(cpu=self.cpu, features=self.features, opt=opt,
                                                 reloc="default", codemodel="jitdefault")

    def identity(self) -> list[str]:
        """What the generated machine code depends on besides the library (cache keys)."""
        return [f"llvmlite={llvmlite.__version__}",
                f"llvm={'.'.join(map(str, llvm.llvm_version_info))}", f"triple={self.triple}",
                f"cpu={self.cpu}", f"features={self.features}", f"opt={OPT_LEVEL}"]

    # -- compiling ------------------------------------------------------------------------------
    def optimize(self, module: Any, level: int) -> None:
        """Level ``OPT_LEVEL``: registers become SSA values, loops are canonicalised and their
        invariant code hoisted.  Level 0 is for code without loops, which runs each instruction
        at most once: no IR passes and the fast instruction selector, for compile speed.
        (Hold :attr:`lock`.)"""
        if not level:
            return
        if self._pipeline is None:
            pto = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
            pb = llvm.create_pass_builder(self.machines[OPT_LEVEL], pto)
            self._pipeline = (pto, pb, pb.getFunctionPassManager())
        _, pb, fpm = self._pipeline
        for fn in module.functions:
            if not fn.is_declaration:
                fpm.run(fn, pb)

    def inline_always(self, module: Any) -> None:
        """Inline every ``alwaysinline`` function (a fixed one-pass list: no leak).  (Hold
        :attr:`lock`.)"""
        pto = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
        pb = llvm.create_pass_builder(self.machines[OPT_LEVEL], pto)
        pm = llvm.create_new_module_pass_manager()
        try:
            pm.add_always_inliner_pass()
            pm.run(module, pb)
        finally:            # llvmlite frees these only when asked
            pm.close()
            pb.close()
            pto.close()

    def module(self, ir: str, level: int) -> Any:
        """Parse, verify and optimise IR text (hold :attr:`lock`)."""
        module = llvm.parse_assembly(ir)
        module.verify()
        self.optimize(module, level)
        return module

    def compile_ir(self, ir: str, level: int = OPT_LEVEL) -> bytes:
        """IR text -> optimised native object file (``level``: 0 or ``OPT_LEVEL``)."""
        with self.lock:
            obj = self.machines[level].emit_object(self.module(ir, level))
        missing = undefined_symbols(obj) - set(RESOLVED) - set(runtime.symbols())
        if missing:
            raise RuntimeError(f"compiled code references unresolved symbols {sorted(missing)}")
        return obj

    def optimized_ir(self, ir: str, level: int = OPT_LEVEL) -> str:
        """The IR after the passes of ``level`` (for ``ALUVM_JIT_DUMP=opt``)."""
        with self.lock:
            return str(self.module(ir, level))

    def assembly(self, ir: str, level: int = OPT_LEVEL) -> str:
        """The host assembly of IR text compiled at ``level`` (for ``ALUVM_JIT_DUMP=asm``)."""
        with self.lock:
            return str(self.machines[level].emit_assembly(self.module(ir, level)))


_BACKEND: list[Optional[LLVMBackend]] = [None]
_BACKEND_LOCK = threading.Lock()


def backend() -> LLVMBackend:
    """The process's LLVM backend (created on first use)."""
    b = _BACKEND[0]
    if b is None:
        with _BACKEND_LOCK:
            b = _BACKEND[0]
            if b is None:
                b = _BACKEND[0] = LLVMBackend()
    return b


__all__ = ["LLVMBackend", "backend", "OPT_LEVEL", "RESOLVED"]
