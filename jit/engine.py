"""The JIT engine: compile once, cache (in process and on disk), run with interpreter fallback.

``jit_runner(lib, regs, entry, profile)`` has the contract of
:func:`aluvm.service.interp_runner`: it runs the library through the interpreter's own
:class:`~aluvm.interp.Machine` (multi-library transfers, missing libraries, panics -> st0=false),
with the library's program replaced by a :class:`CompiledLib`, whose ``run`` alternates between
native code and the interpreter:

* native code runs from a block leader until it stops or exits; the native register file
  (:mod:`jit.layout`) is marshalled from/to :class:`~aluvm.registers.Registers` for just the A
  registers the compiled code uses plus the control registers;
* after a fallback exit the interpreter executes at least one instruction (with its exact
  counters) and continues until the next native entry, so whatever is not compiled - and the
  block in which ``cl0`` is reached - runs in the interpreter with exact state.

Compiled code is cached per (library id, profile, roots): in process (LRU) and on disk as object
files (``$ALUVM_JIT_CACHE``, default ``~/.cache/aluvm-jit``; ``off`` disables it), keyed by the
library id, profile, llvmlite/LLVM versions, CPU name and features and a hash of the JIT and
decoder sources.  Compiled functions only touch the register file they are given, so any
number of threads may run them concurrently; compilation is serialised.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import tempfile
import threading
import weakref
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable, Optional

import llvmlite
import llvmlite.binding as llvm

from aluvm.machine.interp import Machine, Outcome, Profile, Program, get_profile
from aluvm.machine.registers import LibSite, Registers

from aluvm.jit import codegen
from aluvm.jit import layout
from aluvm.jit import runtime
from aluvm.jit.layout import CS_WINDOW, EXIT_END, EXIT_STOP, RegFile
from aluvm.jit.lift import CFG, lift

FORMAT = 1
MEMORY_CACHE_SIZE = int(os.environ.get("ALUVM_JIT_MEMORY_CACHE", "256"))
OPT_LEVEL = 2
OPT_MAX_INSTRS = 400
#: a library without loops and with fewer compiled instructions than this runs in the
#: interpreter (each instruction runs at most once: entering native code would cost more) ...
TINY_INSTRS = 24
#: ... unless EAGER (``ALUVM_JIT_EAGER=1``): then everything compilable is compiled
EAGER = os.environ.get("ALUVM_JIT_EAGER", "") not in ("", "0")
#: after a fallback, the interpreter only re-enters native code where it can then run at least
#: this many instructions (a round trip costs about as much as a dozen interpreted steps)
HOT_RUN = 12
#: ... and stops re-entering where this many native runs in a row ended early
COLD_AFTER = 16

_LOCK = threading.RLock()          # every use of LLVM (one global context) and the engines
_CACHE_LOCK = threading.Lock()     # the in-process cache
_STATE: dict[str, Any] = {}
_TLS = threading.local()
_FN_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32)


# ---- LLVM ---------------------------------------------------------------------------------

def _llvm() -> dict[str, Any]:
    """Initialise LLVM once: target, host CPU, the object-emitting target machine."""
    with _LOCK:
        if "tm" not in _STATE:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            # i128 division would otherwise be a libcall (__udivti3 ...): expand it inline like
            # every wider division, so compiled code needs nothing from outside the process
            llvm.set_option("", "-expand-div-rem-bits=64")
            libc = ctypes.CDLL(None)
            for name in _RESOLVED:
                llvm.add_symbol(name, ctypes.cast(getattr(libc, name), ctypes.c_void_p).value)
            target = llvm.Target.from_default_triple()
            cpu = llvm.get_host_cpu_name()
            features = llvm.get_host_cpu_features().flatten()
            _STATE.update(
                target=target, cpu=cpu, features=features, triple=llvm.get_default_triple(),
                tm={level: _target_machine(target, cpu, features, level) for level in (0, OPT_LEVEL)})
        return _STATE


#: the only external symbols compiled code may reference (codegen may emit them for copies)
_RESOLVED = ("memcpy", "memmove", "memset")


def undefined_symbols(obj: bytes) -> set[str]:
    """Undefined symbols of an ELF64 little-endian object file (empty for other formats)."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return set()
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + k * shentsize) for k in range(shnum)]
    out = set()
    for sh in sections:
        if sh[1] != 2:          # SHT_SYMTAB
            continue
        _, _, _, _, off, size, link, _, _, entsize = sh
        stroff = sections[link][4]
        for k in range(1, size // entsize):
            name, _, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", obj, off + k * entsize)
            if shndx == 0 and name:
                end = obj.index(b"\0", stroff + name)
                out.add(obj[stroff + name:end].decode())
    return out


def _target_machine(target, cpu: str, features: str, opt: int = OPT_LEVEL):
    return target.create_target_machine(cpu=cpu, features=features, opt=opt,
                                        reloc="default", codemodel="jitdefault")


#: the IR passes for code with loops.  (A fixed list rather than LLVM's default O2 pipeline,
#: whose llvmlite binding leaks about 90 KB per run.)
LOOP_PASSES = ("sroa", "instruction_combine", "simplify_cfg", "jump_threading", "sccp",
               "new_gvn", "instruction_combine", "simplify_cfg", "aggressive_dce")


def _optimize(module, level: int) -> None:
    """Level ``OPT_LEVEL``: registers become SSA values and loops get cleaned up.  Level 0 is
    for code without loops, which runs each instruction at most once: no IR passes and the
    fast instruction selector, for compile speed."""
    if not level:
        return
    tm = _llvm()["tm"][level]
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pb = llvm.create_pass_builder(tm, pto)
    pm = llvm.create_new_module_pass_manager()
    try:
        for name in LOOP_PASSES:
            getattr(pm, f"add_{name}_pass")()
        pm.run(module, pb)
    finally:            # llvmlite frees these only when asked
        pm.close()
        pb.close()
        pto.close()


def compile_ir(ir: str, level: int = OPT_LEVEL) -> bytes:
    """IR text -> optimised native object file (``level``: 0 or ``OPT_LEVEL``)."""
    with _LOCK:
        st = _llvm()
        module = llvm.parse_assembly(ir)
        module.verify()
        _optimize(module, level)
        obj = st["tm"][level].emit_object(module)
    missing = undefined_symbols(obj) - set(_RESOLVED) - set(runtime.symbols())
    if missing:
        raise RuntimeError(f"compiled code references unresolved symbols {sorted(missing)}")
    return obj


class _Generation:
    """One MCJIT engine holding up to ``GENERATION_SIZE`` object files.  It is freed, code and
    all, once no loaded library that lives in it is referenced any more."""

    def __init__(self) -> None:
        st = _llvm()
        tm = _target_machine(st["target"], st["cpu"], st["features"], 0)  # owned by the engine
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        self.addrs: dict[str, int] = {}   # symbol -> address of every object loaded here


GENERATION_SIZE = 64
_CURRENT: list[Optional[_Generation]] = [None]


class _Loaded:
    """An object file loaded into the current engine generation (use :func:`_load`)."""

    def __init__(self, obj: bytes, symbol: str) -> None:
        with _LOCK:
            gen = _CURRENT[0]
            if gen is None or len(gen.addrs) >= GENERATION_SIZE:
                gen = _CURRENT[0] = _Generation()
            addr = gen.addrs.get(symbol)
            if addr is None:        # (an engine keeps what it loaded: never load twice)
                gen.engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
                gen.engine.finalize_object()
                addr = gen.addrs[symbol] = gen.engine.get_function_address(symbol)
        if not addr:
            raise RuntimeError(f"JIT symbol {symbol} not found in its object file")
        self.gen = gen          # keeps the engine (and so the code) alive
        self.fn = _FN_TYPE(addr)


_LOADED: "weakref.WeakValueDictionary[str, _Loaded]" = weakref.WeakValueDictionary()


def _runtime() -> None:
    """Compile (or load from the disk cache) the wide-integer helpers once per process and
    publish their addresses to the dynamic linker of compiled code."""
    with _LOCK:
        if "runtime" not in _STATE:
            _load_runtime()


def _load_runtime() -> None:
    key = _key("runtime")
    hit = _disk_load(key)
    if hit is not None:
        obj = hit[1]
    else:
        obj = compile_ir(runtime.runtime_ir(), OPT_LEVEL)
        _disk_store(key, {"symbol": "runtime"}, obj)
    st = _llvm()
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""),
                                        _target_machine(st["target"], st["cpu"], st["features"], 0))
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    for sym in runtime.symbols():
        addr = engine.get_function_address(sym)
        if not addr:
            raise RuntimeError(f"JIT runtime helper {sym} missing")
        llvm.add_symbol(sym, addr)
    _STATE["runtime"] = engine      # never freed: every compiled library may call into it


def _load(obj: bytes, symbol: str) -> _Loaded:
    """Load an object once per process while it is in use (an engine must not see the same
    symbol twice)."""
    with _LOCK:
        _runtime()
        loaded = _LOADED.get(symbol)
        if loaded is None:
            loaded = _LOADED[symbol] = _Loaded(obj, symbol)
        return loaded


# ---- cache keys ---------------------------------------------------------------------------

def _source_hash() -> str:
    """Digest of every Python source of the installed ``aluvm`` package (jit and asm included).

    Hashing the whole package, not a hand list, means a new module can never be missed: any
    change to the code that decides what native code is generated invalidates the disk cache.
    """
    h = _STATE.get("srchash")
    if h is None:
        import aluvm
        d = hashlib.sha256()
        roots = [Path(p).resolve() for p in aluvm.__path__]
        roots += [Path(__file__).resolve().parent]          # aluvm.jit may live beside aluvm/
        seen: set[Path] = set()
        for root in roots:
            for src in sorted(root.rglob("*.py")):
                if src in seen:
                    continue
                seen.add(src)
                d.update(src.name.encode() + b"\0" + src.read_bytes())
        h = _STATE["srchash"] = d.hexdigest()
    return h


def _key(*what: str) -> str:
    st = _llvm()
    parts = [f"format={FORMAT}", *what, f"llvmlite={llvmlite.__version__}",
             f"llvm={'.'.join(map(str, llvm.llvm_version_info))}", f"triple={st['triple']}",
             f"cpu={st['cpu']}", f"features={st['features']}", f"opt={OPT_LEVEL}",
             f"src={_source_hash()}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _extensions_digest(profile: Profile) -> str:
    """Host extensions change decoding (not compiled code as such): key on their shapes."""
    items = sorted((isae, op, f.key, repr(f.fields), f.cx)
                   for isae, ops in profile.extensions.items()
                   for op, forms in ops.items() for f in forms)
    return hashlib.sha256(repr(items).encode()).hexdigest()[:16] if items else "-"


def cache_key(lib_id: bytes, profile: Profile, roots: Iterable[int]) -> str:
    """Disk-cache key of a library compiled for ``profile`` from ``roots``."""
    return _key(f"lib={lib_id.hex()}", f"profile={profile.name}",
                f"ext={_extensions_digest(profile)}", f"roots={','.join(map(str, sorted(roots)))}")


def cache_dir() -> Optional[Path]:
    env = os.environ.get("ALUVM_JIT_CACHE")
    if env is not None and env.strip().lower() in ("", "off", "0", "none"):
        return None
    return Path(env) if env else Path.home() / ".cache" / "aluvm-jit"


_MAGIC = b"ALUVMJIT"


def _disk_load(key: str) -> Optional[tuple[dict, bytes]]:
    d = cache_dir()
    if d is None:
        return None
    try:
        blob = (d / f"{key}.o").read_bytes()
    except OSError:
        return None
    try:
        if blob[:8] != _MAGIC:
            return None
        (n,) = struct.unpack_from("<I", blob, 8)
        meta = json.loads(blob[12:12 + n])
        obj = blob[12 + n:]
        if meta.get("key") != key or meta.get("sha256") != hashlib.sha256(obj).hexdigest():
            return None
        return meta, obj
    except (ValueError, struct.error, UnicodeDecodeError):
        return None


def _disk_store(key: str, meta: dict, obj: bytes) -> None:
    d = cache_dir()
    if d is None:
        return
    meta = dict(meta, key=key, sha256=hashlib.sha256(obj).hexdigest())
    head = json.dumps(meta, sort_keys=True).encode()
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<I", len(head)) + head + obj)
        os.replace(tmp, d / f"{key}.o")
    except OSError:
        pass


# ---- compiled libraries -------------------------------------------------------------------

_CTRL_FIELDS = (("st0", "B"), ("has_cl0", "B"), ("cy0", "I"), ("cp0", "I"), ("bp", "I"),
                ("ca0", "Q"), ("cl0", "Q"), ("exit_pos", "I"), ("cs_hi", "I"))
_CTRL_IN = {"st0": "regs.st0", "has_cl0": "cl0 is not None", "cy0": "regs.cy0", "cp0": "cp0",
            "bp": "cp0", "ca0": "regs.ca0", "cl0": "cl0 or 0", "exit_pos": "0", "cs_hi": "0"}
_NARROW = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _marshaller(aset: tuple) -> tuple[Any, Any]:
    """Straight-line ``sync_in(regs, buf)`` / ``sync_out(regs, buf) -> (pos, bp, cs_hi)`` for
    one unit: every A register it keeps natively plus the control registers move with one
    ``struct`` call each way (the gaps between them are not read by native code)."""
    fields: list[tuple[int, str, str, tuple]] = []  # (offset, struct code, value-in expr, name)
    for c, i, off, n, doff in aset:
        r = f"r{c}_{i}"
        wide = n > 8
        fields.append((off, f"{n}s" if wide else _NARROW[n],
                       f"(b'\\0' * {n} if {r} is None else {r}.to_bytes({n}, 'little'))" if wide
                       else f"({r} or 0)", ("v", c, i, wide)))
        fields.append((doff, "B", f"{r} is not None", ("d", c, i, wide)))
    for name, code in _CTRL_FIELDS:
        fields.append((layout.OFF[name], code, _CTRL_IN[name], ("c", name)))
    fields.sort(key=lambda f: f[0])
    base = fields[0][0]
    fmt, at = "<", base
    for off, code, _, _ in fields:
        fmt += "x" * (off - at) + code
        at = off + struct.calcsize("<" + code)
    regs_used = [(c, i) for c, i, *_ in aset]
    load = [f"    r{c}_{i} = a[{c}][{i}]" for c, i in regs_used]
    src_in = ["def sync_in(regs, buf):", "    a = regs.a", *load,
              "    cl0 = regs.cl0", "    cp0 = regs.cp0",
              f"    S.pack_into(buf, {base}, {', '.join(f[2] for f in fields)})"]
    index = {f[3]: k for k, f in enumerate(fields)}
    src_out = ["def sync_out(regs, buf):", f"    t = S.unpack_from(buf, {base})", "    a = regs.a"]
    for c, i, *_, n, _d in aset:
        v, d = index[("v", c, i, n > 8)], index[("d", c, i, n > 8)]
        val = f"int.from_bytes(t[{v}], 'little')" if n > 8 else f"t[{v}]"
        src_out.append(f"    a[{c}][{i}] = {val} if t[{d}] else None")
    ctrl = {name: index[("c", name)] for name, _ in _CTRL_FIELDS}
    src_out += [f"    regs.st0 = t[{ctrl['st0']}] != 0", f"    regs.cy0 = t[{ctrl['cy0']}]",
                f"    regs.cp0 = t[{ctrl['cp0']}]", f"    regs.ca0 = t[{ctrl['ca0']}]",
                f"    return t[{ctrl['exit_pos']}], t[{ctrl['bp']}], t[{ctrl['cs_hi']}]"]
    ns: dict[str, Any] = {}
    exec("\n".join(src_in) + "\n\n" + "\n".join(src_out), {"S": struct.Struct(fmt)}, ns)
    return ns["sync_in"], ns["sync_out"]


class CompiledLib:
    """A library compiled for one profile: native code + the interpreter program it falls back
    to.  Plays the role of :class:`aluvm.interp.Program` inside a ``Machine``."""

    def __init__(self, prog: Program, meta: dict, loaded: Optional[_Loaded]) -> None:
        self.prog = prog
        self.id = prog.id
        self.meta = meta
        self.loaded = loaded
        self.fn = loaded.fn if loaded is not None else None
        self.leaders = frozenset(meta["leaders"])
        self.entries = frozenset(meta["entries"]) if self.fn is not None else frozenset()
        # entries worth leaving the interpreter for (a native run of HOT_RUN+ instructions);
        # an entry whose native runs keep ending right away is dropped (see run)
        self.hot = frozenset(meta["hot"]) & self.entries
        self._short: dict[int, int] = {}
        # (code, idx, value offset, bytes, defined offset) of every A register kept natively
        self.aset = tuple((c, i, layout.a_offset(c, i), layout.A_BYTES[c], layout.def_offset(c, i))
                          for c, i in meta["aset"])
        self._in, self._out = _marshaller(self.aset)

    # -- marshalling --------------------------------------------------------------------------
    def _sync_in(self, regs: Registers, buf: bytearray, rf: RegFile) -> None:
        self._in(regs, buf)

    def _sync_out(self, regs: Registers, buf: bytearray, rf: RegFile) -> int:
        pos, bp, hi = self._out(regs, buf)
        if hi:      # replay the native call-stack window onto the sparse cs0
            cs0, lid = regs.cs0, self.id
            for k in range(min(hi, CS_WINDOW + 1)):
                state = rf.cs_state[k]
                if state == 1:
                    cs0[bp + k] = LibSite(lid, rf.cs_pos[k])
                elif state == 2:
                    cs0.pop(bp + k, None)
        return pos

    # -- running ------------------------------------------------------------------------------
    def run(self, regs: Registers, pos: int, trace=None) -> tuple[Optional[LibSite], Optional[str]]:
        """Same contract as :meth:`aluvm.interp.Program.run`."""
        if trace is not None or self.fn is None:
            return self.prog.run(regs, pos, trace)
        stats = _run_stats()
        entries = self.entries
        pool = _buffers()
        buf, rf, addr = pool.pop() if pool else _new_buffer()
        reentry = False
        try:
            while True:
                if pos in entries:
                    start, ca0 = pos, regs.ca0
                    try:
                        self._sync_in(regs, buf, rf)
                    except (OverflowError, struct.error):
                        # a register holds a value outside its type (only possible through
                        # the API): the interpreter gives it its own meaning
                        return self.prog.run(regs, pos)
                    code = self.fn(addr, pos)
                    pos = self._sync_out(regs, buf, rf)
                    stats[0] += 1
                    if code == EXIT_STOP:
                        return None, "stopped" if regs.st0 else "failed"
                    if code == EXIT_END:
                        return None, "end of code"
                    stats[1] += 1
                    if reentry:
                        self._count_reentry(start, regs.ca0 - ca0)
                kind, val = self._interpret(regs, pos, stats)
                if kind == 0:
                    return None, val
                if kind == 1:
                    return val, None
                pos = val
                reentry = True
        finally:
            pool.append((buf, rf, addr))

    def _count_reentry(self, start: int, progress: int) -> None:
        """Adapt the hot set: a round trip costs about a dozen interpreted instructions, so an
        entry whose native runs keep doing less than that (measured in complexity, which every
        instruction adds to) is left to the interpreter.  Performance only: results are the
        same either way."""
        if progress >= HOT_RUN:
            self._short.pop(start, None)
            return
        n = self._short.get(start, 0) + 1
        self._short[start] = n
        if n >= COLD_AFTER:
            self.hot = self.hot - {start}

    def _interpret(self, regs: Registers, pos: int, stats: list[int]) -> tuple[int, Any]:
        """The interpreter's own run loop for at least one instruction, then until a native
        entry: ``(0, reason)`` stop, ``(1, site)`` transfer, ``(2, pos)`` native resumes."""
        steps = [0]
        try:
            where, reason = self.prog.run(regs, pos, until=self.hot, steps=steps)
        finally:
            stats[2] += steps[0]
        if where is None:
            return 0, reason
        if where.__class__ is int:
            return 2, where
        return 1, where


# ---- compile + caches ---------------------------------------------------------------------

_MEMORY: "OrderedDict[tuple, CompiledLib]" = OrderedDict()


def _symbol(key: str) -> str:
    return f"aluvm_{key[:32]}"


def compile_program(prog: Program, roots: Iterable[int] = (0,), eager: Optional[bool] = None
                    ) -> tuple[CompiledLib, str]:
    """Compile ``prog`` from ``roots`` (disk cache first); returns the unit and how it was
    obtained ('disk' or 'compiled').  Never raises: if anything goes wrong the unit runs the
    whole library in the interpreter and ``meta['compile_error']`` says why.  Unless ``eager``
    (default: :data:`EAGER`), a small library without loops is left to the interpreter."""
    eager = EAGER if eager is None else eager
    roots = tuple(sorted(set(roots)))
    key = cache_key(prog.id, prog.profile, roots)
    hit = _disk_load(key)
    if hit is not None and not (not eager and _tiny(hit[0].get("has_loop", True),
                                                     hit[0].get("compiled_instrs", 0))):
        meta, obj = hit
        t0 = time.perf_counter()
        try:
            unit = CompiledLib(prog, meta, _load(obj, meta["symbol"]) if meta["entries"] else None)
            unit.meta = dict(meta, load_ms=(time.perf_counter() - t0) * 1e3)
            return unit, "disk"
        except Exception:       # a stale or foreign cache entry: compile afresh
            pass
    t0 = time.perf_counter()
    try:
        meta, obj = _compile(prog, roots, _symbol(key), eager)
        loaded = _load(obj, meta["symbol"]) if meta["entries"] else None
    except Exception as e:      # never fatal: the interpreter runs the whole library instead
        meta = {"symbol": "", "roots": list(roots), "leaders": [], "entries": [], "hot": [],
                "aset": [], "compiled_instrs": 0, "fallback_instrs": 0, "fallback_keys": {},
                "blocks": 0, "native_blocks": 0, "compile_error": f"{type(e).__name__}: {e}"}
        obj, loaded = b"", None
    meta["compile_ms"] = (time.perf_counter() - t0) * 1e3
    if meta["entries"]:
        _disk_store(key, meta, obj)
    return CompiledLib(prog, meta, loaded), "compiled"


def _tiny(has_loop: bool, n_compiled: int) -> bool:
    """Each instruction runs at most once and there are few: the interpreter finishes before
    native code could make up for the cost of entering it."""
    return not has_loop and n_compiled < TINY_INSTRS


def _compile(prog: Program, roots: tuple[int, ...], symbol: str, eager: bool
             ) -> tuple[dict, bytes]:
    """lift -> codegen -> LLVM: the metadata of the unit and its object file."""
    cfg: CFG = lift(prog, roots, codegen.make_supports(prog.profile))
    if not eager and _tiny(cfg.has_loop, cfg.n_compiled):
        return {"symbol": "", "roots": list(roots), "leaders": sorted(cfg.blocks),
                "entries": [], "hot": [], "aset": [], "tier": "interpreter",
                "compiled_instrs": 0, "fallback_instrs": cfg.n_compiled + cfg.n_fallback,
                "fallback_keys": {}, "blocks": len(cfg.blocks), "native_blocks": 0}, b""
    ir, aset = codegen.generate(cfg, prog, symbol)
    entries = sorted(cfg.entries)
    # optimise code that loops; huge functions compile fast and unoptimised (the register
    # allocator's time grows steeply with the values live across hundreds of blocks)
    level = OPT_LEVEL if cfg.has_loop and cfg.n_compiled <= OPT_MAX_INSTRS else 0
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


def get_compiled(code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,
                 profile: Profile, isae: Iterable[str] = (), entry: int = 0) -> tuple[CompiledLib, str]:
    """The compiled unit for a library (in-process cache, then disk, then compile).  A unit is
    recompiled with ``entry`` as an extra root when ``entry`` is not one of its leaders."""
    mkey = (lib_id, profile.name, id(profile), EAGER)
    with _CACHE_LOCK:
        unit = _MEMORY.get(mkey)
        if unit is not None and (entry in unit.leaders or entry >= unit.prog.limit):
            _MEMORY.move_to_end(mkey)
            return unit, "memory"
    # compile outside the cache lock: threads running cached code never wait for LLVM
    roots = {0, entry} if entry < 0x10000 else {0}
    if unit is not None:
        roots |= set(unit.meta["roots"])
        prog = unit.prog
    else:
        prog = Program(code, data, libs, lib_id, profile, isae)
    unit, how = compile_program(prog, roots)
    with _CACHE_LOCK:
        _MEMORY[mkey] = unit
        _MEMORY.move_to_end(mkey)
        while len(_MEMORY) > MEMORY_CACHE_SIZE:
            _MEMORY.popitem(last=False)
    return unit, how


def clear_memory_cache() -> None:
    with _CACHE_LOCK:
        _MEMORY.clear()
        _RUNNERS.clear()


class JitMachine(Machine):
    """A :class:`~aluvm.interp.Machine` whose libraries run compiled (multi-library programs,
    host extensions: everything the interpreter's machine does, with the same semantics)."""

    # programs holds CompiledLib units, which duck-type Program (same run contract)
    def add(self, code: bytes, data: bytes, libs: Iterable[bytes], lib_id: bytes,  # type: ignore[override]
            isae: Iterable[str] = ()) -> CompiledLib:
        unit: Optional[CompiledLib] = self.programs.get(lib_id)  # type: ignore[assignment]
        if unit is None:
            unit, _ = get_compiled(code, data, libs, lib_id, self.profile, isae)
            self.programs[lib_id] = unit  # type: ignore[assignment]
        return unit


# ---- runner + stats -----------------------------------------------------------------------

def _run_stats() -> list[int]:
    """This thread's [native calls, fallback exits, interpreted steps] of the current run."""
    stats = getattr(_TLS, "run", None)
    if stats is None:
        stats = _TLS.run = [0, 0, 0]
    return stats


def _new_buffer() -> tuple[bytearray, RegFile, int]:
    buf = bytearray(layout.SIZE)
    rf = RegFile.from_buffer(buf)
    return buf, rf, ctypes.addressof(rf)


def _buffers() -> list:
    """This thread's free register-file buffers (a run takes one and gives it back; whatever a
    previous run left in it is never read: entry marshals every value native code uses)."""
    pool = getattr(_TLS, "pool", None)
    if pool is None:
        pool = _TLS.pool = []
    return pool


#: (library id, profile) -> (unit, machine): the batch fast path of jit_runner (a machine holds
#: no per-run state, so one serves every run and thread)
_RUNNERS: dict[tuple, tuple[CompiledLib, JitMachine]] = {}


def jit_runner(lib, regs: Registers, entry: int, profile: str | Profile) -> Outcome:
    """Run ``lib`` from ``entry`` with the JIT: same contract and results as
    :func:`aluvm.service.interp_runner`."""
    key = (lib.id, profile if isinstance(profile, str) else id(profile), EAGER)
    hit = _RUNNERS.get(key)
    if hit is not None and (entry in hit[0].leaders or entry >= hit[0].prog.limit):
        unit, machine = hit
        how = "memory"
    else:
        prof = profile if isinstance(profile, Profile) else get_profile(profile)
        unit, how = get_compiled(lib.code, lib.data, lib.libs, lib.id, prof,
                                 getattr(lib, "isae", ()), entry)
        machine = JitMachine(prof)
        # (no native code: the interpreter's program itself, without a wrapper around it)
        machine.programs[lib.id] = unit if unit.fn is not None else unit.prog  # type: ignore
        with _CACHE_LOCK:
            if len(_RUNNERS) >= MEMORY_CACHE_SIZE:
                _RUNNERS.clear()
            _RUNNERS[key] = (unit, machine)
    _TLS.run = run = [0, 0, 0]
    t0 = time.perf_counter()
    outcome = machine.run(lib.id, entry, regs)
    _TLS.last = (unit, how, machine.profile.name, time.perf_counter() - t0, run)
    return outcome


def last_stats() -> dict:
    """Statistics of this thread's last :func:`jit_runner` call: static counts of compiled and
    interpreted (fallback) instructions, how the code was obtained (``cache``: compiled, disk,
    memory), compile/load time, and what the run did (native calls, fallback exits,
    interpreted steps)."""
    last = getattr(_TLS, "last", None)
    if last is None:
        return {}
    unit, how, profile, seconds, run = last
    meta = unit.meta
    out = {
        "cache": how, "profile": profile, "lib_id": unit.id.hex(),
        "compiled_instrs": meta["compiled_instrs"], "fallback_instrs": meta["fallback_instrs"],
        "fallback_keys": dict(meta["fallback_keys"]), "blocks": meta["blocks"],
        "native_blocks": meta["native_blocks"], "registers_native": len(meta["aset"]),
        "opt_level": meta.get("opt_level", 0), "tier": meta.get("tier", "native"),
        "compile_ms": round(meta.get("compile_ms", 0.0), 3) if how == "compiled" else 0.0,
        "load_ms": round(meta.get("load_ms", 0.0), 3) if how == "disk" else 0.0,
        "run_ms": round(seconds * 1e3, 3),
        "native_calls": run[0], "fallback_exits": run[1], "interp_steps": run[2],
    }
    if "compile_error" in meta:
        out["compile_error"] = meta["compile_error"]
    return out


__all__ = ["jit_runner", "last_stats", "get_compiled", "compile_program", "compile_ir", "JitMachine",
           "CompiledLib", "cache_dir", "cache_key", "clear_memory_cache"]
