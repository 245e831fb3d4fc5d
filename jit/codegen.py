"""Codegen: a lifted CFG -> LLVM IR (text), one function per library.

The function is assembled from parts, one module each: the IR builder
(:mod:`~aluvm.jit.irbuilder`), the function skeleton - state, prologue, dispatch, blocks, exits,
documented there in pseudo-code - (:mod:`~aluvm.jit.skeleton`), the block terminators
(:mod:`~aluvm.jit.terminators`) and the instruction emitters by family (``emit_*``).  What
compiles is decided per instruction from the instruction table's semantic key and decoded
fields (:mod:`~aluvm.jit.support`); everything else exits to the interpreter.
"""
from __future__ import annotations

from typing import Any

from aluvm.jit.emit_arith import ArithEmitters
from aluvm.jit.emit_bitwise import BitwiseEmitters
from aluvm.jit.emit_compare import CompareEmitters
from aluvm.jit.emit_float import FloatEmitters
from aluvm.jit.emit_move import MoveEmitters
from aluvm.jit.lift import CFG, CTRL_KEYS
from aluvm.jit.support import SUPPORTED, make_supports
from aluvm.jit.terminators import Terminators


class LibraryFunction(Terminators, MoveEmitters, CompareEmitters, ArithEmitters, BitwiseEmitters,
                      FloatEmitters):
    """Builds the IR text of one library's function: the skeleton, with an emitter
    ``op_<key>`` for every compiled data instruction and ``term_<key>`` for every terminator."""


def _check_emitters() -> None:
    """Every compiled key has its emitter: ``op_<key>`` for the straight-line keys of
    :data:`SUPPORTED`, ``term_<key>`` for the table's block terminators."""
    missing = sorted([f"op_{k}" for k in SUPPORTED if not hasattr(LibraryFunction, f"op_{k}")]
                     + [f"term_{k}" for k in CTRL_KEYS
                        if not hasattr(LibraryFunction, f"term_{k}")])
    if missing:
        raise AssertionError(f"codegen: compiled keys without an emitter: {missing}")


_check_emitters()


def generate(cfg: CFG, prog: Any, name: str, cold: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """IR text of the function ``name`` and the A registers it keeps natively (``cold``: for
    unoptimised compilation, see :class:`~aluvm.jit.skeleton.FunctionSkeleton`)."""
    g = LibraryFunction(cfg, prog, name, cold)
    ir = g.generate()
    return ir, sorted(g.regs)


__all__ = ["generate", "make_supports", "SUPPORTED", "LibraryFunction"]
