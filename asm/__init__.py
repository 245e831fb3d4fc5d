"""AluAsm: the assembler and disassembler for AluVM bytecode (rust-aluvm v0.11.0-beta.6).

* :func:`assemble` / :func:`assemble_file` turn AluAsm source into a :class:`aluvm.library.Lib`;
* :func:`disassemble` turns a library back into source that re-assembles to the same library,
  or (``raw=True``) into the reference's exact display text.

The syntax of every instruction is its display template in :mod:`aluvm.isa`; see
:mod:`asm.assembler` for the program structure and :mod:`asm.grammar` for the grammar.
"""
from __future__ import annotations

from aluvm.errors import AsmError

from aluvm.asm.assembler import Program, assemble, assemble_file, assemble_program
from aluvm.asm.display import instr_text

__all__ = ["AsmError", "Program", "assemble", "assemble_file", "assemble_program", "disassemble",
           "instr_text"]


def disassemble(lib, raw: bool = False, profile="reference") -> str:  # noqa: ANN001
    """Source text of a library (see :mod:`asm.disassembler`)."""
    from aluvm.asm.disassembler import disassemble as _dis
    return _dis(lib, raw=raw, profile=profile)
