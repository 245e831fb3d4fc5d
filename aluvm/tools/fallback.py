"""The batch fallback path: inputs run one by one through the single-run path, results kept as
columns (:meth:`aluvm.tools.batch.Batch._finish`).

It finishes every input whose run left the native kernel (and every input of the interpreter
tier), so on scripts the JIT does not compile it *is* the batch engine.  A run is
:func:`aluvm.run`'s: the same cached machine, the same register file contract - what is
specific here is the work around each run, which is kept to a few attribute stores and list
compares:

* one :class:`Registers` serves every row.  Only the banks the library can write
  (:func:`aluvm.isa.effects.program_banks`, read off the instruction table) and the banks of
  the input columns can differ from a fresh register file after a run; each of them that is
  not empty is *kept whole* for its row and replaced by an empty list, which with the scalars
  reset makes a fresh ``Registers()`` for the next row;
* the per-row loop is Python source generated for the banks and inputs at hand (like the
  JIT's marshallers), so no loop over banks or columns runs per row;
* kept banks become result columns at the end: per register a strided slice of its bank's
  contents and a C-level count of ``None``, a mask only for registers defined in some rows
  and not others.
"""
from __future__ import annotations

from functools import lru_cache
from operator import is_not
from itertools import repeat
from typing import Any, Callable, Optional, Sequence

import numpy as np

from aluvm.machine.registers import Registers
from aluvm.tools.columns import KEYS, Column, RegKey

#: families of the bank numbers of :mod:`aluvm.isa.effects` (bank >> 3): A, F, R, S
_FAMS = ("a", "f", "r", "s")


def bank_of(key: RegKey) -> int:
    """A register's bank number (:mod:`aluvm.isa.effects`: A 0.., F 8.., R 16.., S 24)."""
    return 24 if key.fam == "s" else 8 * _FAMS.index(key.fam) + key.code


def _input_list(col: Column, rows: np.ndarray) -> list[Any]:
    """The column's values of ``rows`` as a Python list, ``None`` where undefined (assigned
    to its register unconditionally: the bank is empty before each row)."""
    vals = col.values[rows]
    dfn = col.defined[rows]
    if dfn.all():
        return vals.tolist()
    obj = vals.astype(object)
    obj[~dfn] = None
    return obj.tolist()


@lru_cache(maxsize=256)
def _row_loop(inputs: tuple[tuple[str, int, int], ...], banks: tuple[int, ...],
              with_host: bool, resume: bool = False) -> Callable[..., None]:
    """The per-row loop for these input registers ``(fam, code, idx)`` and kept banks.

    ``loop(rows, offset, run, lid, entry, regs, cl0, ins, st0, cy0, ca0, kept, starts, odd)``:
    ``starts`` (with ``resume``) = per row the position to run from and st0, cy0, ca0 to start
    with (else the entry point and a fresh register file's); ``run`` is
    ``machine.run_bare`` (called ``run(lid, entry, regs)``) or, ``with_host``, a
    ``run(regs, i)`` that passes input ``i``'s host context; ``kept[k]`` = (rows, contents)
    of ``banks[k]``: the rows that left it non-empty and, one after the other, its slots
    after each of them (one C-level extend per row); ``odd`` gets ``(row, outcome)`` for each
    row whose run did not end normally (a reference panic or hang, a host extension's error,
    an internal error: ``run`` returned an :class:`~aluvm.machine.interp.Outcome` whose kind is
    not ``finished``)."""
    s_count = len(Registers().s)
    L = ["def loop(rows, offset, run, lid, entry, regs, cl0, ins, st0, cy0, ca0, kept, starts,",
         "         odd):",
         "    E = [None] * 32",
         f"    ES = [None] * {s_count}",
         "    st0a, cy0a, ca0a = st0.append, cy0.append, ca0.append"]
    for k in range(len(inputs)):
        L.append(f"    in{k} = ins[{k}]")
    if resume:
        L.append("    at, s0, c0, a0 = starts")
    for k in range(len(banks)):
        L.append(f"    w{k}, b{k} = kept[{k}]")
        L.append(f"    w{k}a, b{k}a = w{k}.append, b{k}.extend")
    L.append("    for j, row in enumerate(rows):")
    for k, (fam, code, idx) in enumerate(inputs):
        target = f"regs.s[{idx}]" if fam == "s" else f"regs.{fam}[{code}][{idx}]"
        L.append(f"        {target} = in{k}[j]")
    L.append("        regs.cl0 = cl0")
    if resume:
        L.append("        regs.st0 = s0[j]; regs.cy0 = c0[j]; regs.ca0 = a0[j]")
    L.append("        o = run(regs, offset + row)" if with_host
             else "        o = run(lid, at[j], regs)" if resume else "        o = run(lid, entry, regs)")
    # (run_bare returns a str on a normal ending, aluvm.run an Outcome of kind "finished")
    L.append("        if o.__class__ is not str and o.kind != 'finished': odd.append((row, o))")
    L.append("        st0a(regs.st0); cy0a(regs.cy0); ca0a(regs.ca0)")
    for k, bank in enumerate(banks):
        if bank == 24:
            L += ["        b = regs.s",
                  "        if b != ES:",
                  f"            w{k}a(row); b{k}a(b); regs.s = [None] * {s_count}"]
        else:
            fam, code = _FAMS[bank >> 3], bank & 7
            L += [f"        f = regs.{fam}",
                  f"        b = f[{code}]",
                  "        if b != E:",
                  f"            w{k}a(row); b{k}a(b); f[{code}] = [None] * 32"]
    L += ["        regs.st0 = True; regs.cy0 = 0; regs.ca0 = 0; regs.cp0 = 0",
          "        if regs.cs0:",
          "            regs.cs0 = {}"]
    if with_host:
        L.append("        regs.host = None")
    ns: dict[str, Any] = {}
    exec("\n".join(L) + "\n", ns)
    return ns["loop"]


def run_rows(run: Callable[..., Any], with_host: bool, lid: bytes, entry: int,
             cl0: Optional[int], cols: Sequence[Column], rows: np.ndarray, banks: Sequence[int],
             offset: int = 0, resume: Optional[tuple[Any, Sequence[Column]]] = None
             ) -> tuple[list[bool], list[int], list[int], list[tuple[list, list]],
                        dict[int, tuple[str, str]]]:
    """Run ``rows`` one by one (see :func:`_row_loop` for ``run``); returns st0, cy0, ca0
    per row, per bank of ``banks`` the rows that left it non-empty and its contents (the
    bank's slots after each of those rows, concatenated), and the rows whose run did not end
    normally: row -> (:attr:`Outcome.kind <aluvm.machine.interp.Outcome.kind>`, reason).

    ``resume`` = ((exit positions, st0, cy0, ca0), columns), all over the whole batch: each
    row goes on from where native code left it - the columns' values (the registers native
    code wrote, as it left them) are set over the inputs, the scalars are the exit's, and the
    run starts at the exit position (native code left exactly this state there, so the rest
    of the run is the single run's)."""
    over: Sequence[Column] = () if resume is None else resume[1]
    inputs = tuple((c.key.fam, c.key.code, c.key.idx) for c in (*cols, *over))
    loop = _row_loop(inputs, tuple(banks), with_host, resume is not None)
    ins = [_input_list(c, rows) for c in (*cols, *over)]
    starts = None if resume is None else [np.asarray(a)[rows].tolist() for a in resume[0]]
    st0: list[bool] = []
    cy0: list[int] = []
    ca0: list[int] = []
    kept: list[tuple[list, list]] = [([], []) for _ in banks]
    odd: list[tuple[int, Any]] = []
    loop(rows.tolist(), offset, run, lid, entry, Registers(), cl0, ins, st0, cy0, ca0, kept,
         starts, odd)
    return st0, cy0, ca0, kept, {row: (o.kind, o.reason) for row, o in odd}


def gather(banks: Sequence[int], kept: Sequence[tuple[list, list]],
           want: Optional[set[RegKey]]) -> dict[RegKey, tuple[np.ndarray, list[Any]]]:
    """Kept banks -> per register defined in at least one row: (those rows, their values).
    A register's values are a strided slice of its bank's contents: a C-level count of
    ``None`` says whether it is defined everywhere, nowhere, or needs a mask."""
    found: dict[RegKey, tuple[np.ndarray, list[Any]]] = {}
    for bank, (where, flat) in zip(banks, kept):
        if not flat:
            continue
        keys = KEYS["s"][0] if bank == 24 else KEYS[_FAMS[bank >> 3]][bank & 7]
        width = len(flat) // len(where)
        at = np.array(where, dtype=np.intp)
        for idx in range(width):
            key = keys[idx]
            if want is not None and key not in want:
                continue
            column = flat[idx::width]
            undefined = column.count(None)
            if undefined == len(column):
                continue
            if undefined == 0:
                found[key] = (at, column)
                continue
            live = np.fromiter(map(is_not, column, repeat(None)), bool, len(column))
            found[key] = (at[live], [v for v in column if v is not None])
    return found


def store(res: Any, rows: np.ndarray, found: dict[RegKey, tuple[np.ndarray, list[Any]]]
          ) -> None:
    """Write the gathered registers of ``rows`` into the result's columns (every column of the
    result is undefined in ``rows`` except where ``found`` says otherwise).  Columns the result
    does not own (:attr:`BatchResult.owned`) are copied first: they may be the caller's input
    arrays."""
    owned: frozenset[RegKey] = getattr(res, "owned", frozenset())
    for key in list(res.columns) + [k for k in found if k not in res.columns]:
        col = res.columns.get(key)
        if col is None:
            col = res.columns[key] = Column.undefined(key, res.n)
        elif key not in owned:
            col = res.columns[key] = Column(key, col.values.copy(), col.defined.copy())
        col.defined[rows] = False
        got = found.get(key)
        if got is not None:
            where, vals = got
            col.defined[where] = True
            if key.narrow:
                col.values[where] = np.array(vals, dtype=np.uint64).astype(key.dtype)
            else:
                tmp = np.empty(len(vals), object)
                tmp[:] = vals
                col.values[where] = tmp


__all__ = ["bank_of", "run_rows", "gather", "store"]
