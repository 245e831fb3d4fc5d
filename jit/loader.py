"""Loading object files into MCJIT engines, in generations that are freed when unused.

Every compiled library is loaded into the current :class:`Generation` (an MCJIT engine holding
up to ``GENERATION_SIZE`` objects); a generation, code and all, is freed once no loaded library
that lives in it is referenced any more.  The wide-integer helpers of :mod:`aluvm.jit.runtime`
and the by-value helpers of :mod:`aluvm.jit.helpers` live in an engine of their own that is
never freed (every library may call into it).
"""
from __future__ import annotations

import ctypes
import weakref
from typing import Any, Optional

import llvmlite.binding as llvm

from aluvm.jit import runtime
from aluvm.jit.backend import OPT_LEVEL, backend
from aluvm.jit.cache import CodeCache, key
from aluvm.jit.layout import RT_SLOTS

GENERATION_SIZE = 64
#: ``i32 fn(ptr rf, i32 pos)``: the signature of every compiled library
FN_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32)


class Generation:
    """One MCJIT engine and the addresses of the symbols loaded into it."""

    def __init__(self) -> None:
        tm = backend().target_machine(0)        # owned by the engine
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        self.addrs: dict[str, int] = {}


class LoadedCode:
    """An object file loaded into a generation; keeps it alive.  ``fn`` is its entry point."""

    def __init__(self, gen: Generation, addr: int) -> None:
        self.gen = gen
        self.fn = FN_TYPE(addr)


class Loader:
    """Loads each object once per process while it is in use (an engine must not see the same
    symbol twice) and the runtime helpers once."""

    def __init__(self) -> None:
        self.current: Optional[Generation] = None
        self.loaded: "weakref.WeakValueDictionary[str, LoadedCode]" = weakref.WeakValueDictionary()
        self.runtime: Any = None
        #: the by-value helpers' addresses, copied into every register file's ``rt`` slots
        self.rt_table = (ctypes.c_void_p * RT_SLOTS)()

    def load(self, obj: bytes, symbol: str, cache: CodeCache) -> LoadedCode:
        with backend().lock:
            self.load_runtime(cache)
            loaded = self.loaded.get(symbol)
            if loaded is None:
                loaded = self.loaded[symbol] = self._load(obj, symbol)
            return loaded

    def _load(self, obj: bytes, symbol: str) -> LoadedCode:
        gen = self.current
        if gen is None or len(gen.addrs) >= GENERATION_SIZE:
            gen = self.current = Generation()
        addr = gen.addrs.get(symbol)
        if addr is None:        # (an engine keeps what it loaded: never load twice)
            gen.engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            gen.engine.finalize_object()
            addr = gen.addrs[symbol] = gen.engine.get_function_address(symbol)
        if not addr:
            raise RuntimeError(f"JIT symbol {symbol} not found in its object file")
        return LoadedCode(gen, addr)

    def load_runtime(self, cache: CodeCache) -> None:
        """Compile (or load from the disk cache) the wide-integer helpers once per process and
        publish their addresses to the dynamic linker of compiled code."""
        be = backend()
        with be.lock:
            if self.runtime is not None:
                return
            k = key("runtime")
            hit = cache.load(k)
            if hit is not None:
                obj = hit[1]
            else:
                from aluvm.jit.helpers import helpers_ir     # (imports the code generator)
                obj = be.compile_ir(runtime.runtime_ir() + "\n" + helpers_ir(), OPT_LEVEL)
                cache.store(k, {"symbol": "runtime"}, obj)
            engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), be.target_machine(0))
            engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            engine.finalize_object()
            for sym in runtime.symbols():
                addr = engine.get_function_address(sym)
                if not addr:
                    raise RuntimeError(f"JIT runtime helper {sym} missing")
                llvm.add_symbol(sym, addr)
            for k, (name, w) in enumerate(runtime.VALUE_SLOTS):
                self.rt_table[k] = engine.get_function_address(runtime.value_symbol(name, w))
            self.runtime = engine       # never freed: every compiled library may call into it


_LOADER = Loader()


def loader() -> Loader:
    """The process's loader (LLVM's symbol table is process-wide, so there is one)."""
    return _LOADER


__all__ = ["Loader", "LoadedCode", "Generation", "loader", "FN_TYPE", "GENERATION_SIZE"]
