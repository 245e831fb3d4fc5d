"""The runtime's by-value helpers (:data:`aluvm.jit.runtime.BY_VALUE`): bulky rules that cold
code calls instead of inlining them.

Each helper's body is what the code generator itself emits inline for that rule in optimised
code (the same method, run with ``cold`` off), so the two can never disagree.  They are compiled
once per process with the runtime (:meth:`aluvm.jit.loader.Loader.load_runtime`) and reached
through the register file's ``rt`` slots.
"""
from __future__ import annotations

from aluvm.jit import runtime
from aluvm.jit.codegen import LibraryFunction


def _body(name: str, w: int) -> str:
    g = LibraryFunction(None, None, runtime.value_symbol(name, w))    # (not cold: inline)
    ops, ret = runtime.value_types(name, w)
    params = [f"%p{k}" for k in range(len(ops))]
    g.out = []
    g.begin("entry")
    if name == "store_signed":
        r = g.store_signed(params[0], w)
    elif name == "signed_gt":
        r = g.signed_gt(params[0], params[1], w)
    elif name == "shr_signed":
        r = g.shr_signed(params[0], params[1], w)
    else:  # pragma: no cover - BY_VALUE lists only the rules above
        raise AssertionError(name)
    g.emit(f"ret {ret} {r}")
    sig = ", ".join(f"{t} {p}" for t, p in zip(ops, params))
    return (f"define {ret} @{runtime.value_symbol(name, w)}({sig}) nounwind {{\n"
            + "\n".join(g.out) + "\n}\n" + "\n".join(sorted(g.decls)) + "\n")


def helpers_ir() -> str:
    """The IR of every by-value helper."""
    return "\n".join(_body(name, w) for name, w in runtime.VALUE_SLOTS)


__all__ = ["helpers_ir"]
