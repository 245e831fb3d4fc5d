"""Batch validation: one library, one entry point, many inputs (``aluvm.Batch``).

::

    batch = Batch(lib, tier="jit", threads=2, entry=0, profile="reference", cl0=None,
                  outputs=None)
    res = batch.run({"a64[0]": np.array([...], np.uint64), "a16[1]": ...})
    res.st0, res.cy0, res.ca0      # numpy arrays in input order
    res["a64[2]"]                  # numpy masked array, masked where undefined

The entry point, the initial ``st0`` (true) and ``cl0`` belong to the validator, not to the
inputs.  Inputs are columns (:mod:`aluvm.tools.columns`) or an iterable of
``{"regs": {name: hex}}`` dicts.  ``batch.run`` on N inputs gives exactly what N separate
:func:`aluvm.run` calls give:

* ``tier="jit"``: the native batch kernel (:mod:`aluvm.jit.batch`) runs chunks of inputs on a
  thread pool (the native call releases the GIL); inputs whose run left native code (an
  instruction the JIT does not compile, a reference panic case, ``cl0`` reached inside a block)
  are marked by the kernel and finished by the single-run path (the machine :func:`aluvm.run`
  with ``tier="jit"`` uses, :mod:`aluvm.tools.fallback`): from the exact state native code
  left them in, at its exit position, when no compiled instruction touches the call stack and
  every output is asked for; else re-run from the start;
* ``tier="interp"``: every input runs through the single-run path of the interpreter (with a
  machine cached per library).

``engine="ray"`` spreads chunks over a Ray cluster (:mod:`aluvm.tools.batch_ray`).
"""
from __future__ import annotations

from aluvm.errors import InputError

import ctypes
import os
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from aluvm.library.lib import Lib
from aluvm.tools.columns import (Column, RegKey, columns_from_mapping, columns_from_rows,
                                 concat, key_of, reg_key)

if TYPE_CHECKING:
    # (imported when first needed: a batch whose kernel comes from the disk cache and runs
    # every input natively never loads the interpreter, see Batch.kernel)
    from aluvm.machine.interp import Machine, Profile, Program

#: inputs per kernel call on the thread pool (large enough that a call is milliseconds)
CHUNK = 1 << 16

Inputs = Union[Mapping[str, Any], Iterable[Mapping[str, Any]]]

_POOL_LOCK = threading.Lock()


class OutputPool:
    """Output buffers of the kernel, reused between runs.

    A fresh buffer costs a page fault per 4 KiB on first touch: for validate20 that was a
    third of the run (16.5 vs 10.9 ms per million inputs on one thread).  Every run's outputs are
    views of one buffer; a buffer goes back to work only when no view of it is alive any more
    (its reference count says so), so results a caller keeps are never overwritten.
    """

    #: at most this many bytes are kept for reuse
    MAX_BYTES = 1 << 28
    ALIGN = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[np.ndarray] = []

    def take(self, shapes: Sequence[tuple[int, ...]], dtypes: Sequence[np.dtype]
             ) -> list[np.ndarray]:
        """Arrays of these shapes and dtypes, carved from one (possibly reused) buffer."""
        sizes = [int(np.prod(s)) * d.itemsize for s, d in zip(shapes, dtypes)]
        offsets, at = [], 0
        for size in sizes:
            offsets.append(at)
            at += -(-size // self.ALIGN) * self.ALIGN
        buf = self._reuse(at)
        if buf is None:
            buf = np.empty(at + self.ALIGN, np.uint8)
        base = -buf.ctypes.data % self.ALIGN
        out = [buf[base + o:base + o + size].view(d).reshape(s)
               for o, size, s, d in zip(offsets, sizes, shapes, dtypes)]
        self._give_back(buf)
        return out

    def _reuse(self, need: int) -> Optional[np.ndarray]:
        with self._lock:
            for k in range(len(self._free)):
                # references: the list and getrefcount's argument - no live view
                if self._free[k].size >= need + self.ALIGN and \
                        sys.getrefcount(self._free[k]) == 2:
                    return self._free.pop(k)
        return None

    def _give_back(self, buf: np.ndarray) -> None:
        with self._lock:
            if any(b is buf for b in self._free):
                return
            self._free.append(buf)
            while sum(b.nbytes for b in self._free) > self.MAX_BYTES and len(self._free) > 1:
                self._free.pop(0)


class BatchResult:
    """Results of N runs, in input order: ``st0`` (bool), ``cy0`` (uint16), ``ca0`` (uint64),
    and per register a :class:`~aluvm.tools.columns.Column` (``res[name]`` is its masked
    array).  ``fallback`` marks the inputs that were finished outside the native kernel.

    ``outcomes`` holds, sparsely, the inputs whose run did not end normally: input ->
    (kind, reason), exactly the :class:`~aluvm.machine.interp.Outcome` ``kind`` and ``reason``
    a single :func:`aluvm.run` gives (``panic`` or ``hang``: the reference would have panicked
    or never terminated; ``host``: a host extension raised; ``internal``: a bug in aluvm).
    Their ``st0`` is false, like an invalid input's: this is how to tell them apart.  Empty in
    the common case (only the fallback path fills it: native code hands every panic to it)."""

    def __init__(self, n: int, st0: np.ndarray, cy0: np.ndarray, ca0: np.ndarray,
                 columns: dict[RegKey, Column], fallback: Optional[np.ndarray] = None,
                 outcomes: Optional[dict[int, tuple[str, str]]] = None) -> None:
        self.n, self.st0, self.cy0, self.ca0 = n, st0, cy0, ca0
        self.columns = columns
        self.fallback = fallback if fallback is not None else np.zeros(n, bool)
        self.outcomes: dict[int, tuple[str, str]] = outcomes if outcomes is not None else {}
        #: registers whose column arrays belong to this result (the kernel's outputs): the
        #: fallback path writes into them in place; any other column may share the caller's
        #: input arrays and is copied before it is written
        self.owned: frozenset[RegKey] = frozenset()

    def __len__(self) -> int:
        return self.n

    @property
    def names(self) -> list[str]:
        """Every register defined in at least one result, in register order."""
        return [k.name for k in sorted(self.columns, key=lambda k: k.order)
                if self.columns[k].defined.any()]

    def column(self, name: str) -> Column:
        key = reg_key(name)
        col = self.columns.get(key)
        return col if col is not None else Column.undefined(key, self.n)

    def __getitem__(self, name: str) -> np.ma.MaskedArray:
        return self.column(name).masked()

    def defined(self, i: int) -> dict[str, bytes]:
        """Input ``i``'s defined registers in vector format, like :meth:`Registers.defined`."""
        out = {}
        for key in sorted(self.columns, key=lambda k: k.order):
            col = self.columns[key]
            if col.defined[i]:
                out[key.name] = key.to_vector(col.values[i])
        return out

    @classmethod
    def concat(cls, parts: Sequence["BatchResult"]) -> "BatchResult":
        """Results of consecutive chunks -> one result (columns missing from a chunk are
        undefined there)."""
        if len(parts) == 1:
            return parts[0]
        keys = sorted({k for p in parts for k in p.columns}, key=lambda k: k.order)
        cols = {k: concat([p.column(k.name) for p in parts]) for k in keys}
        return cls(sum(p.n for p in parts), np.concatenate([p.st0 for p in parts]),
                   np.concatenate([p.cy0 for p in parts]), np.concatenate([p.ca0 for p in parts]),
                   cols, np.concatenate([p.fallback for p in parts]),
                   shift_outcomes([p.outcomes for p in parts], [p.n for p in parts]))


def shift_outcomes(parts: Sequence[Mapping[int, tuple[str, str]]], sizes: Sequence[int]
                   ) -> dict[int, tuple[str, str]]:
    """Consecutive chunks' ``outcomes`` (rows counted from each chunk's start) -> one dict."""
    out: dict[int, tuple[str, str]] = {}
    at = 0
    for part, size in zip(parts, sizes):
        out.update((at + row, o) for row, o in part.items())
        at += size
    return out


def _rows_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Optional[bytes]]]:
    """``{"regs": {name: hex}}`` dicts (or bare ``{name: hex}``) -> rows of vector bytes."""
    rows = []
    for k, item in enumerate(items):
        regs = item.get("regs", {}) if "regs" in item else item
        row: dict[str, Optional[bytes]] = {}
        for name, val in (regs or {}).items():
            if val is None:
                row[name] = None
            elif isinstance(val, str):
                try:
                    row[name] = bytes.fromhex(val)
                except ValueError:
                    raise InputError(f"input {k}: {name}: not a hex string") from None
            elif isinstance(val, (bytes, bytearray)):
                row[name] = bytes(val)
            else:
                raise TypeError(f"input {k}: {name}: expected a hex string")
        rows.append(row)
    return rows


def to_columns(inputs: Inputs) -> tuple[int, list[Column]]:
    """Any accepted input shape -> (number of inputs, columns)."""
    if isinstance(inputs, Mapping) and "regs" not in inputs:
        return columns_from_mapping(inputs)
    items = [inputs] if isinstance(inputs, Mapping) else list(inputs)
    rows = _rows_from_dicts(items)
    return len(rows), columns_from_rows(rows)


class Batch:
    """One library, entry point, profile and complexity limit, run over many inputs."""

    def __init__(self, lib: Lib, tier: str = "jit", threads: Optional[int] = None,
                 entry: int = 0, profile: Union[str, Profile] = "reference",
                 cl0: Optional[int] = None, outputs: Optional[Iterable[str]] = None,
                 engine: str = "local", host: Any = None, ray_address: Optional[str] = None,
                 chunk: int = CHUNK) -> None:
        if tier not in ("jit", "interp"):
            raise InputError(f"unknown tier {tier!r}")
        if engine not in ("local", "ray"):
            raise InputError(f"unknown engine {engine!r}")
        if not 0 <= entry <= 0xFFFF:
            raise InputError("entry must be in [0, 65535]")
        if cl0 is not None and not 0 <= cl0 < 1 << 64:
            raise InputError("cl0 must be in [0, 2^64)")
        self.lib, self.tier, self.entry, self.cl0 = lib, tier, entry, cl0
        from aluvm.machine.features import BUILTIN_PROFILES
        self._profile: Optional[Profile] = None
        if not isinstance(profile, str) or profile not in BUILTIN_PROFILES:
            from aluvm.machine.interp import get_profile
            self._profile = get_profile(profile)      # (an unknown name: InputError)
        self._profile_name = profile if isinstance(profile, str) else profile.name
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.outputs = (None if outputs is None
                        else tuple(sorted({reg_key(n) for n in outputs}, key=lambda k: k.order)))
        self.engine, self.ray_address, self.chunk = engine, ray_address, max(1, chunk)
        #: a host context for every run, a sequence (one per input) or a callable
        #: ``host(i)``; passed to the single-run path
        self.host = host
        self._prog: Optional[Program] = None
        self._machine: Optional[Machine] = None
        self._pool: Optional[ThreadPoolExecutor] = None
        self._outputs = OutputPool()
        self._writable: Optional[frozenset[int]] = None    # (see _banks)

    # -- public ---------------------------------------------------------------------------
    def run(self, inputs: Union[Inputs, Any]) -> BatchResult:
        """Run every input.  With ``engine="ray"``, ``inputs`` may also be a handle from
        :meth:`put` or a list of ``ray.ObjectRef`` chunks (:mod:`aluvm.tools.batch_ray`)."""
        if self.engine == "ray":
            from aluvm.tools.batch_ray import run_inputs
            return run_inputs(self, inputs)
        if getattr(inputs, "on_ray", False):
            raise InputError("inputs in Ray's object store need Batch(..., engine='ray')")
        n, cols = to_columns(inputs)
        return self.run_local(n, cols)

    def run_columns(self, n: int, cols: Sequence[Column]) -> BatchResult:
        if self.engine == "ray":
            from aluvm.tools.batch_ray import put_columns, run_handle
            return run_handle(self, put_columns(self, n, list(cols)))
        return self.run_local(n, list(cols))

    @property
    def profile(self) -> Profile:
        """The machine profile (a built-in one given by name is looked up on first use)."""
        if self._profile is None:
            from aluvm.machine.interp import get_profile
            self._profile = get_profile(self._profile_name)
        return self._profile

    def submit(self, inputs: Union[Inputs, Any]) -> Any:
        """``engine="ray"``: start a run and return it in flight
        (:class:`~aluvm.tools.batch_ray.RayRun`): ``.result()`` is what :meth:`run` returns,
        ``.counts()`` the (inputs, valid, fallbacks) totals without moving result columns out
        of the object store, ``.refs`` the per-chunk results for Ray tasks downstream."""
        if self.engine != "ray":
            raise InputError("Batch.submit needs Batch(..., engine='ray')")
        from aluvm.tools.batch_ray import submit
        return submit(self, inputs)

    def put(self, inputs: Inputs, chunk: Optional[int] = None) -> Any:
        """``engine="ray"``: store ``inputs`` in Ray's object store once, in chunks of
        ``chunk`` inputs (default: one per node, at most 2**22), and return the handle
        (:class:`~aluvm.tools.batch_ray.RayInputs`) that :meth:`run` and :meth:`submit` take:
        runs on it move no inputs, the workers read their chunks in place."""
        if self.engine != "ray":
            raise InputError("Batch.put needs Batch(..., engine='ray')")
        from aluvm.tools.batch_ray import put
        return put(self, inputs, chunk)

    # -- local engine ---------------------------------------------------------------------
    def program(self) -> Program:
        if self._prog is None:
            from aluvm.machine.interp import Program
            lib = self.lib
            self._prog = Program(lib.code, lib.data, lib.libs, lib.id, self.profile, lib.isae)
        return self._prog

    def kernel(self, cols: Sequence[Column]):
        """The native kernel for these input columns: from the caches alone when they have it
        (no decoding or compiling), else compiled (:func:`aluvm.jit.batch.get_kernel`)."""
        from aluvm.jit.batch import cached_kernel, get_kernel
        ins = tuple((c.key.code, c.key.idx) for c in cols if c.key.fam == "a")
        outs = None if self.outputs is None else tuple(
            (k.code, k.idx) for k in self.outputs if k.fam == "a")
        if self._profile is None:       # a built-in profile: no host extensions
            ext = "-"
        else:
            from aluvm.jit.cache import _extensions_digest
            ext = _extensions_digest(self._profile)
        hit = cached_kernel(self.lib.id, self._profile_name, ext, self.entry, self.cl0, ins, outs)
        if hit is not None:
            return hit
        return get_kernel(self.program(), self.entry, self.cl0, ins, outs)

    def run_local(self, n: int, cols: list[Column], kernel: Any = None,
                  offset: int = 0, take: Optional[Callable[..., list[np.ndarray]]] = None
                  ) -> BatchResult:
        """Run on this machine; ``offset`` is the index of the first input in the whole batch
        (for per-input host contexts); ``take(shapes, dtypes)`` gives the kernel's output
        arrays (default: the batch's reused buffers; a Ray actor passes slices of the
        driver's shared memory)."""
        if self.tier == "interp" or n == 0:
            return self._single_runs(n, cols, offset)
        kernel = kernel if kernel is not None else self.kernel(cols)
        if not kernel.native:       # the entry point is not compiled: every input falls back
            return self._single_runs(n, cols, offset)
        res, exits = self._run_kernel(kernel, n, cols, take)
        todo = np.flatnonzero(res.fallback)
        if len(todo):
            resume = None
            if kernel.resumable and self.outputs is None and self.host is None:
                # (outputs None: the kernel wrote every register native code may write)
                resume = ((exits, res.st0, res.cy0, res.ca0),
                          [res.columns[key_of("a", c, i)] for c, i in kernel.outputs])
            self._finish(res, cols, todo, "jit", offset, resume)
        return res

    def _run_kernel(self, kernel, n: int, cols: list[Column],
                    take: Optional[Callable[..., list[np.ndarray]]] = None
                    ) -> tuple[BatchResult, np.ndarray]:
        """The kernel over all inputs: the result (fallback rows marked, their values the
        state native code left) and the exit positions (where fallback rows go on)."""
        from aluvm.jit.batch import CONTROL_OUTPUTS
        from aluvm.jit.layout import EXIT_FALLBACK
        by_reg = {(c.key.code, c.key.idx): c for c in cols if c.key.fam == "a"}
        keep: list[Any] = []            # arrays whose addresses the kernel gets
        ins = (ctypes.c_void_p * max(1, 2 * len(kernel.inputs)))()
        for k, r in enumerate(kernel.inputs):
            col = by_reg[r]
            vals = np.ascontiguousarray(col.le_matrix())
            dfn = np.ascontiguousarray(col.defined).view(np.uint8)
            keep += [vals, dfn]
            ins[2 * k], ins[2 * k + 1] = vals.ctypes.data, dfn.ctypes.data
        shapes: list[tuple[int, ...]] = [(n,) for _ in CONTROL_OUTPUTS]
        dtypes = [np.dtype(dt) for _, dt in CONTROL_OUTPUTS]
        for c, i in kernel.outputs:
            shapes += [(n, key_of("a", c, i).width), (n,)]
            dtypes += [np.dtype(np.uint8), np.dtype(np.uint8)]
        arrays = (take or self._outputs.take)(shapes, dtypes)
        (exits,) = self._outputs.take([(n,)], [np.dtype(np.uint32)])
        outs = (ctypes.c_void_p * (len(arrays) + 1))(*[a.ctypes.data for a in arrays],
                                                      exits.ctypes.data)
        spans = [(s, min(n, s + self.chunk)) for s in range(0, n, self.chunk)]
        if self.threads > 1 and len(spans) > 1:
            nfb = sum(self._executor().map(lambda sp: kernel.run(ins, outs, sp[0], sp[1]),
                                           spans))
        else:
            nfb = sum(kernel.run(ins, outs, s, e) for s, e in spans)
        ctrl, regs_out = arrays[:len(CONTROL_OUTPUTS)], arrays[len(CONTROL_OUTPUTS):]
        columns = self._passthrough(cols)
        for k, (c, i) in enumerate(kernel.outputs):
            key = key_of("a", c, i)
            columns[key] = Column.from_le_matrix(key, regs_out[2 * k],
                                                 regs_out[2 * k + 1].view(bool))
        fallback = ctrl[0] == EXIT_FALLBACK if nfb else np.zeros(n, bool)
        res = BatchResult(n, ctrl[1].view(bool), ctrl[2], ctrl[3], columns, fallback)
        res.owned = frozenset(key_of("a", c, i) for c, i in kernel.outputs)
        return res, exits

    def _executor(self) -> ThreadPoolExecutor:
        """The batch's thread pool (kept between runs: a run on a million inputs takes
        milliseconds, starting threads each time would show)."""
        with _POOL_LOCK:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="aluvm-batch")
                weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool

    def _passthrough(self, cols: Sequence[Column]) -> dict[RegKey, Column]:
        """Input columns as results (what native code does not write stays as it was).  They
        share the input arrays: :meth:`_finish` copies before it writes."""
        want = None if self.outputs is None else set(self.outputs)
        return {c.key: Column(c.key, c.values, c.defined) for c in cols
                if want is None or c.key in want}

    # -- the single-run path --------------------------------------------------------------
    def _single_runs(self, n: int, cols: list[Column], offset: int) -> BatchResult:
        res = BatchResult(n, np.ones(n, bool), np.zeros(n, np.uint16), np.zeros(n, np.uint64),
                          self._passthrough(cols), np.ones(n, bool))
        self._finish(res, cols, np.arange(n), self.tier, offset)
        return res

    def _host_for(self, i: int) -> Any:
        h = self.host
        if callable(h):
            return h(i)
        if isinstance(h, (list, tuple)):
            return h[i]
        return h

    def _runner(self, tier: str) -> tuple[Callable[..., Any], bool]:
        """(run, with_host) for :func:`aluvm.tools.fallback.run_rows`: the single-run path's
        own machine (:meth:`~aluvm.machine.interp.Machine.run_bare`, the run without its
        input checks and its Outcome), or with a host context :func:`aluvm.run` itself
        (``run(regs, i)``)."""
        lib, entry, prof = self.lib, self.entry, self.profile
        if self.host is not None:
            import aluvm
            return (lambda regs, i: aluvm.run(lib, regs, entry=entry, profile=prof, tier=tier,
                                              host=self._host_for(i))), True
        if tier == "jit":
            # the cached machine itself (what jit_runner runs), without the per-run lookups
            from aluvm.jit.engine import jit_machine
            _, jm, _ = jit_machine(lib, entry, prof)
            return jm.run_bare, False
        if self._machine is None:
            from aluvm.machine.interp import Machine
            m = Machine(prof)
            m.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
            self._machine = m
        return self._machine.run_bare, False

    def _banks(self, cols: Sequence[Column]) -> tuple[int, ...]:
        """The register banks (numbered as in :mod:`aluvm.isa.effects`) the fallback path
        keeps and resets after each row: every bank an instruction of the library may write
        (all of them under a profile other than the two built-in ones, or when the library
        holds a host extension op), and the input columns' banks."""
        from aluvm.isa.effects import ALL_BANKS, program_banks
        from aluvm.machine.interp import REFERENCE, SPEC
        from aluvm.tools.fallback import bank_of
        if self._writable is None:
            found = (program_banks(self.program()) if self.profile in (REFERENCE, SPEC)
                     else None)
            self._writable = ALL_BANKS if found is None else found
        return tuple(sorted(self._writable | {bank_of(c.key) for c in cols}))

    def _finish(self, res: BatchResult, cols: Sequence[Column], rows: np.ndarray, tier: str,
                offset: int, resume: Optional[tuple[Any, Sequence[Column]]] = None) -> None:
        """Run ``rows`` one by one - from the start (exactly :func:`aluvm.run`), or with
        ``resume`` from where the kernel left them (:func:`aluvm.tools.fallback.run_rows`) -
        and store what they leave in ``res`` (:mod:`aluvm.tools.fallback`)."""
        from aluvm.tools import fallback
        run, with_host = self._runner(tier)
        banks = self._banks(cols)
        st0, cy0, ca0, kept, odd = fallback.run_rows(run, with_host, self.lib.id, self.entry,
                                                self.cl0, cols, rows, banks, offset, resume)
        res.st0[rows] = st0
        res.cy0[rows] = cy0
        res.ca0[rows] = np.array(ca0, dtype=np.uint64)
        res.outcomes.update(odd)
        want = None if self.outputs is None else set(self.outputs)
        fallback.store(res, rows, fallback.gather(banks, kept, want))


__all__ = ["Batch", "BatchResult", "to_columns", "CHUNK"]
