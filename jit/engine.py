"""The JIT engine: compile once, cache, run with interpreter fallback.

``jit_runner(lib, regs, entry, profile)`` has the contract of
:func:`aluvm.tools.service.interp_runner`: it runs the library through the interpreter's own
:class:`~aluvm.machine.interp.Machine` (multi-library transfers, missing libraries, panics ->
st0=false), with the library's program replaced by a :class:`~aluvm.jit.compiled.CompiledLib`
that alternates between native code and the interpreter.

The pipeline, one module per step: :mod:`~aluvm.jit.lift` (bytecode -> CFG) ->
:mod:`~aluvm.jit.codegen` (CFG -> LLVM IR) -> :mod:`~aluvm.jit.backend` (IR -> object) ->
:mod:`~aluvm.jit.loader` (object -> callable, MCJIT generations); compiled units are kept by a
:class:`~aluvm.jit.cache.CodeCache` (in process and on disk) created from
:class:`~aluvm.jit.settings.JitSettings`.  Compiled functions only touch the register file they
are given, so any number of threads may run them concurrently; compilation is serialised.
"""
from __future__ import annotations

from aluvm.errors import InputError

import struct
import sys
import time
from typing import Iterable, Optional

from aluvm import limits
from aluvm.machine.interp import STRICT, Machine, Outcome, Profile, Program, get_profile
from aluvm.machine.registers import Registers

from aluvm.jit import codegen
from aluvm.jit.backend import OPT_LEVEL, RESOLVED, backend
from aluvm.jit.cache import CodeCache, cache_key, code_cache, use_code_cache
from aluvm.jit.compiled import CompiledLib
from aluvm.jit.elf import undefined_symbols
from aluvm.jit.lift import CFG, lift
from aluvm.jit.loader import loader
from aluvm.jit.settings import JitSettings
from aluvm.jit.stats import begin_run, last_stats, record
from aluvm.jit.tiering import COLD_AFTER, HOT_RUN, is_tiny

#: functions with more compiled instructions than this compile unoptimised (the register
#: allocator's time grows steeply with the values live across hundreds of blocks)
OPT_MAX_INSTRS = 400


#: what reading a disk-cache entry written by another version can raise (ELF/metadata/LLVM)
_STALE_ENTRY = (RuntimeError, ValueError, KeyError, TypeError, OSError, struct.error)
#: what LLVM raises when it cannot compile or load (llvmlite reports failures as RuntimeError);
#: any other exception from lift/codegen is a bug and propagates as one
_LLVM_FAILURE = (RuntimeError, MemoryError, RecursionError)


def compile_ir(ir: str, level: int = OPT_LEVEL) -> bytes:
    """IR text -> native object file (see :meth:`~aluvm.jit.backend.LLVMBackend.compile_ir`)."""
    return backend().compile_ir(ir, level)


def _symbol(key: str) -> str:
    return f"aluvm_{key[:32]}"


def _failed_meta(roots: tuple[int, ...], error: Exception) -> dict:
    return {"symbol": "", "roots": list(roots), "leaders": [], "entries": [], "hot": [],
            "aset": [], "compiled_instrs": 0, "fallback_instrs": 0, "fallback_keys": {},
            "blocks": 0, "native_blocks": 0, "compile_error": f"{type(error).__name__}: {error}"}


def compile_program(prog: Program, roots: Iterable[int] = (0,), eager: Optional[bool] = None,
                    cache: Optional[CodeCache] = None) -> tuple[CompiledLib, str]:
    """Compile ``prog`` from ``roots`` (disk cache first); returns the unit and how it was
    obtained ('disk' or 'compiled').  If LLVM fails the unit runs the whole library in the
    interpreter and ``meta['compile_error']`` says why (under ``ALUVM_STRICT`` it raises); a bug
    in lifting or code generation propagates.  Unless ``eager``
    (default: the cache's settings), a small library without loops is left to the
    interpreter."""
    cache = code_cache() if cache is None else cache
    eager = cache.settings.eager if eager is None else eager
    roots = tuple(sorted(set(roots)))
    key = cache_key(prog.id, prog.profile, roots)
    hit = cache.load(key) if not cache.settings.dump else None
    if hit is not None and not (not eager and is_tiny(hit[0].get("has_loop", True),
                                                       hit[0].get("compiled_instrs", 0))):
        meta, obj = hit
        t0 = time.perf_counter()
        try:
            loaded = loader().load(obj, meta["symbol"], cache) if meta["entries"] else None
            unit = CompiledLib(prog, meta, loaded)
            unit.meta = dict(meta, load_ms=(time.perf_counter() - t0) * 1e3)
            return unit, "disk"
        except _STALE_ENTRY:    # a stale or foreign cache entry: compile afresh
            pass
    t0 = time.perf_counter()
    try:
        meta, obj = _compile(prog, roots, _symbol(key), eager, cache.settings)
        loaded = loader().load(obj, meta["symbol"], cache) if meta["entries"] else None
    except _LLVM_FAILURE as e:  # LLVM itself failed: the interpreter runs the whole library
        if STRICT:               # under tests a compile error is a failure, not a fallback
            raise
        meta, obj, loaded = _failed_meta(roots, e), b"", None
    meta["compile_ms"] = (time.perf_counter() - t0) * 1e3
    if meta["entries"]:
        cache.store(key, meta, obj)
    return CompiledLib(prog, meta, loaded), "compiled"


def _compile(prog: Program, roots: tuple[int, ...], symbol: str, eager: bool,
             settings: JitSettings) -> tuple[dict, bytes]:
    """lift -> codegen -> LLVM: the metadata of the unit and its object file."""
    cfg: CFG = lift(prog, roots, codegen.make_supports(prog.profile))
    if cfg.n_compiled > limits.JIT_COMPILE_MAX_INSTRS:
        return _interpreted(cfg, roots, over_budget=True), b""
    if not eager and is_tiny(cfg.has_loop, cfg.n_compiled):
        return _interpreted(cfg, roots), b""
    level = opt_level(cfg)
    gen = codegen.LibraryFunction(cfg, prog, symbol, cold=not level)
    ir = gen.generate()
    if gen.cost > limits.JIT_COMPILE_MAX_COST:
        return _interpreted(cfg, roots, over_budget=True), b""
    aset = sorted(gen.regs)
    entries = sorted(cfg.entries)
    if settings.dump and entries:
        dump(ir, level, settings.dump, f"{prog.id.hex()} ({prog.profile.name})")
    obj = compile_ir(ir, level) if entries else b""
    runs = cfg.run_lengths()
    meta = {
        "symbol": symbol, "roots": list(roots), "leaders": sorted(cfg.blocks),
        "entries": entries, "hot": sorted(p for p in entries if runs[p] >= HOT_RUN),
        "aset": [list(x) for x in aset],
        "compiled_instrs": cfg.n_compiled, "fallback_instrs": cfg.n_fallback,
        "fallback_keys": dict(sorted(cfg.fallback_keys.items())),
        "blocks": len(cfg.blocks), "native_blocks": len(entries),
        "ir_lines": ir.count("\n"), "object_bytes": len(obj), "opt_level": level,
        "tier": "native", "has_loop": cfg.has_loop,
    }
    return meta, obj


def _interpreted(cfg: CFG, roots: tuple[int, ...], over_budget: bool = False) -> dict:
    """The metadata of a unit the interpreter runs whole (``over_budget``: compiling it would
    cost more than :data:`aluvm.limits.JIT_COMPILE_MAX_COST` allows)."""
    meta = {"symbol": "", "roots": list(roots), "leaders": sorted(cfg.blocks),
            "entries": [], "hot": [], "aset": [], "tier": "interpreter",
            "compiled_instrs": 0, "fallback_instrs": cfg.n_compiled + cfg.n_fallback,
            "fallback_keys": {}, "blocks": len(cfg.blocks), "native_blocks": 0}
    if over_budget:
        meta["over_budget"] = cfg.n_compiled
    return meta


def opt_level(cfg: CFG) -> int:
    """Optimise code that loops; huge functions compile fast and unoptimised."""
    return OPT_LEVEL if cfg.has_loop and cfg.n_compiled <= OPT_MAX_INSTRS else 0


def dump(ir: str, level: int, kinds: Iterable[str], title: str, out=None) -> None:
    """Print what the JIT made of a library: its IR, optimised IR and/or assembly."""
    out = sys.stderr if out is None else out
    kinds = set(kinds)
    if "ir" in kinds:
        print(f"; ---- aluvm jit: LLVM IR of {title}\n{ir}", file=out)
    if "opt" in kinds:
        print(f"; ---- aluvm jit: optimised IR (level {level}) of {title}\n"
              f"{backend().optimized_ir(ir, level)}", file=out)
    if "asm" in kinds:
        print(f"# ---- aluvm jit: assembly (level {level}) of {title}\n"
              f"{backend().assembly(ir, level)}", file=out)


#: ``aluvm jit --emit`` kinds -> ``ALUVM_JIT_DUMP`` kinds
EMIT_KINDS = {"llvm": "ir", "opt": "opt", "asm": "asm"}


def emit(prog: Program, kind: str, roots: Iterable[int] = (0,)) -> str:
    """What the JIT makes of ``prog`` (everything compilable, as when eager): its LLVM IR
    (``llvm``), the IR after optimisation (``opt``) or the host assembly (``asm``)."""
    cfg = lift(prog, tuple(sorted(set(roots))), codegen.make_supports(prog.profile))
    level = opt_level(cfg)
    ir, _ = codegen.generate(cfg, prog, f"aluvm_{prog.id.hex()[:32]}", cold=not level)
    if kind == "llvm":
        return ir
    if kind == "opt":
        return backend().optimized_ir(ir, level)
    if kind == "asm":
        return backend().assembly(ir, level)
    raise InputError(f"unknown --emit kind {kind!r} (expected {', '.join(EMIT_KINDS)})")


def get_compiled(code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,
                 profile: Profile, isae: Iterable[str] = (), entry: int = 0,
                 cache: Optional[CodeCache] = None) -> tuple[CompiledLib, str]:
    """The compiled unit for a library (in-process cache, then disk, then compile).  A unit is
    recompiled with ``entry`` as an extra root when ``entry`` is not one of its leaders."""
    cache = code_cache() if cache is None else cache
    mkey = (lib_id, profile.name, id(profile))
    unit = cache.get(mkey)
    if unit is not None and (entry in unit.leaders or entry >= unit.prog.limit):
        return unit, "memory"
    # compile outside the cache lock: threads running cached code never wait for LLVM
    roots = {0, entry} if entry < 0x10000 else {0}
    if unit is not None:
        roots |= set(unit.meta["roots"])
        prog = unit.prog
    else:
        prog = Program(code, data, libs, lib_id, profile, isae)
    unit, how = compile_program(prog, roots, cache=cache)
    cache.put(mkey, unit)
    return unit, how


def clear_memory_cache() -> None:
    """Forget every compiled unit held in process (the disk cache stays)."""
    code_cache().clear()


class JitMachine(Machine):
    """A :class:`~aluvm.machine.interp.Machine` whose libraries run compiled (multi-library
    programs, host extensions: everything the interpreter's machine does, with the same
    semantics)."""

    # programs holds CompiledLib units, which duck-type Program (same run contract)
    def add(self, code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,  # type: ignore[override]
            isae: Iterable[str] = ()) -> CompiledLib:
        unit: Optional[CompiledLib] = self.programs.get(lib_id)  # type: ignore[assignment]
        if unit is None:
            unit, _ = get_compiled(code, data, libs, lib_id, self.profile, isae)
            self.programs[lib_id] = unit  # type: ignore[assignment]
        return unit


def jit_machine(lib, entry: int, profile: str | Profile) -> tuple[CompiledLib, "JitMachine", str]:
    """The cached compiled unit and machine that run ``lib`` from ``entry`` (and whether they
    came from "memory" or were compiled / loaded now).  Many runs may share them."""
    cache = code_cache()
    key = (lib.id, profile if isinstance(profile, str) else id(profile))
    hit = cache.runners.get(key)
    if hit is not None and (entry in hit[0].leaders or entry >= hit[0].prog.limit):
        return hit[0], hit[1], "memory"
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    unit, how = get_compiled(lib.code, lib.data, lib.libs, lib.id, prof,
                             getattr(lib, "isae", ()), entry, cache)
    machine = JitMachine(prof)
    # (no native code: the interpreter's program itself, without a wrapper around it)
    machine.programs[lib.id] = unit if unit.fn is not None else unit.prog  # type: ignore
    cache.put_runner(key, (unit, machine))
    return unit, machine, how


def jit_runner(lib, regs: Registers, entry: int, profile: str | Profile) -> Outcome:
    """Run ``lib`` from ``entry`` with the JIT: same contract and results as
    :func:`aluvm.tools.service.interp_runner`.  (A machine holds no per-run state, so the code
    cache keeps one per library and profile for every run and thread: the batch fast path.)"""
    unit, machine, how = jit_machine(lib, entry, profile)
    run = begin_run()
    t0 = time.perf_counter()
    outcome = machine.run(lib.id, entry, regs, check=False)
    record(unit, how, machine.profile.name, time.perf_counter() - t0, run)
    return outcome


__all__ = ["jit_runner", "last_stats", "get_compiled", "compile_program", "compile_ir",
           "JitMachine", "CompiledLib", "CodeCache", "JitSettings", "cache_key", "code_cache",
           "use_code_cache", "clear_memory_cache", "dump", "emit", "undefined_symbols", "RESOLVED",
           "COLD_AFTER"]
