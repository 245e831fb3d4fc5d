"""What compiles: the per-profile predicate deciding, instruction by instruction, whether
codegen emits native code for it or leaves it to the interpreter (a fallback exit).
"""
from __future__ import annotations

from typing import Callable, Optional

from aluvm.semantics import numeric
from aluvm.isa.codec import Instr

from aluvm.jit.lift import is_terminator

def _upto_r1024(a: dict) -> bool:
    """An A register, or R up to r1024 (RegAR code < 13).  r2048..r8192 stay in the
    interpreter: LLVM's code for 2048..8192-bit integers costs ~4 ms of compile time per
    instruction (6x that of r1024), more than native code saves on them."""
    return a["reg"] < 13


def _r_upto_r1024(a: dict) -> bool:
    """R code 0..4 = r128..r1024 (see :func:`_upto_r1024`)."""
    return all(a[k] < 5 for k in ("reg", "reg1", "reg2") if k in a)


def _a_or_f32_f64(a: dict) -> bool:
    """RegAF: an A register (0..7), or f32/f64 (8 + 2, 8 + 3)."""
    return a["reg"] < 8 or a["reg"] in (10, 11)


def _f32_f64(a: dict) -> bool:
    """f32 or f64 (RegF code 2/3), and for arithmetic round-to-nearest-even: where the host's
    IEEE arithmetic is the reference's bit for bit (see :mod:`aluvm.jit.emit_float`)."""
    return a["reg"] in (2, 3) and a.get("rnd", 1) == 1


#: semantic key -> predicate on the decoded fields (None: always compiled)
SUPPORTED: dict[str, Optional[Callable[[dict], bool]]] = {
    "clr_a": None, "put_a": None, "putif_a": None,
    "mov_a": None, "dup_a": None, "swp_a": None, "cpy_a": None, "cnv_a": None,
    "gt_a": None, "lt_a": None, "eq_a": None, "ifz_a": None, "ifn_a": None,
    "st": None, "stinv": None,
    "add_a": None, "sub_a": None, "mul_a": None, "div_a": None,
    "neg": _a_or_f32_f64, "abs": _a_or_f32_f64, "rem": None, "stp": None,
    "and": _upto_r1024, "or": _upto_r1024, "xor": _upto_r1024, "not": _upto_r1024,
    "shl": _upto_r1024, "shr_a": None, "scl": _upto_r1024, "scr": _upto_r1024, "rev_a": None,
    "nop_spec": None,
    # R registers (r128..r1024)
    **{k: _r_upto_r1024 for k in ("clr_r", "put_r", "putif_r", "mov_r", "dup_r", "cpy_r", "eq_r",
                                  "ifz_r", "ifn_r", "gt_r", "lt_r", "shr_r", "rev_r")},
    "spy": lambda a: a["reg2"] < 5,         # A <-> r128..r1024
    # F registers (f32, f64)
    **{k: _f32_f64 for k in ("add_f", "sub_f", "mul_f", "div_f", "put_f", "clr_f", "mov_f",
                             "dup_f", "swp_f", "gt_f", "lt_f", "eq_f")},
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
