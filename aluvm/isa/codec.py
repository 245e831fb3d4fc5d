"""Bytecode decoding and encoding, driven entirely by :mod:`aluvm.isa`.

The code segment is an LSB-first bit stream; since every field layout adds up to whole bytes, an
instruction's argument bytes read as one little-endian word ``W`` from which the table's fields
are sliced.  Decoding follows the reference exactly, including its quirks:

* a truncated instruction is a decode error (execution stops, st0 unchanged; spec §2.7), except
  ``put`` into A/F/R, whose missing offset or data decodes as an *undefined* value (S10);
* ``put`` into S takes ``data[min(off, 65535) : min(off+len, 65535)]`` and the reference panics
  when that slice overruns the data segment (S7): we record that as a panic to raise at run time;
* 0xFF (``nop``) is not consumed by the reference (S2): its size is 0;
* ``call``/``exec`` library indexes beyond the libs segment resolve to the all-zero id (S12).
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from aluvm.isa import table as isa
from aluvm.errors import DecodeError
from aluvm.isa.table import CALL, NOP, PUT, PUT_S, RESERVED, Form
from aluvm.library.ids import ZERO_LIB_ID
from aluvm.machine.registers import F_BYTES, A_BITS, R_BITS

DATA_MAX = 0xFFFF

Table = Sequence[Sequence[Form]]


class Instr(NamedTuple):
    """A decoded instruction.

    ``value`` depends on the form: put A/F/R -> the little-endian int read from the data segment
    or ``None``; put S -> ``(bytes, incomplete)`` or ``None`` when the reference would panic;
    call/exec -> the 32-byte target library id; otherwise ``None``.
    """

    form: Form
    args: tuple[int, ...]
    size: int
    value: object = None

    @property
    def opcode(self) -> int:
        return self.form.opcode

    @property
    def cx(self) -> int:
        return self.form.cx


def put_width(form: Form, reg: int) -> int:
    """Bytes a put reads from the data segment: the register width (10 for f80)."""
    if form.key == "put_f":
        return F_BYTES[reg]
    if form.key in ("put_a", "putif_a"):
        return A_BITS[reg] // 8
    return R_BITS[reg] // 8


def decode(code: bytes, pos: int, data: bytes = b"", libs: Sequence[bytes] = (),
           table: Table = isa.REFERENCE_TABLE) -> Optional[Instr]:
    """Decode the instruction at ``pos``; ``None`` on a decode error (truncation)."""
    n = len(code)
    if pos >= n:
        return None
    op = code[pos]
    forms = table[op]
    form = forms[0]
    special = form.special
    if special == NOP:
        return Instr(form, (), form.size)
    if special == RESERVED:
        return Instr(form, (), 1)
    if special == PUT:
        return _decode_put(form, code, pos, data)
    nbytes = form.arg_bits // 8
    if pos + 1 + nbytes > n:
        return None
    word = int.from_bytes(code[pos + 1:pos + 1 + nbytes], "little")
    if len(forms) > 1:
        for form in forms:
            if form.matches(word):
                break
        else:  # pragma: no cover - the table covers every discriminator value
            raise AssertionError(f"opcode {op:#04x}: no form matches {word:#x}")
    args = form.extract(word)
    size = 1 + nbytes
    if special == PUT_S:
        return Instr(form, args, size, _put_s_value(data, args[1], args[2]))
    if special == CALL:
        lib = args[1]
        return Instr(form, args, size, libs[lib] if lib < len(libs) else ZERO_LIB_ID)
    return Instr(form, args, size)


def _decode_put(form: Form, code: bytes, pos: int, data: bytes) -> Optional[Instr]:
    n = len(code)
    if pos + 1 >= n:
        return None
    b = code[pos + 1]
    reg, idx = b & 7, b >> 3
    avail = n - pos - 2
    if avail < 2:  # the offset itself is cut off: consumed what was left, value undefined
        return Instr(form, (reg, idx, -1), 2 + max(avail, 0), None)
    off = code[pos + 2] | code[pos + 3] << 8
    width = put_width(form, reg)
    value = None
    if off + width <= len(data):
        value = int.from_bytes(data[off:off + width], "little")
    return Instr(form, (reg, idx, off), 4, value)


def _put_s_value(data: bytes, off: int, ln: int) -> Optional[tuple[bytes, bool]]:
    end = off + ln
    lo, hi = min(off, DATA_MAX), min(end, DATA_MAX)
    if hi > len(data):
        return None  # reference panics on the slice (S7)
    return data[lo:hi], end > len(data)


def decode_all(code: bytes, data: bytes = b"", libs: Sequence[bytes] = (),
               table: Table = isa.REFERENCE_TABLE) -> tuple[list[tuple[int, Instr]], Optional[str]]:
    """Linear disassembly: ``([(offset, instr)...], error)``.

    Stops at the first decode error (reported as a string) and after a non-advancing ``nop``.
    """
    out: list[tuple[int, Instr]] = []
    pos = 0
    while pos < len(code):
        ins = decode(code, pos, data, libs, table)
        if ins is None:
            return out, f"unexpected end of code at offset {pos:#06x}"
        out.append((pos, ins))
        if ins.size == 0:
            break
        pos += ins.size
    return out, None


# ---------------------------------------------------------------------------------------------
# Encoding


def encode(form: Form, args: Sequence[int]) -> bytes:
    """Canonical bytes of one instruction (put offsets/lib indexes are in ``args``)."""
    if form.special == RESERVED:
        return bytes([form.opcode])
    if form.special == NOP:
        return bytes([form.opcode])
    word = form.pack(tuple(args))
    return bytes([form.opcode]) + word.to_bytes(form.arg_bits // 8, "little")


def encode_instr(ins: Instr, reference: bool = False) -> bytes:
    """Re-encode a decoded instruction.

    With ``reference=True`` reproduce the reference encoder's own bytes: ``nop`` is written as
    0x01 (S2) and the ``ins``/``del`` opcodes are swapped (S1).
    """
    form = ins.form
    if reference:
        if form.key in ("nop", "nop_spec"):
            return b"\x01"
        if form.key in ("ins", "del_"):
            raw = encode(form, ins.args)
            return bytes([0x3E if form.key == "ins" else 0x3D]) + raw[1:]
    if form.special == PUT and ins.args[2] < 0:
        raise DecodeError("put with a truncated data offset cannot be re-encoded")
    return encode(form, ins.args)
