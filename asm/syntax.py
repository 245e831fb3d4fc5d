"""Instruction syntaxes derived from the instruction table (:mod:`aluvm.isa`).

Every form's display template *is* its assembly syntax: ``add.{iflags:flags}  {A:reg}{i:src1},
{A:reg}{i:src2}`` reads as the mnemonic ``add``, a flag taken from the ``iflags`` letter table and
two operands whose text must match ``<a-register>[<index>]``.  This module compiles each template
into a :class:`Syntax`: the base mnemonic, the flag placeholder and one regular expression per
operand whose groups bind the form's fields.  Letter tables are the inverses of the table's own
renderers (``isa._RENDER``), so nothing here lists instructions by hand.

Two templates need a derived syntax, both documented deviations of the reference's display:

* ``stp`` (0x24) is displayed through the reference's ``Step`` type as ``inc``/``dec``/``add``/
  ``sub`` with a trailing comma: ``inc a8[1],``, ``sub a32[2],5,``;  we accept those and the same
  without the trailing comma;
* ``ins`` (0x3D) is displayed malformed by the reference (S19: ``ins.l [3],a16s16[1],s16[1]``,
  the destination is lost); the assembler syntax is ``ins.<flag> s16[src],s16[dst],a16[off]``
  (the operand order of ``del``), and the reference text is rejected with that hint.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Optional, Sequence

from aluvm.isa import table as isa
from aluvm.isa.table import Form

PLACEHOLDER = re.compile(r"\{(\w+):(\w+)\}")

#: placeholder kinds whose text is a whole operand value, not letters from a table
VALUE_KINDS = ("val", "bytes", "site", "h16", "d", "x16", "stepabs")

#: IntFlags as the reference *encoder* writes them (bit 0 signed, bit 1 wrap); the decoder only
#: ever produces ``uc`` (0) and ``sw`` (3), see S4.
IFLAGS = {"uc": 0, "sc": 1, "uw": 2, "sw": 3}

#: human descriptions of placeholder kinds, for error messages
KIND_HINT = {
    "A": "a8..a1024", "F": "f16b..f512", "R": "r128..r8192", "AF": "a8..a1024|f16b..f512",
    "AR": "a8..a1024|r128..r8192", "A2": "a8|a16", "i": "[N]", "S": "s16[N]",
    "blk": "a|r", "bool": "true|false", "val": "VALUE", "bytes": "BYTES",
    "site": "POS @ LIB", "h16": "OFFSET|LABEL", "d": "N", "x16": "N", "stepabs": "N",
}

INS_HINT = "ins.<flag> s16[src],s16[dst],a16[off]"
#: the assembler's template for ``ins`` (the reference's display loses the destination, S19)
INS_TEMPLATE = "ins.{ins:flag}   {S:src},{S:dst},a16{i:off}"


@dataclass
class Operand:
    """One operand of a syntax: either a pattern binding fields, or one value placeholder."""

    template: str
    regex: Optional[re.Pattern] = None
    groups: tuple[tuple[str, str, str], ...] = ()     # (group name, kind, field)
    value_kind: Optional[str] = None                   # one of VALUE_KINDS
    value_field: Optional[str] = None

    @cached_property
    def hint(self) -> str:
        return PLACEHOLDER.sub(lambda m: KIND_HINT.get(m.group(1), m.group(1)), self.template)


@dataclass
class Syntax:
    form: Form
    mnemonic: str
    flag: Optional[tuple[str, str]]          # (kind, field) of the ``.flag`` suffix
    operands: tuple[Operand, ...]
    fixed: dict[str, int] = field(default_factory=dict)
    step_sign: int = 0                       # stp: +1 add, -1 sub, 0 none
    trailing_comma: bool = False             # stp: the reference's trailing comma is allowed
    rejected: Optional[str] = None           # matching text is an error with this message

    @cached_property
    def flag_letters(self) -> dict[str, int]:
        """Flag text -> value (the flag field's letter table); {} without a flag."""
        if self.flag is None:
            return {}
        kind, fname = self.flag
        return letters(kind, field_bits(self.form, fname))

    @cached_property
    def bindings(self) -> dict[str, object]:
        """Operand group -> what binds its text: the field's largest value for indices
        (kinds ``i``, ``S``), else the letter table (text -> value)."""
        out: dict[str, object] = {}
        for op in self.operands:
            for g, kind, fname in op.groups:
                out[g] = (field_limit(self.form, fname) if kind in ("i", "S")
                          else letters(kind, field_bits(self.form, fname)))
        return out

    @cached_property
    def hint(self) -> str:
        head = self.mnemonic + (f".<{self.flag[0]}>" if self.flag else "")
        ops = ",".join(o.hint for o in self.operands)
        return f"{head} {ops}".strip()


# ---------------------------------------------------------------------------------------------
# Letter tables


def _field_bits(form: Form, name: str) -> int:
    for f in form.fields:
        if f.name == name:
            return 8 if f.kind == "s8" else f.bits
    raise KeyError(name)


def field_bits(form: Form, name: str) -> int:
    """The width of a field of ``form``, in bits."""
    for f in form.fields:
        if f.name == name:
            return f.bits
    raise KeyError(name)


@lru_cache(maxsize=None)
def letters(kind: str, bits: int) -> dict[str, int]:
    """Text -> field value for a table-rendered placeholder kind (first value wins).  Cached:
    callers only read the table."""
    if kind == "iflags":
        return dict(IFLAGS)
    render = isa._RENDER[kind]
    out: dict[str, int] = {}
    for v in range(1 << bits):
        try:
            text = render(v)
        except (IndexError, KeyError):
            continue
        out.setdefault(text, v)
    return out


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# ---------------------------------------------------------------------------------------------
# Compiling templates


def _operand(form: Form, template: str, counter: list[int]) -> Operand:
    parts = PLACEHOLDER.split(template)
    # parts: literal, kind, field, literal, kind, field, ..., literal
    kinds = parts[1::3]
    if any(k in VALUE_KINDS for k in kinds):
        if len(kinds) != 1 or parts[0] or parts[-1]:
            raise ValueError(f"{form.key}: value placeholder must be a whole operand: {template!r}")
        return Operand(template, value_kind=kinds[0], value_field=parts[2])
    rx, groups = [], []
    for i in range(0, len(parts) - 1, 3):
        rx.append(re.escape(parts[i]))
        kind, fname = parts[i + 1], parts[i + 2]
        g = f"g{counter[0]}"
        counter[0] += 1
        if kind == "i":
            rx.append(rf"\[(?P<{g}>[0-9]+)\]")
        elif kind == "S":
            rx.append(rf"s16\[(?P<{g}>[0-9]+)\]")
        else:
            table = letters(kind, _field_bits(form, fname))
            rx.append(f"(?P<{g}>{_alternation(list(table))})")
        groups.append((g, kind, fname))
    rx.append(re.escape(parts[-1]))
    return Operand(template, re.compile("".join(rx) + r"\Z"), tuple(groups))


def _split_template(display: str) -> tuple[str, str]:
    display = display.strip()
    m = re.match(r"(\S+)\s*(.*)\Z", display)
    assert m
    return m.group(1), m.group(2).replace(" ", "")


def _head(form: Form, head: str) -> tuple[str, Optional[tuple[str, str]]]:
    m = re.match(r"([A-Za-z0-9_:]+)(?:\.\{(\w+):(\w+)\})?\Z", head)
    if not m:
        raise ValueError(f"{form.key}: cannot read mnemonic of template {form.display!r}")
    flag = (m.group(2), m.group(3)) if m.group(2) else None
    return m.group(1), flag


def compile_form(form: Form) -> list[Syntax]:
    """The syntaxes that assemble into ``form``."""
    if form.special == isa.RESERVED:
        return []   # `rsrv:XX` is recognised directly by the parser
    if form.key == "stp":
        return _step_syntaxes(form)
    head, rest = _split_template(form.display)
    mnemonic, flag = _head(form, head)
    counter = [0]
    ops = tuple(_operand(form, t, counter) for t in rest.split(",")) if rest else ()
    if form.key == "ins":
        _h, fixed_rest = _split_template(INS_TEMPLATE)
        fixed_ops = tuple(_operand(form, t, counter) for t in fixed_rest.split(","))
        return [Syntax(form, mnemonic, flag, fixed_ops),
                Syntax(form, mnemonic, flag, ops,
                       rejected="the reference's `ins` display (S19) omits the destination; "
                                f"write `{INS_HINT}`")]
    if form.special == isa.NOP:
        return [Syntax(form, mnemonic.lower(), None, ops)]
    return [Syntax(form, mnemonic, flag, ops)] + _macro_syntaxes(form)


def _macro_syntaxes(form: Form) -> list[Syntax]:
    """The reference's ``aluasm!`` spellings of a form (:data:`aluvm.isa.table.MACRO_FORMS`)."""
    out = []
    for template in isa.MACRO_FORMS.get(form.key, ()):
        head, rest = _split_template(template)
        mnemonic, flag = _head(form, head)
        counter = [0]
        ops = tuple(_operand(form, t, counter) for t in rest.split(",")) if rest else ()
        out.append(Syntax(form, mnemonic, flag, ops))
    return out


def _step_syntaxes(form: Form) -> list[Syntax]:
    counter = [0]
    reg = _operand(form, "{A:reg}{i:idx}", counter)
    amount = Operand("{stepabs:step}", value_kind="stepabs", value_field="step")
    return [
        Syntax(form, "inc", None, (reg,), fixed={"step": 1}, trailing_comma=True),
        Syntax(form, "dec", None, (reg,), fixed={"step": -1}, trailing_comma=True),
        Syntax(form, "add", None, (reg, amount), step_sign=1, trailing_comma=True),
        Syntax(form, "sub", None, (reg, amount), step_sign=-1, trailing_comma=True),
        # the reference shows a zero step as `add a8[0],` (no amount)
        Syntax(form, "add", None, (reg,), fixed={"step": 0}, trailing_comma=True),
    ]


@lru_cache(maxsize=None)
def syntax_index(forms: tuple[Form, ...]) -> dict[str, list[Syntax]]:
    """Mnemonic -> syntaxes, in table order (first match wins)."""
    index: dict[str, list[Syntax]] = {}
    for form in forms:
        for syn in compile_form(form):
            index.setdefault(syn.mnemonic, []).append(syn)
    return index


def table_forms(table: Sequence[Sequence[Form]]) -> tuple[Form, ...]:
    """Every assemblable form of a decode table, plus forms the encoder writes even though the
    reference decoder cannot read them back (BLAKE3, S3)."""
    out: list[Form] = []
    seen: set[str] = set()
    for forms in table:
        for f in forms:
            if f.special != isa.RESERVED and f.key not in seen:
                out.append(f)
                seen.add(f.key)
    for f in list(isa.FORMS) + [isa.BLAKE3_FORM]:
        if f.key not in seen and f.key != "nop_spec":
            out.append(f)
            seen.add(f.key)
    return tuple(out)


def field_limit(form: Form, name: str) -> int:
    """Largest value a field accepts (S-register fields: 15)."""
    for f in form.fields:
        if f.name == name:
            if f.kind == "s8":
                return 15
            if f.kind == "i8":
                return 127
            return f.mask
    raise KeyError(name)


def asm_form(form: Form) -> Form:
    """The form with the template the assembler writes (differs from the display for S19 and
    for reserved bytes, which a host ISA may display its own way but always assemble as
    ``rsrv:XX``)."""
    if form.key == "ins":
        return replace(form, display=INS_TEMPLATE)
    if form.special == isa.RESERVED:
        return replace(form, display=f"rsrv:{form.opcode:02X}")
    return form
