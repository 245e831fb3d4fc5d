"""The native batch kernel: one native call runs a whole chunk of inputs through a library.

For a library, profile, entry point and complexity limit, :func:`get_kernel` emits one LLVM
module holding the library's compiled function (:mod:`aluvm.jit.codegen`, made ``internal`` and
``alwaysinline``) and a *driver* ``i64 drv(ptr ins, ptr outs, i64 start, i64 end)`` that loops
over the inputs ``start..end``:

* it resets a register file on its own stack (st0 = true, cy0 = ca0 = cp0 = 0, cl0 baked in)
  and loads only the A registers the compiled code keeps natively (``aset``) from the input
  columns - registers that are not columns start undefined;
* runs the inlined function from the entry point (baked in);
* writes the exit code, st0, cy0, ca0 and every requested output register into the output
  columns, and returns how many inputs left native code.

Columns are contiguous arrays, one element per input: a value column holds each register
little-endian at its natural width (numpy's native unsigned layout for a8..a64), a defined
column one byte (0/1) per input.  ``ins`` is an array of pointers ``[value0, defined0, value1,
defined1, ...]`` for the kernel's ``inputs``; ``outs`` is ``[status u8, st0 u8, cy0 u16, ca0
u64, value, defined, ..., exit position u32]`` for its ``outputs``.  Status is the compiled
function's exit code: :data:`~aluvm.jit.layout.EXIT_FALLBACK` marks an input that must be
finished by the interpreter.  The state native code leaves at such an exit is exact (what the
single-run path marshals back at its own fallback exits): st0, cy0, ca0, the A registers native
code wrote, and where to go on (the exit position).  When no compiled instruction touches the
call stack (:attr:`Plan.resumable`) the caller resumes such an input there; otherwise it re-runs
it from the start through the single-run path.  The native call does no Python work, so ctypes releases the GIL for it and
chunks run in parallel on threads.

Kernels are cached in process and on disk like compiled libraries (same cache directory and
key material); a kernel's object file travels to other processes (Ray workers) and is loaded
there without recompiling (:meth:`BatchKernel.from_object`).
"""
from __future__ import annotations

import ctypes
import functools
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import llvmlite.binding as llvm

from aluvm.machine.registers import A_BITS

from aluvm.jit import layout, runtime
from aluvm.jit.backend import OPT_LEVEL, RESOLVED, backend
from aluvm.jit.cache import _extensions_digest, code_cache, key as cache_key
from aluvm.jit.elf import undefined_symbols
from aluvm.jit.loader import loader

if TYPE_CHECKING:
    # (the decoder, lifter and code generator load only when a plan is made: a kernel whose
    # plan and object code are in the disk cache needs none of them, see cached_kernel)
    from aluvm.machine.interp import Program

#: the driver's C signature
DRIVER_TYPE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_int64, ctypes.c_int64)
#: outputs before the register columns: status, st0, cy0, ca0 (dtype names)
CONTROL_OUTPUTS = (("status", "u1"), ("st0", "u1"), ("cy0", "u2"), ("ca0", "u8"))

Reg = tuple[int, int]          # (A bank code, index)


@dataclass(frozen=True)
class Plan:
    """What one library compiles to for batches: its function IR and the A registers it keeps
    natively (the only ones a kernel loads and stores)."""

    ir: str
    fn_name: str
    aset: tuple[Reg, ...]
    written: tuple[Reg, ...]  # the A registers compiled code may write (the kernel's outputs)
    native: bool              # the entry point is compiled (else every input falls back)
    n_compiled: int
    #: no compiled instruction touches the call stack (routine, call, exec, ret): cp0 is 0 and
    #: cs0 empty wherever native code exits, so an input can resume at the exit position
    resumable: bool = False


@functools.lru_cache(maxsize=None)
def _write_recorder() -> Any:
    """The library's function generator, noting every A register an instruction writes (all
    writes go through ``put``): a kernel only outputs those, the others keep their inputs.
    (A class made on first use: the code generator is imported only when a plan is made.)"""
    from aluvm.jit import codegen

    class _WriteRecorder(codegen.LibraryFunction):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.written: set[Reg] = set()

        def put(self, c: int, i: int, v: Optional[str], d: str) -> None:
            if c < 8:                   # (R and F registers, codes 8..23, are never columns)
                self.written.add((c, i))
            super().put(c, i, v, d)
    return _WriteRecorder


def _a_only(supports: Any, strict: bool = False) -> Any:
    """The JIT's compile predicate less every instruction that names a register outside the A
    banks (R, F or S: :func:`aluvm.isa.effects.operand_banks`, read off the instruction table):
    a kernel's columns are A registers only, so native code must never read or write another
    register (it would see it undefined, and its writes would be lost); such an instruction
    leaves native code and the input is finished exactly by the fallback path.  ``strict``: no
    instruction at all (every input falls back) - the safety net for a register kind the JIT
    learns later."""
    from aluvm.isa.effects import A_BANKS, operand_banks
    from aluvm.jit.lift import is_terminator

    def batch_supports(ins: Any) -> bool:
        if not supports(ins):
            return False
        if is_terminator(ins.form.flow):
            return True
        if strict:
            return False
        banks = operand_banks(ins.form, ins.args)
        return banks is not None and banks <= A_BANKS
    return batch_supports


_PLANS: dict[tuple, Plan] = {}
_KERNELS: dict[tuple, "BatchKernel"] = {}
_LOCK = threading.Lock()


def plan(prog: Program, entry: int) -> Plan:
    """Lift and generate the library's function for batches (cached per library, profile,
    entry).  The "tiny loop-free libraries stay in the interpreter" rule does not apply: a
    kernel amortises entering native code over the whole batch."""
    key = (prog.id, prog.profile.name, id(prog.profile), entry)
    hit = _PLANS.get(key)
    if hit is not None:
        return hit
    from aluvm.jit import codegen
    from aluvm.jit.lift import lift
    recorder = _write_recorder()
    roots = tuple(sorted({0, entry})) if entry < prog.limit else (0,)
    name = f"aluvm_batchfn_{prog.id.hex()[:16]}"
    for strict in (False, True):
        cfg = lift(prog, roots, _a_only(codegen.make_supports(prog.profile), strict))
        gen = recorder(cfg, prog, name)
        ir = gen.generate()
        if all(c < 8 for c, _ in gen.regs):         # (A registers only: codes 0..7)
            break
    native = entry in cfg.entries
    resumable = not any(b.ctrl is not None and (b.ctrl.flow.calls or b.ctrl.flow.returns or
                                                 b.ctrl.flow.leaves)
                        for b in cfg.blocks.values() if b.native)
    p = Plan(ir, name, tuple(sorted(gen.regs)), tuple(sorted(gen.written)), native,
             cfg.n_compiled, resumable)
    _PLANS[key] = p
    code_cache().store(_plan_key(prog.id, prog.profile.name, _extensions_digest(prog.profile),
                                 entry),
                       {"aset": p.aset, "written": p.written, "native": native,
                        "resumable": resumable}, b"")
    return p


def _plan_key(lib_id: bytes, profile: str, ext: str, entry: int) -> str:
    """Disk-cache key of a plan's registers (what :func:`cached_kernel` needs of a plan)."""
    return cache_key("batch-plan", f"lib={lib_id.hex()}", f"profile={profile}", f"ext={ext}",
                     f"entry={entry}")


def _kernel_key(lib_id: bytes, profile: str, ext: str, entry: int, cl0: Optional[int],
                ins: tuple[Reg, ...], outs: tuple[Reg, ...]) -> tuple[str, str]:
    """Disk-cache key and driver symbol of a kernel."""
    key = cache_key("batch-kernel", f"lib={lib_id.hex()}", f"profile={profile}", f"ext={ext}",
                    f"entry={entry}", f"cl0={cl0}", f"ins={ins}", f"outs={outs}",
                    "exit-pos")
    return key, f"aluvm_batch_{key[:32]}"


def _columns(aset: tuple[Reg, ...], written: tuple[Reg, ...], inputs: tuple[Reg, ...],
             outputs: Optional[tuple[Reg, ...]]) -> tuple[tuple[Reg, ...], tuple[Reg, ...]]:
    """A kernel's input and output columns: the ``inputs`` native code uses, the ``outputs``
    (``None``: all) it may write."""
    have = set(aset)
    return (tuple(r for r in inputs if r in have),
            tuple(r for r in (written if outputs is None else outputs) if r in written))


def _inlined(ir: str, name: str) -> str:
    """The library's function as an internal, always-inlined definition of the kernel module."""
    head = f"define i32 @{name}("
    if head not in ir:
        raise RuntimeError("unexpected shape of the generated function")
    ir = ir.replace(head, f"define internal i32 @{name}(", 1)
    return ir.replace(") nounwind {", ") alwaysinline nounwind {", 1)


def driver_ir(p: Plan, symbol: str, inputs: tuple[Reg, ...], outputs: tuple[Reg, ...],
              entry: int, cl0: Optional[int]) -> str:
    """The driver loop (see the module docstring) around the inlined function of ``p``."""
    L: list[str] = []
    n = [0]

    def t() -> str:
        n[0] += 1
        return f"%v{n[0]}"

    def e(s: str) -> None:
        L.append("  " + s)

    def ptr_at(base: str, k: int) -> str:
        q = t()
        e(f"{q} = getelementptr inbounds ptr, ptr {base}, i64 {k}")
        r = t()
        e(f"{r} = load ptr, ptr {q}")
        return r

    def rf_at(off: int) -> str:
        q = t()
        e(f"{q} = getelementptr inbounds i8, ptr %rf, i64 {off}")
        return q

    def elem(base: str, size: int) -> str:
        q = t()
        e(f"{q} = getelementptr inbounds i8, ptr {base}, i64 %i.{size}")
        return q

    L.append(f"define i64 @{symbol}(ptr %ins, ptr %outs, i64 %start, i64 %end) nounwind {{")
    L.append("entry:")
    e(f"%rf = alloca [{layout.SIZE} x i8], align 16")
    cols_in = {r: (ptr_at("%ins", 2 * k), ptr_at("%ins", 2 * k + 1)) for k, r in enumerate(inputs)}
    ctrl = [ptr_at("%outs", k) for k in range(len(CONTROL_OUTPUTS))]
    base = len(CONTROL_OUTPUTS)
    cols_out = {r: (ptr_at("%outs", base + 2 * k), ptr_at("%outs", base + 2 * k + 1))
                for k, r in enumerate(outputs)}
    exit_col = ptr_at("%outs", base + 2 * len(outputs))
    e("br label %head")
    L.append("head:")
    e("%i = phi i64 [%start, %entry], [%i.next, %body]")
    e("%nfb = phi i64 [0, %entry], [%nfb.next, %body]")
    e("%done = icmp uge i64 %i, %end")
    e("br i1 %done, label %exit, label %body")
    L.append("body:")
    sizes = {1, 2, 4, 8} | {layout.REG_BYTES[c] for c, _ in p.aset}
    for s in sorted(sizes):
        e(f"%i.{s} = mul i64 %i, {s}")
    off = layout.OFF
    for field, ty, val in (("st0", "i8", 1), ("has_cl0", "i8", int(cl0 is not None)),
                           ("cy0", "i32", 0), ("cp0", "i32", 0), ("bp", "i32", 0),
                           ("ca0", "i64", 0), ("cl0", "i64", cl0 or 0),
                           ("exit_pos", "i32", 0), ("cs_hi", "i32", 0)):
        e(f"store {ty} {val}, ptr {rf_at(off[field])}")
    for c, i in p.aset:         # register codes: R and F registers (8..23) are never columns
        w, nb = layout.REG_BITS[c], layout.REG_BYTES[c]
        vdst, ddst = rf_at(layout.reg_offset(c, i)), rf_at(layout.reg_def_offset(c, i))
        col = cols_in.get((c, i))
        if col is None and c >= 8:
            e(f"store i8 0, ptr {ddst}")
            continue
        if col is None:
            e(f"store i{w} 0, ptr {vdst}, align 1")
            e(f"store i8 0, ptr {ddst}")
            continue
        v, d = t(), t()
        e(f"{v} = load i{w}, ptr {elem(col[0], nb)}, align 1")
        e(f"{d} = load i8, ptr {elem(col[1], 1)}")
        e(f"store i{w} {v}, ptr {vdst}, align 1")
        e(f"store i8 {d}, ptr {ddst}")
    e(f"%code = call i32 @{p.fn_name}(ptr %rf, i32 {entry})")
    code8, st0, cy0, cy16, ca0 = t(), t(), t(), t(), t()
    e(f"{code8} = trunc i32 %code to i8")
    e(f"store i8 {code8}, ptr {elem(ctrl[0], 1)}")
    e(f"{st0} = load i8, ptr {rf_at(off['st0'])}")
    e(f"store i8 {st0}, ptr {elem(ctrl[1], 1)}")
    e(f"{cy0} = load i32, ptr {rf_at(off['cy0'])}")
    e(f"{cy16} = trunc i32 {cy0} to i16")
    e(f"store i16 {cy16}, ptr {elem(ctrl[2], 2)}, align 1")
    e(f"{ca0} = load i64, ptr {rf_at(off['ca0'])}")
    e(f"store i64 {ca0}, ptr {elem(ctrl[3], 8)}, align 1")
    for (c, i), (vcol, dcol) in cols_out.items():
        w, nb = A_BITS[c], layout.A_BYTES[c]
        v, d = t(), t()
        e(f"{v} = load i{w}, ptr {rf_at(layout.a_offset(c, i))}, align 1")
        e(f"store i{w} {v}, ptr {elem(vcol, nb)}, align 1")
        e(f"{d} = load i8, ptr {rf_at(layout.def_offset(c, i))}")
        e(f"store i8 {d}, ptr {elem(dcol, 1)}")
    xpos = t()
    e(f"{xpos} = load i32, ptr {rf_at(off['exit_pos'])}")
    e(f"store i32 {xpos}, ptr {elem(exit_col, 4)}, align 1")
    fb = t()
    e(f"{fb} = icmp eq i32 %code, {layout.EXIT_FALLBACK}")
    fb64 = t()
    e(f"{fb64} = zext i1 {fb} to i64")
    e(f"%nfb.next = add i64 %nfb, {fb64}")
    e("%i.next = add i64 %i, 1")
    e("br label %head")
    L.append("exit:")
    e("ret i64 %nfb")
    L.append("}")
    return _inlined(p.ir, p.fn_name) + "\n" + "\n".join(L) + "\n"


def compile_kernel_ir(ir: str) -> bytes:
    """Kernel IR -> optimised object file (every kernel is optimised: it runs many times)."""
    be = backend()
    with be.lock:
        module = llvm.parse_assembly(ir)
        module.verify()
        # inline the library into the loop, then the JIT's usual optimisation
        be.inline_always(module)
        be.optimize(module, OPT_LEVEL)
        obj = be.machines[OPT_LEVEL].emit_object(module)
    missing = undefined_symbols(obj) - set(RESOLVED) - set(runtime.symbols())
    if missing:
        raise RuntimeError(f"kernel references unresolved symbols {sorted(missing)}")
    return obj


class BatchKernel:
    """A loaded driver: ``run(ins, outs, start, end)`` with pointer arrays (see module doc)."""

    def __init__(self, obj: bytes, symbol: str, inputs: tuple[Reg, ...],
                 outputs: tuple[Reg, ...], aset: tuple[Reg, ...], native: bool,
                 resumable: bool = False) -> None:
        self.obj, self.symbol = obj, symbol
        self.inputs, self.outputs, self.aset, self.native = inputs, outputs, aset, native
        #: an input that left native code may resume at its exit position (Plan.resumable)
        self.resumable = resumable
        self.loaded = loader().load(obj, symbol, code_cache())     # keeps the code alive
        addr = ctypes.cast(self.loaded.fn, ctypes.c_void_p).value
        assert addr        # (a loaded symbol has an address: _Loaded checked it)
        self.fn = DRIVER_TYPE(addr)

    def state(self) -> tuple:
        """What another process needs to load this kernel (no compiler involved)."""
        return (self.obj, self.symbol, self.inputs, self.outputs, self.aset, self.native,
                self.resumable)

    @classmethod
    def from_state(cls, state: tuple) -> "BatchKernel":
        with _LOCK:
            hit = _KERNELS.get(("state", state[1]))
            if hit is None:
                hit = _KERNELS[("state", state[1])] = cls(*state)
            return hit

    def run(self, ins: ctypes.Array, outs: ctypes.Array, start: int, end: int) -> int:
        """Run inputs ``start..end``; returns how many left native code (GIL released)."""
        return self.fn(ctypes.addressof(ins), ctypes.addressof(outs), start, end)


def get_kernel(prog: Program, entry: int, cl0: Optional[int], inputs: tuple[Reg, ...],
               outputs: Optional[tuple[Reg, ...]]) -> BatchKernel:
    """The kernel for ``prog`` from ``entry`` with limit ``cl0``, loading the A registers of
    ``inputs`` that native code uses and writing those of ``outputs`` (``None``: all) that
    native code may write - every other register ends as it started.  In-process cache, then
    disk, then compile."""
    p = plan(prog, entry)
    ins, outs = _columns(p.aset, p.written, inputs, outputs)
    mkey = (prog.id, prog.profile.name, id(prog.profile), entry, cl0, ins, outs)
    with _LOCK:
        hit = _KERNELS.get(mkey)
    if hit is not None:
        return hit
    key, symbol = _kernel_key(prog.id, prog.profile.name, _extensions_digest(prog.profile),
                              entry, cl0, ins, outs)
    cache = code_cache()
    disk = cache.load(key)
    obj = disk[1] if disk is not None and disk[0].get("symbol") == symbol else None
    if obj is None:
        t0 = time.perf_counter()
        obj = compile_kernel_ir(driver_ir(p, symbol, ins, outs, entry, cl0))
        cache.store(key, {"symbol": symbol,
                                 "compile_ms": (time.perf_counter() - t0) * 1e3}, obj)
    kernel = BatchKernel(obj, symbol, ins, outs, p.aset, p.native, p.resumable)
    with _LOCK:
        _KERNELS[mkey] = kernel
        _KERNELS[("state", symbol)] = kernel
    return kernel


def cached_kernel(lib_id: bytes, profile: str, ext: str, entry: int, cl0: Optional[int],
                  inputs: tuple[Reg, ...], outputs: Optional[tuple[Reg, ...]]
                  ) -> Optional[BatchKernel]:
    """The kernel :func:`get_kernel` gives, from the caches alone (in process, else the plan's
    registers and the object code on disk), or None: no decoding, lifting, code generation or
    compiling - none of them is even imported.  ``profile`` is the profile's name and ``ext``
    its host extensions' digest (``"-"``: none)."""
    ckey = ("cached", lib_id, profile, ext, entry, cl0, inputs, outputs)
    with _LOCK:
        hit = _KERNELS.get(ckey)
    if hit is not None:
        return hit
    cache = code_cache()
    got = cache.load(_plan_key(lib_id, profile, ext, entry))
    if got is None:
        return None
    meta = got[0]
    aset = tuple((int(c), int(i)) for c, i in meta["aset"])
    written = tuple((int(c), int(i)) for c, i in meta["written"])
    ins, outs = _columns(aset, written, inputs, outputs)
    key, symbol = _kernel_key(lib_id, profile, ext, entry, cl0, ins, outs)
    with _LOCK:
        kernel = _KERNELS.get(("state", symbol))
    if kernel is None:
        disk = cache.load(key)
        if disk is None or disk[0].get("symbol") != symbol:
            return None
        kernel = BatchKernel(disk[1], symbol, ins, outs, aset, bool(meta["native"]),
                             bool(meta.get("resumable", False)))
    with _LOCK:
        _KERNELS.setdefault(("state", symbol), kernel)
        _KERNELS[ckey] = kernel
    return kernel


def adopt(kernel: BatchKernel, prog: Program, entry: int, cl0: Optional[int]) -> None:
    """Make a kernel loaded from another process's object code (:meth:`BatchKernel.from_state`)
    the one :func:`get_kernel` returns here for the same library and registers: a Ray worker
    then never compiles it."""
    mkey = (prog.id, prog.profile.name, id(prog.profile), entry, cl0, kernel.inputs,
            kernel.outputs)
    with _LOCK:
        _KERNELS.setdefault(mkey, kernel)


def clear_cache() -> None:
    with _LOCK:
        _PLANS.clear()
        _KERNELS.clear()


__all__ = ["BatchKernel", "Plan", "get_kernel", "cached_kernel", "adopt", "plan", "driver_ir", "compile_kernel_ir",
           "CONTROL_OUTPUTS", "clear_cache"]
