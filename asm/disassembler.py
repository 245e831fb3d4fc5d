"""The AluAsm disassembler: a library -> source text.

Two modes:

* ``raw=True``: the reference's exact display text, one instruction per line, listed the way the
  reference's ``Lib::disassemble`` does (a 0xFF ``nop`` that the reference decoder never advances
  past ends the listing; a truncated instruction ends it with an error).  The reason listing
  stopped early is added as a final ``;`` comment.
* default: a program (``.ISAE``, ``.LIBS``, ``.DATA``, ``.MAIN``) that :func:`asm.assemble` turns
  back into the identical library (same code, data, libs and ISAE, hence the same id).  The text
  is the reference's display text except where that would not assemble back to the same bytes:

  - jump targets that are instruction starts become labels ``L0004:``;
  - put values are written exactly (a float whose reference text does not read back to the same
    bits, e.g. f80, f256, NaN payloads, is written as its hex bit pattern; a byte string whose
    reference text is ambiguous is written as ``0x`` hex);
  - when the data segment is not what re-assembly would rebuild (unreferenced bytes, values not at
    their first occurrence, values outside the data) a ``.DATA`` section carries it verbatim and
    the puts that need it name their location (``data[0x0010]``, ``data[0x0010..0x0015]``);
  - ``ins`` is written ``ins.<flag> s16[src],s16[dst],a16[off]`` (the reference's text drops the
    destination, S19);
  - anything no instruction text reproduces byte for byte (non-canonical encodings such as
    IntFlags bit 1, S4; high nibbles of s16 fields, S14; a ``call`` to a library index outside the
    libs segment; a truncated instruction at the end) is written as ``.BYTES <hex>`` with the
    reference's text in a comment.

  0xFF ``nop`` is listed as one byte and disassembly continues after it.
"""
from __future__ import annotations

from typing import Any, Optional

from aluvm.isa import table as isa
from aluvm.isa.reassemble import AssembleError, DataWriter
from aluvm.isa.codec import Instr, decode, encode, put_width
from aluvm.machine.interp import get_profile

from aluvm.asm import numfmt
from aluvm.asm.display import bytes_exact_text, float_exact_text, instr_text, lib_text, step_text
from aluvm.asm.syntax import asm_form

INDENT = " " * 8
TEXT_WIDTH = 39


def _profile(profile: Any) -> Any:
    if isinstance(profile, str):
        return get_profile(profile)
    return profile


def listing(lib: Any, profile: Any = "reference", advance_nop: bool = True
            ) -> tuple[list[tuple[int, Instr]], Optional[int], Optional[str]]:
    """Decode a library: ``(items, tail_offset, error)``; ``tail_offset`` is where undecodable
    bytes start (a truncated instruction), ``None`` when everything decoded.

    ``advance_nop=False`` lists like the reference: it stops at a non-advancing ``nop`` and at a
    ``put s16`` whose data slice makes the reference panic (S7)."""
    prof = _profile(profile)
    table = prof.table_for(getattr(lib, "isae", ()))
    code, data, libs = lib.code, lib.data, lib.libs
    out: list[tuple[int, Instr]] = []
    pos = 0
    while pos < len(code):
        ins = decode(code, pos, data, libs, table)
        if ins is None:
            return out, pos, ("attempt to read or write outside of code segment (i.e. at position "
                              f"> 2^16) at offset {pos}")
        if not advance_nop and ins.form.special == isa.PUT_S and ins.value is None:
            _s, off, ln = ins.args
            return out, pos, f"PANIC: {put_s_panic(len(data), off, ln)} at offset {pos}"
        out.append((pos, ins))
        if ins.size == 0:
            if not advance_nop:
                return out, None, (f"decoder did not advance at offset {pos} (reference decodes this "
                                   "without consuming it; execution would loop here)")
            pos += 1
            continue
        pos += ins.size
    return out, None, None


def put_s_panic(data_len: int, off: int, ln: int) -> str:
    """The reference's panic message when `put s16` reads past the data segment (S7)."""
    start, end = min(off, 0xFFFF), min(off + ln, 0xFFFF)
    which, index = ("start", start) if start > data_len else ("end", end)
    return (f"range {which} index {index} out of range for slice of length {data_len} "
            "(aluvm/src/library/cursor.rs:342)")


def disassemble(lib: Any, raw: bool = False, profile: Any = "reference") -> str:
    if raw:
        items, _tail, err = listing(lib, profile, advance_nop=False)
        lines = [instr_text(ins) for _pos, ins in items]
        if err:
            lines.append(f"; {err}")
        return "".join(line + "\n" for line in lines)
    return _Disassembler(lib, profile).run()


class _Disassembler:
    def __init__(self, lib: Any, profile: Any) -> None:
        self.lib = lib
        self.items, self.tail, self.err = listing(lib, profile)
        self.starts = {pos for pos, _ in self.items}
        if self.tail is not None:
            self.starts.add(self.tail)
        self.starts.add(len(lib.code))
        self.aliases = {lib_id: f"lib{i}" for i, lib_id in enumerate(lib.libs)}

    # -- planning ----------------------------------------------------------------------------
    def _targets(self) -> dict[int, str]:
        targets: dict[int, str] = {}
        for _pos, ins in self.items:
            t = ins.form.target(ins.args)
            if t is not None and t in self.starts:
                targets[t] = f"L{t:04X}"
        return targets

    def _put_blob(self, ins: Instr) -> Optional[bytes]:
        """The bytes re-assembly would write for this put's value (None: not writable)."""
        if ins.form.special == isa.PUT:
            if ins.value is None or ins.args[2] < 0:
                return None
            return int(ins.value).to_bytes(put_width(ins.form, ins.args[0]), "little")  # type: ignore[call-overload]
        if ins.value is None or ins.value[1]:  # type: ignore[index]
            return None
        return ins.value[0]  # type: ignore[index]

    def _data_plan(self) -> tuple[bool, set[int]]:
        """(need .DATA, positions of puts written as data references)."""
        puts = [(pos, ins) for pos, ins in self.items if ins.form.special in (isa.PUT, isa.PUT_S)
                and self._canonical(pos, ins)]
        w = DataWriter()
        ok = True
        try:
            for _pos, ins in puts:
                blob = self._put_blob(ins)
                if blob is None or w.unique(blob) != self._put_offset(ins):
                    ok = False
                    break
        except AssembleError:
            ok = False
        if ok and bytes(w.data) == self.lib.data:
            return False, set()
        refs = set()
        for pos, ins in puts:
            blob = self._put_blob(ins)
            found = len(self.lib.data) if blob == b"" else self.lib.data.find(blob) if blob is not None else -1
            if blob is None or found != self._put_offset(ins):
                refs.add(pos)
        return True, refs

    @staticmethod
    def _put_offset(ins: Instr) -> int:
        return ins.args[2] if ins.form.special == isa.PUT else ins.args[1]

    def _canonical(self, pos: int, ins: Instr) -> bool:
        """Whether the instruction's text can reproduce its bytes."""
        form = ins.form
        if form.special == isa.RESERVED:
            return True
        if form.special == isa.PUT and ins.args[2] < 0:
            return False
        if form.special == isa.CALL and ins.args[1] >= len(self.lib.libs):
            return False
        original = self.lib.code[pos:pos + max(ins.size, 1)]
        return encode(form, ins.args) == original

    # -- text --------------------------------------------------------------------------------
    def _text(self, pos: int, ins: Instr, targets: dict[int, str], refs: set[int]) -> str:
        form = ins.form
        extra: dict[str, str] = {}
        if form.special == isa.PUT:
            reg, _idx, off = ins.args
            if pos in refs:
                extra["val"] = f"data[0x{off:04X}]"
            elif form.key == "put_f":
                extra["val"] = float_exact_text(reg, ins.value)  # type: ignore[arg-type]
            else:
                nbytes = put_width(form, reg)
                extra["val"] = numfmt.int_display(ins.value, nbytes)  # type: ignore[arg-type]
        elif form.special == isa.PUT_S:
            _s, off, ln = ins.args
            if pos in refs:
                extra["bytes"] = f"data[0x{off:04X}..0x{off + ln:04X}]"
            else:
                extra["bytes"] = bytes_exact_text(ins.value[0])  # type: ignore[index]
        elif form.special == isa.CALL:
            extra["site"] = f"{ins.args[0]} @ {self.aliases[ins.value]}"  # type: ignore[index]
        elif form.key == "stp":
            return step_text(ins, exact=True)
        elif (target := form.target(ins.args)) is not None and target in targets:
            extra["h16"] = targets[target]
        return isa.render(asm_form(form), ins.args, extra)

    def run(self) -> str:
        lib = self.lib
        targets = self._targets()
        need_data, refs = self._data_plan()
        out = [f"; AluVM library {lib_text(lib.id)}",
               f"; code {len(lib.code)} bytes, data {len(lib.data)} bytes, {len(lib.libs)} libraries",
               ".ISAE", INDENT + lib.isae_string()]
        if lib.libs:
            out.append(".LIBS")
            for lib_id, alias in self.aliases.items():
                out.append(f"{INDENT}{alias:<8}{lib_text(lib_id)}")
        if need_data:
            out.append(".DATA")
            for i in range(0, len(lib.data), 32):
                out.append(INDENT + lib.data[i:i + 32].hex())
        out.append(".MAIN")
        for pos, ins in self.items:
            if pos in targets:
                out.append(f"{targets[pos]}:")
            if self._canonical(pos, ins):
                text = self._text(pos, ins, targets, refs)
                out.append(f"{INDENT}{text:<{TEXT_WIDTH}} ; {pos:04X}")
            else:
                raw = lib.code[pos:pos + max(ins.size, 1)]
                out.append(f"{INDENT}{'.BYTES  ' + raw.hex():<{TEXT_WIDTH}} ; {pos:04X} {instr_text(ins)}")
        if self.tail is not None:
            if self.tail in targets:
                out.append(f"{targets[self.tail]}:")
            out.append(f"{INDENT}{'.BYTES  ' + lib.code[self.tail:].hex():<{TEXT_WIDTH}} ; {self.tail:04X} "
                       "truncated instruction")
        end = len(lib.code)
        if end in targets and end != self.tail:
            out.append(f"{targets[end]}:")
        return "\n".join(out) + "\n"


def asm_text(ins: Instr) -> str:
    """Assembler text of one instruction without library context: the reference's text with
    exact values (used to check the assembler against the reference's re-encoding)."""
    form = ins.form
    if form.special == isa.PUT and ins.value is not None:
        reg = ins.args[0]
        if form.key == "put_f":
            val = float_exact_text(reg, ins.value)  # type: ignore[arg-type]
        else:
            val = numfmt.int_display(ins.value, put_width(form, reg))  # type: ignore[arg-type]
        return isa.render(form, ins.args, {"val": val})
    if form.special == isa.PUT_S and ins.value is not None:
        return isa.render(form, ins.args, {"bytes": bytes_exact_text(ins.value[0])})  # type: ignore[index]
    if form.key == "ins":
        return isa.render(asm_form(form), ins.args, {})
    if form.key == "stp":
        return step_text(ins, exact=True)
    return instr_text(ins)
