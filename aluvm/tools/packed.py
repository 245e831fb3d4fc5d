"""Batch results in transit between processes (Ray tasks -> the driver), losslessly compacted.

What a task returns is copied into Ray's object store and, on the driver, into the merged
result: every byte counts twice.  Measured on validate20 (2 local workers, 1M inputs), moving
the plain result columns (~29 bytes per input) cost about as much as running the kernel.  So
each array travels in its smallest exact form:

* a boolean array whose elements are all equal, or an unsigned array of zeros: the value only
  (``cy0`` of a validator, a ``fallback`` mask with no fallback, a ``defined`` column where
  every value is defined);
* a boolean array: its bits (``np.packbits``, 1/8 byte per input);
* an unsigned array: the narrowest unsigned dtype that holds its maximum (``ca0`` of a short
  script fits a byte; so do small register values) - widened again while it is copied into
  the merged result, which costs nothing extra;
* anything else (object columns of wide registers): as it is.

:func:`merge` writes the parts straight into one result (the driver's reused output buffers:
no page faults), in input order.  Decoding is exact: ``unpack(pack(a)) == a`` for every array.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from aluvm.tools.columns import Column, RegKey

_UNSIGNED = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64))


class Packed:
    """One 1-D array in its compact form (see the module docstring)."""

    __slots__ = ("kind", "n", "dtype", "data")

    def __init__(self, kind: str, n: int, dtype: np.dtype, data: Any) -> None:
        self.kind, self.n, self.dtype, self.data = kind, n, dtype, data

    def __reduce__(self) -> tuple:
        return (Packed, (self.kind, self.n, self.dtype, self.data))

    @classmethod
    def of(cls, a: np.ndarray, take: Optional[Callable[..., list[np.ndarray]]] = None
           ) -> "Packed":
        """``take(shapes, dtypes)``: where narrowed copies go (a reused buffer pool: fresh
        memory costs a page fault per 4 KiB, a third of packing a chunk)."""
        n, dt = len(a), a.dtype
        if n == 0 or dt.kind not in "bu":
            return cls("raw", n, dt, a)
        if dt.kind == "b":
            ones = int(np.count_nonzero(a))
            if ones in (0, n):
                return cls("const", n, dt, ones == n)
            return cls("bits", n, dt, np.packbits(a.view(np.uint8)))
        hi = int(a.max())               # (one pass: only an all-zero array counts as constant)
        if hi == 0:
            return cls("const", n, dt, 0)
        for small in _UNSIGNED:
            if small.itemsize >= dt.itemsize:
                break
            if hi <= np.iinfo(small).max:
                out = np.empty(n, small) if take is None else take([(n,)], [small])[0]
                np.copyto(out, a, casting="unsafe")
                return cls("raw", n, dt, out)
        return cls("raw", n, dt, a)

    def into(self, out: np.ndarray) -> None:
        """Write the array into ``out`` (``n`` elements of ``dtype``)."""
        if self.kind == "const":
            out[:] = self.data
        elif self.kind == "bits":
            out.view(np.uint8)[:] = np.unpackbits(self.data, count=self.n)
        else:
            out[:] = self.data

    def unpack(self) -> np.ndarray:
        out = np.empty(self.n, self.dtype)
        self.into(out)
        return out


class PackedResult:
    """A chunk's :class:`~aluvm.tools.batch.BatchResult`, packed.  ``columns`` holds only the
    registers the run changed (the receiver has the inputs it passed through untouched).  An
    array given as ``None`` is already where the receiver wants it (written in place, in
    shared memory: :mod:`aluvm.tools.shm`).  ``outcomes`` (the result's, sparse) always
    travels with it."""

    __slots__ = ("n", "st0", "cy0", "ca0", "fallback", "columns", "outcomes")

    def __init__(self, n: int, st0: Optional[Packed], cy0: Optional[Packed],
                 ca0: Optional[Packed], fallback: Packed,
                 columns: dict[RegKey, tuple[Optional[Packed], Optional[Packed]]],
                 outcomes: Optional[dict[int, tuple[str, str]]] = None) -> None:
        self.n, self.st0, self.cy0, self.ca0, self.fallback = n, st0, cy0, ca0, fallback
        self.columns = columns
        self.outcomes = outcomes or {}

    def __reduce__(self) -> tuple:
        return (PackedResult, (self.n, self.st0, self.cy0, self.ca0, self.fallback,
                               self.columns, self.outcomes))

    def unpack(self) -> Any:
        """This chunk as a :class:`~aluvm.tools.batch.BatchResult` (st0, cy0, ca0, fallback and
        the registers the run changed)."""
        from aluvm.tools.batch import BatchResult, OutputPool
        if not self.complete:
            raise ValueError("this chunk's results were written into the driver's memory")
        return merge([self], lambda k: [], dict, OutputPool().take, BatchResult)

    @property
    def complete(self) -> bool:
        """Nothing of it was written in place."""
        return all(p is not None for p in (self.st0, self.cy0, self.ca0)) and all(
            v is not None and d is not None for v, d in self.columns.values())


def pack(res: Any, inputs: Sequence[Column],
         take: Optional[Callable[..., list[np.ndarray]]] = None,
         inplace: frozenset = frozenset()) -> PackedResult:
    """Pack a chunk's result; columns that are its inputs, untouched, stay behind, and so do
    the arrays named in ``inplace`` (``"st0"``, ``"cy0"``, ``"ca0"``, ``(key, "values")``,
    ``(key, "defined")``: already in the receiver's memory)."""
    same = {c.key for c in inputs if (r := res.columns.get(c.key)) is not None
            and r.values is c.values and r.defined is c.defined}

    def one(label: Any, a: np.ndarray) -> Optional[Packed]:
        return None if label in inplace else Packed.of(a, take)
    cols = {k: (one((k, "values"), c.values), one((k, "defined"), c.defined))
            for k, c in res.columns.items() if k not in same}
    return PackedResult(res.n, one("st0", res.st0), one("cy0", res.cy0), one("ca0", res.ca0),
                        Packed.of(res.fallback, take), cols, dict(res.outcomes))


def merge(parts: Sequence[PackedResult], inputs: Callable[[int], Sequence[Column]],
          passthrough: Callable[[], dict[RegKey, Column]],
          take: Callable[..., list[np.ndarray]], result_type: Any,
          each: Callable[..., Any] = map, preset: Optional[dict[Any, np.ndarray]] = None
          ) -> Any:
    """The parts, in order, as one result.

    ``inputs(k)``: part ``k``'s input columns (for a register that part passed through while
    another part changed it).  ``passthrough()``: the whole input columns the result keeps
    (what the local engine returns for registers no part changed).  ``take(shapes, dtypes)``:
    output arrays (a reused buffer pool).  ``result_type``:
    :class:`~aluvm.tools.batch.BatchResult`.  ``each(fn, indices)``: how the parts are
    written (``map``, or a thread pool's).  ``preset``: whole result arrays that parts may
    have written in place already (labels as in :func:`pack`)."""
    preset = preset or {}
    n = sum(p.n for p in parts)
    changed = sorted({k for p in parts for k in p.columns}, key=lambda k: k.order)
    need: list[tuple[Any, np.dtype]] = [(lb, dt) for lb, dt in (
        ("st0", np.dtype(bool)), ("cy0", np.dtype(np.uint16)), ("ca0", np.dtype(np.uint64)),
        ("fallback", np.dtype(bool))) if lb not in preset]
    for k in changed:
        if k.narrow and (k, "values") not in preset:
            need.append(((k, "values"), k.dtype))
        if (k, "defined") not in preset:
            need.append(((k, "defined"), np.dtype(bool)))
    arrays = dict(preset)
    arrays.update(zip([lb for lb, _ in need], take([(n,)] * len(need), [dt for _, dt in need])))
    for k in changed:
        if not k.narrow and (k, "values") not in arrays:
            arrays[(k, "values")] = np.empty(n, object)
    cols = {k: Column(k, arrays[(k, "values")], arrays[(k, "defined")]) for k in changed}
    starts = np.cumsum([0] + [p.n for p in parts]).tolist()

    def fill(idx: int) -> None:
        p, at, end = parts[idx], starts[idx], starts[idx + 1]
        for label, got in (("st0", p.st0), ("cy0", p.cy0), ("ca0", p.ca0),
                           ("fallback", p.fallback)):
            if got is not None:
                got.into(arrays[label][at:end])
        mine: Optional[dict[RegKey, Column]] = None
        for k, col in cols.items():
            got2 = p.columns.get(k)
            if got2 is not None:
                if got2[0] is not None:
                    got2[0].into(col.values[at:end])
                if got2[1] is not None:
                    got2[1].into(col.defined[at:end])
                continue
            if mine is None:
                mine = {c.key: c for c in inputs(idx)}
            src = mine.get(k)
            if src is None:             # (undefined in this part's inputs)
                col.values[at:end] = 0 if k.narrow else None
                col.defined[at:end] = False
            else:
                col.values[at:end] = src.values
                col.defined[at:end] = src.defined
    # (parts fill disjoint slices; numpy's copies release the GIL)
    list(each(fill, range(len(parts))))
    for k, c in passthrough().items():
        if k not in cols:
            cols[k] = c
    from aluvm.tools.batch import shift_outcomes
    return result_type(n, arrays["st0"], arrays["cy0"], arrays["ca0"],
                       dict(sorted(cols.items(), key=lambda kc: kc[0].order)),
                       arrays["fallback"],
                       shift_outcomes([p.outcomes for p in parts], [p.n for p in parts]))


__all__ = ["Packed", "PackedResult", "pack", "merge"]
