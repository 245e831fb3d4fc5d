"""Resource limits: every input the package reads has a bound, checked before the expensive work.

Each limit is far above anything a valid input needs (the segment limits of the library format
bound what a valid input can be) and low enough that an input at the limit is answered within a
second or two and a few hundred MiB.  Exceeding one is a one-line error (exit 2 from the CLI).
"""
from __future__ import annotations

#: a library file (binary or armored): a library is at most ~140 KiB (64 ISAE names, 65,535 code
#: and data bytes, 255 library ids), its armored form ~190 KiB
LIBRARY_FILE_MAX = 1 << 20

#: one JSON line of ``exec`` or ``batch``: the largest valid request (16 full s16 registers and
#: every other register defined, plus code and data) is under 3 MiB as hex
REQUEST_LINE_MAX = 4 << 20

#: nesting of a JSON line (a request is 3 levels deep: request -> regs -> value)
JSON_DEPTH_MAX = 16

#: AluAsm source: bytes, lines, instruction statements and labels.  The code segment holds at most
#: 65,535 bytes and every instruction takes at least one, so more statements can never assemble;
#: the whole disassembly of a full library (every instruction, label and data line) is ~135,000
#: lines, and the assembler reads >= 200,000 lines/s of any kind, so a source at the line limit
#: is answered in about a second (``bench/bench_asm.py``).
ASM_SOURCE_MAX = 16 << 20
ASM_LINES_MAX = 1 << 18
ASM_STATEMENTS_MAX = 0xFFFF
ASM_LABELS_MAX = 0x10000
#: one line: commas outside strings (no instruction has more than 4 operands) and, for a line of
#: an unusual shape (read by the full grammar, ~20 us per piece), blank-separated pieces
ASM_LINE_COMMAS_MAX = 64
ASM_LINE_PIECES_MAX = 256
#: items of the .DATA section (each but an empty string is at least one of the segment's 65,535
#: bytes) and names of the .ISAE section (duplicates included; the segment holds 64)
ASM_DATA_ITEMS_MAX = 0x10000
ASM_ISAE_NAMES_MAX = 1024

#: ``--trace``: instructions printed before the trace says it is truncated (a run can execute
#: ~2^32 instructions without a complexity limit)
TRACE_LINES_MAX = 100_000

#: The JIT's compile budget per library; a library over it runs in the interpreter, with
#: identical results.  Compile time and memory are about linear in the generated IR, except that
#: LLVM expands arithmetic on wide (128..1024-bit) registers word by word, which costs ~4 IR lines'
#: worth per 64-bit word touched (a 16 KiB library of a128..a1024 instructions: ~2 s; of
#: a8..a64 instructions: ~0.2 s).  Budgets: compiled instructions (checked first, bounds code
#: generation) and the IR's cost, lines + 4 x wide words (see
#: :attr:`aluvm.jit.skeleton.FunctionSkeleton.cost`): ~0.7 s CPU and ~80 MB at most (measured
#: on random mixed code with loops and a8..r512 registers).
JIT_COMPILE_MAX_INSTRS = 32768
JIT_COMPILE_MAX_COST = 131072
