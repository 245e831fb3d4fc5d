"""The native register file: one flat ``ctypes`` structure shared by compiled code and the engine.

Compiled code only ever addresses this structure, at offsets fixed here (register indexes come
from 3/5-bit instruction fields and are checked against these bounds when code is generated; the
only computed index, the call-stack window, is bounds-checked in the generated code).

* ``a``: the values of all 256 A registers, bank by bank (a8[0..32], a16[0..32], ...,
  a1024[0..32]), each little-endian at its natural width (1..128 bytes).  Every bank starts
  16-byte aligned.
* ``adef``: one byte per A register, 1 = defined.
* control registers ``st0 cy0 ca0 cl0`` (``has_cl0`` = cl0 is set), ``cp0``.
* ``bp``: ``cp0`` when native code was entered.  Native ``routine`` pushes into the window
  ``cs_pos/cs_state[cp0 - bp]`` (state 1 = written with ``cs_pos``, 2 = removed, 0 = untouched);
  ``cs_hi`` is one past the highest slot touched.  The engine replays the window onto
  ``Registers.cs0`` on exit, so the sparse call stack ends up exactly as the interpreter leaves it.
* ``exit_pos``: where the interpreter takes over after a fallback exit.
* ``rt``: the addresses of the runtime's by-value helpers (:data:`aluvm.jit.runtime.BY_VALUE`),
  written when a buffer is made: unoptimised code calls them through these slots (a call to a
  symbol in the JIT's large code model is not fast-selected; a call through a pointer is).
* ``fdef``, ``f``: the F registers, as ``adef``/``a`` (each the stored bit pattern of its format,
  little-endian: the register's ``int`` in the interpreter).
* ``rdef``, ``r``: the R registers, as ``adef``/``a`` (r128..r8192, 32 each, little-endian at
  their natural width; the bytes of the register's ``int`` in the interpreter).  F and R come
  last: a unit marshals only the F and R registers it uses, one by one, never the whole area.

Registers are named by a code: their RegAR code, as in the instruction fields, 0..7 = a8..a1024,
8..15 = r128..r8192, then 16..23 = the F formats (:data:`REG_BITS`, :data:`F_CODE`).
"""
from __future__ import annotations

import ctypes

from aluvm.machine.registers import A_BITS, F_BYTES, R_BITS

#: A-register slots per bank and bank count.
A_COUNT = 32
#: call-stack slots native code may push per activation (deeper pushes run in the interpreter)
CS_WINDOW = 256
#: runtime helper slots (``rt``)
RT_SLOTS = 16

A_BYTES = tuple(max(1, w // 8) for w in A_BITS)
A_OFF: tuple[int, ...] = tuple(sum(A_BYTES[:c]) * A_COUNT for c in range(8))
A_TOTAL = sum(A_BYTES) * A_COUNT
R_BYTES = tuple(w // 8 for w in R_BITS)
R_OFF: tuple[int, ...] = tuple(sum(R_BYTES[:c]) * A_COUNT for c in range(8))
R_TOTAL = sum(R_BYTES) * A_COUNT
F_OFF: tuple[int, ...] = tuple(sum(F_BYTES[:c]) * A_COUNT for c in range(8))
F_TOTAL = sum(F_BYTES) * A_COUNT
#: code of the first F register (f16b) in the codes below
F_CODE = 16
#: width and bytes of every register by code: RegAR (0..7 A, 8..15 R), then 16..23 the F
#: formats in RegF order (f16b f16 f32 f64 f80 f128 f256 f512)
REG_BITS = A_BITS + R_BITS + tuple(8 * n for n in F_BYTES)
REG_BYTES = A_BYTES + R_BYTES + F_BYTES

# exit codes of compiled functions
EXIT_STOP = 0        # execution stopped (fail/test/reserved/jump limit/ret with empty stack)
EXIT_FALLBACK = 1    # run the interpreter from exit_pos
EXIT_END = 2         # control reached exit_pos >= the end of the code (the reference stops)
#: (inside a compiled function only, never returned) stop with ca0 charged by ``exit_pos``
#: more than the memory slot holds: a ``test`` exits with one branch, no store
EXIT_STOP_CHARGE = 3


class RegFile(ctypes.Structure):
    _fields_ = [
        ("a", ctypes.c_uint8 * A_TOTAL),
        ("adef", ctypes.c_uint8 * (8 * A_COUNT)),
        ("st0", ctypes.c_uint8),
        ("has_cl0", ctypes.c_uint8),
        ("cy0", ctypes.c_uint32),
        ("cp0", ctypes.c_uint32),
        ("bp", ctypes.c_uint32),
        ("ca0", ctypes.c_uint64),
        ("cl0", ctypes.c_uint64),
        ("exit_pos", ctypes.c_uint32),
        ("cs_hi", ctypes.c_uint32),
        ("cs_pos", ctypes.c_uint16 * (CS_WINDOW + 1)),
        ("cs_state", ctypes.c_uint8 * (CS_WINDOW + 1)),
        ("rt", ctypes.c_void_p * RT_SLOTS),
        ("fdef", ctypes.c_uint8 * (8 * A_COUNT)),
        ("f", ctypes.c_uint8 * F_TOTAL),
        ("rdef", ctypes.c_uint8 * (8 * A_COUNT)),
        ("r", ctypes.c_uint8 * R_TOTAL),
    ]


SIZE = ctypes.sizeof(RegFile)
DEF_OFF = RegFile.adef.offset
OFF = {name: getattr(RegFile, name).offset for name, *_ in RegFile._fields_}

assert all(o % 16 == 0 for o in A_OFF[1:]), "A banks must stay 16-byte aligned"
assert OFF["a"] == 0 and DEF_OFF == A_TOTAL


def a_offset(code: int, idx: int) -> int:
    """Byte offset of the value of A register ``code``/``idx``; raises on a bad index."""
    if not (0 <= code < 8 and 0 <= idx < A_COUNT):
        raise IndexError(f"A register {code}/{idx} outside the register file")
    return A_OFF[code] + idx * A_BYTES[code]


def def_offset(code: int, idx: int) -> int:
    if not (0 <= code < 8 and 0 <= idx < A_COUNT):
        raise IndexError(f"A register {code}/{idx} outside the register file")
    return DEF_OFF + code * A_COUNT + idx


def reg_offset(code: int, idx: int) -> int:
    """Byte offset of the value of register ``code`` (0..7 A, 8..15 R, 16..23 F) / ``idx``;
    raises on a bad code or index."""
    if 8 <= code < 16 and 0 <= idx < A_COUNT:
        return OFF["r"] + R_OFF[code - 8] + idx * R_BYTES[code - 8]
    if F_CODE <= code < F_CODE + 8 and 0 <= idx < A_COUNT:
        return OFF["f"] + F_OFF[code - F_CODE] + idx * F_BYTES[code - F_CODE]
    return a_offset(code, idx)


def reg_def_offset(code: int, idx: int) -> int:
    """Byte offset of the defined flag of register ``code`` (see :func:`reg_offset`) / ``idx``."""
    if 8 <= code < 16 and 0 <= idx < A_COUNT:
        return OFF["rdef"] + (code - 8) * A_COUNT + idx
    if F_CODE <= code < F_CODE + 8 and 0 <= idx < A_COUNT:
        return OFF["fdef"] + (code - F_CODE) * A_COUNT + idx
    return def_offset(code, idx)
