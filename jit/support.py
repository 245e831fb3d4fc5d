"""What compiles: the per-profile predicate deciding, instruction by instruction, whether
codegen emits native code for it or leaves it to the interpreter (a fallback exit).
"""
from __future__ import annotations

from typing import Callable, Optional

from aluvm.semantics import numeric
from aluvm.isa.codec import Instr

from aluvm.jit.lift import is_terminator

def _a_reg(a: dict) -> bool:
    return a["reg"] < 8          # RegAR/RegAF code 0..7 = an A register


#: semantic key -> predicate on the decoded fields (None: always compiled)
SUPPORTED: dict[str, Optional[Callable[[dict], bool]]] = {
    "clr_a": None, "put_a": None, "putif_a": None,
    "mov_a": None, "dup_a": None, "swp_a": None, "cpy_a": None, "cnv_a": None,
    "gt_a": None, "lt_a": None, "eq_a": None, "ifz_a": None, "ifn_a": None,
    "st": None, "stinv": None,
    "add_a": None, "sub_a": None, "mul_a": None, "div_a": None,
    "neg": _a_reg, "abs": _a_reg, "rem": None, "stp": None,
    "and": _a_reg, "or": _a_reg, "xor": _a_reg, "not": _a_reg,
    "shl": _a_reg, "shr_a": None, "scl": _a_reg, "scr": _a_reg, "rev_a": None,
    "nop_spec": None,
}


def make_supports(profile) -> Callable[[Instr], bool]:
    """The compile predicate for ``profile``: codegen implements the reference's semantics, so
    a data instruction compiles where the profile's op for its key is the reference's, or where
    the profile's override declares (:attr:`~aluvm.machine.interp.Profile.differs`) that it
    differs from it only where the reference panics - native code leaves every reference panic
    to the interpreter, which then runs the profile's own op.  An override without a
    declaration never compiles."""
    same = {k for k in SUPPORTED if profile.ops.get(k) is numeric.OPS.get(k)}
    declared = {k: profile.differs[k] for k in SUPPORTED
                if k not in same and k in getattr(profile, "differs", {})}

    def supports(ins: Instr) -> bool:
        form = ins.form
        key = form.key
        if is_terminator(form.flow):
            return True
        if key in same:
            pred = SUPPORTED[key]
            return pred is None or pred(dict(zip(form.args, ins.args)))
        regions = declared.get(key)
        if regions is None:
            return False
        args = dict(zip(form.args, ins.args))
        if any(r.covers(args) and not r.panics_only for r in regions):
            return False
        pred = SUPPORTED[key]
        return pred is None or pred(args)
    return supports


__all__ = ["SUPPORTED", "make_supports"]
