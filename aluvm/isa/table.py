"""The AluVM instruction set as data.

One table describes every opcode of rust-aluvm v0.11.0-beta.6: its *forms* (an opcode may have
several, told apart by fixed discriminator bits), the argument fields in bit-stream order, the
complexity, the semantic key that the interpreter and JIT look up, and the display template.  The
decoder, encoder, disassembler, assembler, interpreter and JIT all read this table.

Field spec mini-language (one string per form, fields in LSB-first stream order):

* ``name:bits``         an ordinary field, passed to the semantic function;
* ``name:bits:kind``    a field with a decode normalisation: ``s8`` (u8 S-register index, taken
  mod 16; S14), ``iflags`` (IntFlags, decoded as signed=wrap=bit0; S4), ``pad`` (read and
  ignored; not passed on), ``i8`` (two's-complement byte);
* ``name=bits/value``   a fixed discriminator; the form matches only when the bits equal value.

Display templates use ``{kind:field}`` placeholders rendered by :func:`render`.

Control flow is data too: every form carries a :class:`Flow` (what may run after it).  The
interpreter's control builders, the JIT's block terminators and successors and the
disassembler's jump labels are all derived from it, never from key names.
"""
from __future__ import annotations

import re
from functools import cached_property
from dataclasses import dataclass, field
from typing import Callable, Optional

from aluvm.machine.registers import A_NAMES, F_NAMES, R_NAMES, U64_MAX

# Special decode kinds (how the operand bytes after the fields are handled).
PLAIN, PUT, PUT_S, CALL, NOP, RESERVED = "plain", "put", "put_s", "call", "nop", "reserved"


@dataclass(frozen=True)
class Field:
    name: str
    bits: int
    shift: int
    kind: str = ""            # '', 's8', 'iflags', 'pad', 'i8'
    fixed: Optional[int] = None

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1


@dataclass(frozen=True)
class Flow:
    """What may run after an instruction.  Ordinary instructions only fall through
    (:data:`FALLS`); every other flow makes the instruction a *control* instruction."""

    falls: bool = True        # may continue with the next instruction
    jumps: str = ""           # name of the field holding an in-library jump target
    calls: bool = False       # pushes a call-stack entry (a later ``ret`` may come back)
    returns: bool = False     # pops a call-stack entry and continues at its site
    leaves: bool = False      # continues at a library site (possibly another library)
    stops: bool = False       # may end the run (a failure, an empty stack, the jump limit)
    stays: bool = False       # never advances (the reference's ``nop``, S2)

    @cached_property        # (asked for every decoded instruction: compare the fields once)
    def control(self) -> bool:
        return self != FALLS


FALLS = Flow()
#: the flows of the control instructions (kept next to each other so they read as one table)
STOPS = Flow(falls=False, stops=True)                        # fail, reserved opcodes
TESTS = Flow(stops=True)                                     # test
JUMPS = Flow(falls=False, jumps="pos", stops=True)           # jmp
BRANCHES = Flow(jumps="pos", stops=True)                     # jif
ROUTINE = Flow(falls=False, jumps="pos", calls=True, stops=True)
CALLS = Flow(falls=False, calls=True, leaves=True, stops=True)
EXECS = Flow(falls=False, leaves=True, stops=True)
RETURNS = Flow(falls=False, returns=True, stops=True)
STAYS = Flow(falls=False, stops=True, stays=True)            # reference nop: ends at the limit


@dataclass(frozen=True)
class Form:
    """One decodable shape of an opcode."""

    opcode: int
    key: str                  # semantic key (interpreter / JIT op table)
    fields: tuple[Field, ...]
    cx: int                   # complexity added to ca0
    display: str
    special: str = PLAIN
    flow: Flow = FALLS
    args: tuple[str, ...] = field(default=())   # names of the fields passed to semantics

    @cached_property
    def arg_bits(self) -> int:
        """(cached: the assembler and the decoder ask it for every instruction)"""
        return sum(f.bits for f in self.fields)

    @cached_property
    def size(self) -> int:
        """Encoded size in bytes (opcode included); the reference's ``nop`` takes none (S2)."""
        if self.special == NOP:
            return 0 if self.flow.stays else 1
        return 1 + self.arg_bits // 8

    def target(self, args: tuple[int, ...]) -> Optional[int]:
        """The in-library jump target among decoded ``args`` (None: this form does not jump)."""
        if not self.flow.jumps:
            return None
        return args[self.args.index(self.flow.jumps)]

    @cached_property
    def _fixed(self) -> tuple[tuple[int, int, int], ...]:
        """(shift, mask, value) of the discriminating fields (decoding reads these a lot)."""
        return tuple((f.shift, f.mask, f.fixed) for f in self.fields if f.fixed is not None)

    @cached_property
    def _slices(self) -> tuple[tuple[int, int, str], ...]:
        """(shift, mask, kind) of the argument fields, in order."""
        return tuple((f.shift, f.mask, f.kind) for f in self.fields
                     if f.fixed is None and f.kind != "pad")

    def matches(self, word: int) -> bool:
        for shift, mask, fixed in self._fixed:
            if (word >> shift) & mask != fixed:
                return False
        return True

    def extract(self, word: int) -> tuple[int, ...]:
        """Argument values (normalised) of the non-fixed, non-pad fields."""
        out = []
        for shift, mask, kind in self._slices:
            v = (word >> shift) & mask
            if kind:
                if kind == "s8":
                    v &= 0x0F
                elif kind == "iflags":
                    v = 3 if v & 1 else 0
                elif kind == "i8":
                    v = v - 256 if v >= 128 else v
            out.append(v)
        return tuple(out)

    def pack(self, args: tuple[int, ...]) -> int:
        """Inverse of :meth:`extract`: the canonical argument word."""
        word, it = 0, iter(args)
        for f in self.fields:
            if f.fixed is not None:
                v = f.fixed
            elif f.kind == "pad":
                v = 0
            else:
                v = next(it)
                if f.kind == "i8":
                    v &= 0xFF
                if not 0 <= v <= f.mask:
                    raise ValueError(f"{self.key}: field {f.name} value {v} does not fit {f.bits} bits")
            word |= v << f.shift
        return word


def _fields(spec: str) -> tuple[Field, ...]:
    out, shift = [], 0
    for tok in spec.split():
        if "=" in tok:
            # fixed discriminator: name=<bits>/<value>, e.g. "sub=3/0"
            name, rest = tok.split("=")
            bits_s, fixed_s = rest.split("/")
            bits, fixed = int(bits_s), int(fixed_s)
            out.append(Field(name, bits, shift, fixed=fixed))
        else:
            parts = tok.split(":")
            name, bits = parts[0], int(parts[1])
            kind = parts[2] if len(parts) > 2 else ""
            out.append(Field(name, bits, shift, kind=kind))
        shift += out[-1].bits
    if shift % 8:
        raise ValueError(f"field spec {spec!r} is {shift} bits, not whole bytes")
    return tuple(out)


def make_form(op: int, key: str, spec: str, cx: int, display: str, special: str = PLAIN,
              flow: Flow = FALLS) -> Form:
    """A form from a field spec (the table below and host extensions use this)."""
    fields = _fields(spec) if spec else ()
    args = tuple(f.name for f in fields if f.fixed is None and f.kind != "pad")
    return Form(op, key, fields, cx, display, special, flow, args)


FORMS: list[Form] = []


def _form(op: int, key: str, spec: str, cx: int, display: str, special: str = PLAIN,
          flow: Flow = FALLS) -> None:
    FORMS.append(make_form(op, key, spec, cx, display, special, flow))


# ---------------------------------------------------------------------------------------------
# Control flow (cx 2)
_form(0x00, "fail", "", 2, "fail", flow=STOPS)
_form(0x01, "test", "", 2, "test", flow=TESTS)
_form(0x02, "jmp", "pos:16", 2, "jmp     {h16:pos}", flow=JUMPS)
_form(0x03, "jif", "pos:16", 2, "jif     {h16:pos}", flow=BRANCHES)
_form(0x04, "routine", "pos:16", 2, "routine {h16:pos}", flow=ROUTINE)
_form(0x05, "call", "pos:16 lib:8", 2, "call    {site:pos}", CALL, flow=CALLS)
_form(0x06, "exec", "pos:16 lib:8", 2, "exec    {site:pos}", CALL, flow=EXECS)
_form(0x07, "ret", "", 2, "ret", flow=RETURNS)
# Put / clear (cx 2)
_form(0x08, "clr_a", "reg:3 idx:5", 2, "clr     {A:reg}{i:idx}")
_form(0x09, "clr_f", "reg:3 idx:5", 2, "clr     {F:reg}{i:idx}")
_form(0x0A, "clr_r", "reg:3 idx:5", 2, "clr     {R:reg}{i:idx}")
_form(0x0B, "put_a", "reg:3 idx:5 off:16", 2, "put     {A:reg}{i:idx},{val:reg}", PUT)
_form(0x0C, "put_f", "reg:3 idx:5 off:16", 2, "put     {F:reg}{i:idx},{val:reg}", PUT)
_form(0x0D, "put_r", "reg:3 idx:5 off:16", 2, "put     {R:reg}{i:idx},{val:reg}", PUT)
_form(0x0E, "putif_a", "reg:3 idx:5 off:16", 2, "putif   {A:reg}{i:idx},{val:reg}", PUT)
_form(0x0F, "putif_r", "reg:3 idx:5 off:16", 2, "putif   {R:reg}{i:idx},{val:reg}", PUT)
# Move (cx 1)
for _sub, (_key, _fam, _mn) in enumerate([
        ("mov_a", "A", "mov"), ("dup_a", "A", "dup"), ("swp_a", "A", "swp"),
        ("mov_f", "F", "mov"), ("dup_f", "F", "dup"), ("swp_f", "F", "swp"),
        ("mov_r", "R", "mov"), ("dup_r", "R", "dup")]):
    _form(0x10, _key, f"sub=3/{_sub} idx1:5 idx2:5 reg:3", 1,
          f"{_mn:<8}{{{_fam}:reg}}{{i:idx1}},{{{_fam}:reg}}{{i:idx2}}")
for _op, _key, _mn, _f1, _f2 in [
        (0x11, "cpy_a", "cpy", "A", "A"), (0x12, "cnv_a", "cnv", "A", "A"),
        (0x13, "cnv_f", "cnv", "F", "F"), (0x14, "cpy_r", "cpy", "R", "R"),
        (0x15, "spy", "spy", "A", "R"), (0x16, "cnv_af", "cnv", "A", "F"),
        (0x17, "cnv_fa", "cnv", "F", "A")]:
    _form(_op, _key, "reg1:3 idx1:5 reg2:3 idx2:5", 1,
          f"{_mn:<8}{{{_f1}:reg1}}{{i:idx1}},{{{_f2}:reg2}}{{i:idx2}}")
# Compare (cx 1)
_CMP_SPEC = "idx1:5 idx2:5 reg:3"
_form(0x18, "gt_a", f"sub=2/0 flag:1 {_CMP_SPEC}", 1, "gt.{sign:flag}    {A:reg}{i:idx1},{A:reg}{i:idx2}")
_form(0x18, "lt_a", f"sub=2/1 flag:1 {_CMP_SPEC}", 1, "lt.{sign:flag}    {A:reg}{i:idx1},{A:reg}{i:idx2}")
_form(0x18, "gt_f", f"sub=2/2 flag:1 {_CMP_SPEC}", 1, "gt.{feq:flag}    {F:reg}{i:idx1},{F:reg}{i:idx2}")
_form(0x18, "lt_f", f"sub=2/3 flag:1 {_CMP_SPEC}", 1, "lt.{feq:flag}    {F:reg}{i:idx1},{F:reg}{i:idx2}")
_form(0x19, "gt_r", f"sub=2/0 flag=1/0 {_CMP_SPEC}", 1, "gt      {R:reg}{i:idx1},{R:reg}{i:idx2}")
_form(0x19, "lt_r", f"sub=2/0 flag=1/1 {_CMP_SPEC}", 1, "lt      {R:reg}{i:idx1},{R:reg}{i:idx2}")
_form(0x19, "eq_a", f"sub=2/1 flag:1 {_CMP_SPEC}", 1, "eq.{neq:flag}    {A:reg}{i:idx1},{A:reg}{i:idx2}")
_form(0x19, "eq_f", f"sub=2/2 flag:1 {_CMP_SPEC}", 1, "eq.{feq:flag}    {F:reg}{i:idx1},{F:reg}{i:idx2}")
_form(0x19, "eq_r", f"sub=2/3 flag:1 {_CMP_SPEC}", 1, "eq.{neq:flag}    {R:reg}{i:idx1},{R:reg}{i:idx2}")
_form(0x1A, "ifz_a", "reg:3 idx:5", 1, "ifz     {A:reg}{i:idx}")
_form(0x1B, "ifz_r", "reg:3 idx:5", 1, "ifz     {R:reg}{i:idx}")
_form(0x1C, "ifn_a", "reg:3 idx:5", 1, "ifn     {A:reg}{i:idx}")
_form(0x1D, "ifn_r", "reg:3 idx:5", 1, "ifn     {R:reg}{i:idx}")
_form(0x1E, "st", "flag:2 reg:3 idx:3", 1, "st.{merge:flag}    {A:reg}{i:idx}")
_form(0x1F, "stinv", "", 1, "stinv")
# Arithmetic
for _op, _mn in [(0x20, "add"), (0x21, "sub"), (0x22, "mul"), (0x23, "div")]:
    _form(_op, f"{_mn}_a", "kind=1/0 flags:2:iflags src1:5 src2:5 reg:3", 1,
          f"{_mn}.{{iflags:flags}}  {{A:reg}}{{i:src1}},{{A:reg}}{{i:src2}}")
    _form(_op, f"{_mn}_f", "kind=1/1 rnd:2 src1:5 src2:5 reg:3", 10,
          f"{_mn}.{{rnd:rnd}}   {{F:reg}}{{i:src1}},{{F:reg}}{{i:src2}}")
_form(0x24, "stp", "reg:3 idx:5 step:8:i8", 1, "{step:step}")
_form(0x25, "neg", "reg:4 idx:4", 1, "neg     {AF:reg}{i:idx}")
_form(0x26, "abs", "reg:4 idx:4", 1, "abs     {AF:reg}{i:idx}")
_form(0x27, "rem", "reg1:3 idx1:5 reg2:3 idx2:5", 1, "rem     {A:reg1}{i:idx1},{A:reg2}{i:idx2}")
# Bitwise (cx 1)
for _op, _key in [(0x28, "and"), (0x29, "or"), (0x2A, "xor")]:
    _form(_op, _key, "reg:4 src1:4 src2:4 dst:4", 1,
          f"{_key:<8}{{AR:reg}}{{i:src1}},{{AR:reg}}{{i:src2}},{{AR:reg}}{{i:dst}}")
_form(0x2B, "not", "reg:4 idx:4", 1, "not     {AR:reg}{i:idx}")
_form(0x2C, "shl", "dir=1/0 a2:1 shift:5 reg:4 idx:5", 1, "shl     {A2:a2}{i:shift},{AR:reg}{i:idx}")
_form(0x2C, "shr_a", "dir=1/1 a2:1 shift:4 sign:1 block=1/0 reg:3 idx:5", 1,
      "shr.{sign:sign}   {A2:a2}{i:shift},{A:reg}{i:idx}")
_form(0x2C, "shr_r", "dir=1/1 a2:1 shift:5 block=1/1 reg:3 idx:5", 1,
      "shr     {A2:a2}{i:shift},{R:reg}{i:idx}")
_form(0x2D, "scl", "dir=1/0 a2:1 shift:5 reg:4 idx:5", 1, "scl     {A2:a2}{i:shift},{AR:reg}{i:idx}")
_form(0x2D, "scr", "dir=1/1 a2:1 shift:5 reg:4 idx:5", 1, "scr     {A2:a2}{i:shift},{AR:reg}{i:idx}")
_form(0x2E, "rev_a", "reg:3 idx:5", 1, "rev     {A:reg}{i:idx}")
_form(0x2F, "rev_r", "reg:3 idx:5", 1, "rev     {R:reg}{i:idx}")
# Byte strings (cx 5)
_form(0x30, "put_s", "s:8:s8 off:16 len:16", 5, "put     {S:s},{bytes:s}", PUT_S)
_form(0x31, "mov_s", "src:4 dst:4", 5, "mov     {S:src},{S:dst}")
_form(0x32, "swp_s", "src:4 dst:4", 5, "swp     {S:src},{S:dst}")
_form(0x33, "fill", "s:8:s8 o1:5 o2:5 v:5 flag:1", 5, "fill.{ext:flag}    {S:s},a16{i:o1},a16{i:o2},a8{i:v}")
_form(0x34, "len_s", "s:8:s8 reg:3 idx:5", 5, "len     {S:s},{A:reg}{i:idx}")
_form(0x35, "cnt", "s:8:s8 a8:4 a16:4", 5, "cnt     {S:s},a8{i:a8},a16{i:a16}")
_form(0x36, "eq_s", "s1:4 s2:4", 5, "eq      {S:s1},{S:s2}")
_form(0x37, "con", "s1:4 s2:4 no:5 off:5 ln:5 pad:1:pad", 5,
      "con     {S:s1},{S:s2},a16{i:no},a16{i:off},a16{i:ln}")
_form(0x38, "find", "s1:4 s2:4", 5, "find    a16[0],{S:s1},{S:s2}")
_form(0x39, "extr", "s:4 reg:4 idx:4 off:4", 5, "extr    {S:s},{AR:reg}{i:idx},a16{i:off}")
_form(0x3A, "inj", "s:4 reg:4 idx:4 off:4", 5, "inj     {S:s},{AR:reg}{i:idx},{AR:reg}{i:off}")
_form(0x3B, "join", "s1:4 s2:4 dst:8:s8", 5, "join    {S:s1},{S:s2},{S:dst}")
_form(0x3C, "splt", "flag:3 off:5 src:8:s8 dst1:4 dst2:4", 5, "splt.{split:flag}  {S:src},a16{i:off},{S:dst1},{S:dst2}")
_form(0x3D, "ins", "flag:3 off:5 src:4 dst:4", 5, "ins.{ins:flag}   {i:off},a16{S:src},{S:src}")
_form(0x3E, "del_", "flag:2 reg1:1 off1:5 reg2:1 off2:5 flag1:1 flag2:1 src:4 dst:4", 5,
      "del.{del:flag}   {S:src},{S:dst},{A2:reg1}{i:off1},{A2:reg2}{i:off2},{bool:flag1},{bool:flag2}")
_form(0x3F, "rev_s", "src:4 dst:4", 5, "rev     {S:src},{S:dst}")
# Digests (cx 100)
_form(0x80, "ripemd", "s:4 dst:4", 100, "ripemd  {S:s},r160{i:dst}")
_form(0x81, "sha256", "s:4 dst:4", 100, "sha2    {S:s},r256{i:dst}")
_form(0x82, "sha512", "s:4 dst:4", 100, "sha2    {S:s},r512{i:dst}")
# secp256k1 / curve25519 (cx 1000)
_form(0x88, "secp_gen", "src:5 dst:3", 1000, "secpgen r256{i:src},r512{i:dst}")
_form(0x89, "secp_mul", "block:1 scalar:5 src:5 dst:5", 1000, "secpmul {blk:block}256{i:scalar},r512{i:src},r512{i:dst}")
_form(0x8A, "secp_add", "src:5 srcdst:3", 1000, "secpadd r512{i:src},r512{i:srcdst}")
_form(0x8B, "secp_neg", "src:5 dst:3", 1000, "secpneg r512{i:src},r512{i:dst}")
_form(0x8C, "ed_gen", "src:5 dst:3", 1000, "edgen   r256{i:src},r256{i:dst}")
_form(0x8D, "ed_mul", "block:1 scalar:5 src:5 dst:5", 1000, "edmul   {blk:block}256{i:scalar},r256{i:src},r256{i:dst}")
_form(0x8E, "ed_add", "src1:5 src2:5 dst:5 overflow:1", 1000, "edadd   r512{i:src1},r256{i:src2},r256{i:dst},{bool:overflow}")
_form(0x8F, "ed_neg", "src:5 dst:3", 1000, "edneg   r256{i:src},r256{i:dst}")
# Nop: the reference never consumes 0xFF (S2).
_form(0xFF, "nop", "", 1, "Nop", NOP, STAYS)

# Profile-specific forms (the `spec` profile replaces a handful of table entries).
BLAKE3_FORM = make_form(0x84, "blake3", "s:4 dst:4", 100, "blake3  {S:s},r256{i:dst}")
NOP_ADVANCING = make_form(0xFF, "nop_spec", "", 1, "Nop", NOP)


def reserved_form(op: int) -> Form:
    return make_form(op, "reserved", "", U64_MAX, f"rsrv:{op:02X}", RESERVED, STOPS)


def _build_table() -> tuple[tuple[Form, ...], ...]:
    table: list[list[Form]] = [[] for _ in range(256)]
    for f in FORMS:
        table[f.opcode].append(f)
    for op in range(256):
        if not table[op]:
            table[op].append(reserved_form(op))
    return tuple(tuple(x) for x in table)


#: Opcode -> forms, exactly as the reference decodes them.
REFERENCE_TABLE: tuple[tuple[Form, ...], ...] = _build_table()


def spec_table() -> tuple[tuple[Form, ...], ...]:
    """The `spec` profile's decode table: BLAKE3 reachable and an advancing `nop`."""
    t = list(REFERENCE_TABLE)
    t[0x84] = (BLAKE3_FORM,)
    t[0xFF] = (NOP_ADVANCING,)
    return tuple(t)


SPEC_TABLE = spec_table()

#: Spellings of the reference's ``aluasm!`` macro (``src/isa/macros.rs``) that differ from the
#: display text: the assembler accepts them besides the display form (same fields, same bytes).
#: ``find``'s third operand is the macro's asserted ``a16[0]``; ``inj`` names its offset
#: register ``a16``; ``inv st0`` is ``stinv``.
MACRO_FORMS: dict[str, tuple[str, ...]] = {
    "find": ("find    {S:s1},{S:s2},a16[0]",),
    "inj": ("inj     {S:s},{AR:reg}{i:idx},a16{i:off}",),
    "stinv": ("inv     st0",),
}

BY_KEY: dict[str, Form] = {f.key: f for f in FORMS}
BY_KEY["blake3"] = BLAKE3_FORM

# ---------------------------------------------------------------------------------------------
# Display

SIGN = "us"
NONEQ = "ne"            # 0 = NonEqual 'n', 1 = Equal 'e'
FLOATEQ = "er"
ROUNDING = "znfc"
MERGE = "sano"
EXTEND = "ef"
SPLIT = ("n", "nn", "nz", "ee", "cn", "cz", "zn", "zz")
INSERT = "lofeaxcs"
DELETE = "nzce"


def af_name(code: int) -> str:
    return A_NAMES[code] if code < 8 else F_NAMES[code - 8]


def ar_name(code: int) -> str:
    return A_NAMES[code] if code < 8 else R_NAMES[code - 8]


_RENDER: dict[str, Callable[[int], str]] = {
    "A": lambda v: A_NAMES[v], "F": lambda v: F_NAMES[v], "R": lambda v: R_NAMES[v],
    "AF": af_name, "AR": ar_name, "A2": lambda v: ("a8", "a16")[v],
    "i": lambda v: f"[{v}]", "S": lambda v: f"s16[{v}]", "h16": lambda v: f"0x{v:04X}",
    "x16": lambda v: f"0x{v:04X}",   # a 16-bit number shown in hex (host ISAs' type ids)
    "sign": lambda v: SIGN[v], "neq": lambda v: NONEQ[v], "feq": lambda v: FLOATEQ[v],
    "rnd": lambda v: ROUNDING[v], "merge": lambda v: MERGE[v], "ext": lambda v: EXTEND[v],
    "split": lambda v: SPLIT[v], "ins": lambda v: INSERT[v], "del": lambda v: DELETE[v],
    "iflags": lambda v: "sw" if v & 1 else "uc", "bool": lambda v: "true" if v else "false",
    "blk": lambda v: "a" if v else "r", "d": str,
}

_PLACEHOLDER = re.compile(r"\{(\w+):(\w+)\}")


def render(form: Form, args: tuple[int, ...], extra: dict[str, str]) -> str:
    """Render a display template; ``extra`` supplies values the fields alone cannot (put values,
    call sites, stp text)."""
    values = dict(zip(form.args, args))

    def sub(m: re.Match) -> str:
        kind, name = m.group(1), m.group(2)
        if kind in extra:
            return extra[kind]
        return _RENDER[kind](values[name])

    return _PLACEHOLDER.sub(sub, form.display)
