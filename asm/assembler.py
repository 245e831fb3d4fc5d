"""The AluAsm assembler: source text -> :class:`aluvm.library.Lib`.

Program structure (modelled on the AluVM project's ``aluasm``)::

    .ISAE                           ; ISA extensions (default: ALU BPDIGEST ED25519 SECP256K)
            ALU BPDIGEST SECP256K ED25519
    .LIBS                           ; aliases of other libraries, for `call`/`exec`
            other   alu:G1UTPjFj-mGee94A-Ivud73e-ZQZ8HC7-otPb6El-0o4tAxU#sunday-scorpio-museum
    .CONST                          ; named literals, used as $name wherever a value fits
            $limit = 10
    .INPUT                          ; named input registers, used as $name wherever a register fits
            $value  a64[0]  "the number to check"
    .MAIN                           ; the entry routine, always placed at offset 0
            put     a64[1],$limit
    loop:   inc     a64[2]
            jmp     loop
    .ROUTINE check                  ; a routine; its name is a label (`routine check`)
            ret
    .DATA                           ; optional initial data segment (hex or "strings")
            00ff
    ...
            .BYTES  2004e1          ; raw code bytes (used by the disassembler for bytes that no
                                    ; instruction text reproduces)

Lines before any section directive belong to the main routine, so a bare list of instructions
(the reference's display text, one per line) assembles as is.

Instruction syntax is the reference's display form (:mod:`asm.syntax` compiles it from the
instruction table).  Immediate values are written to the data segment exactly as the
reference's ``Lib::assemble`` does: in instruction order, at register width (f80: 10 bytes),
through the ``write_unique`` de-duplication (:class:`aluvm.assemble.DataWriter`).  ``data[OFF]``
(A/F/R) and ``data[OFF..END]`` (s16) name a data-segment location directly instead.  The libs
segment is the sorted set of the libraries named in ``.LIBS`` and of every ``call``/``exec``
target.

``reference=True`` reproduces the reference encoder's own bytes where it differs from what its
decoder reads (``nop`` written as 0x01, S2; ``ins``/``del`` opcodes swapped, S1).

Every error is an :class:`aluvm.errors.AsmError` whose text is ``file:line:col: message``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from aluvm.isa import table as isa
from aluvm.isa.reassemble import AssembleError, DataWriter
from aluvm.isa.codec import encode, put_width
from aluvm import limits
from aluvm.errors import AluError, AsmError
from aluvm.library.lib import ISAE_SEGMENT_MAX_COUNT, LIBS_SEGMENT_MAX_COUNT
from aluvm.machine.registers import F_BYTES, parse_name

from aluvm.asm import grammar
from aluvm.asm import numfmt
from aluvm.semantics.floats.formats import F512
from aluvm.asm.grammar import GrammarError, Line, Tok
from aluvm.asm.syntax import Syntax, field_limit, syntax_index, table_forms

CODE_MAX = 0xFFFF
SECTIONS = ("ISAE", "LIBS", "CONST", "INPUT", "MAIN", "ROUTINE", "DATA")
_SYM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DATA_REF = re.compile(r"data\[([^\].]+)(?:\.\.([^\]]+))?\]\Z")
_RSRV = re.compile(r"rsrv:([0-9A-Fa-f]{2})\Z")
_LONG_TOKEN = re.compile(r"`([^`]{80,})`")
_WORD_GAP = re.compile(r"[\w$][ \t]+[\w$]")


class _Err(Exception):
    """An error at a column of the current line; ``specific``: the operand had the right shape
    but a wrong value (preferred when several instruction forms were tried)."""

    def __init__(self, col: int, message: str, specific: bool = False) -> None:
        super().__init__(message)
        self.col = col
        self.message = message
        self.specific = specific


@dataclass
class Input:
    name: str
    register: str
    description: str = ""


@dataclass
class Stmt:
    """One item of code: an instruction or raw bytes."""

    line: Line
    syntax: Optional[Syntax] = None
    fields: dict[str, Any] = field(default_factory=dict)
    raw: Optional[bytes] = None
    size: int = 0
    offset: int = 0
    encoded: bytes = b""


@dataclass
class Block:
    name: Optional[str]           # None: main
    line: Optional[Line]
    items: list[Any] = field(default_factory=list)   # Lines, then Stmts and label names


@dataclass
class Program:
    """An assembled program: the library and what the source said about it."""

    lib: Any                                   # aluvm.library.Lib
    labels: dict[str, int]
    inputs: dict[str, Input]
    consts: dict[str, str]
    listing: list[tuple[int, bytes, int, str]]  # (offset, bytes, source line, source text)


# ---------------------------------------------------------------------------------------------
# Public entry points


def assemble(text: str, filename: str = "<input>", *, profile: Any = "reference",
             reference: bool = False) -> Any:
    """Assemble AluAsm source into a library."""
    return assemble_program(text, filename, profile=profile, reference=reference).lib


def read_source(path: Union[str, Path]) -> str:
    """The text of a source file: at most :data:`limits.ASM_SOURCE_MAX` bytes of UTF-8, else an
    :class:`AsmError` naming the file."""
    p = Path(path)
    try:
        if p.stat().st_size > limits.ASM_SOURCE_MAX:
            raise AsmError(f"{p}: source larger than {limits.ASM_SOURCE_MAX} bytes")
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise AsmError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise AsmError(f"{p}: {e.strerror or e}") from None


def assemble_file(path: Union[str, Path], *, profile: Any = "reference", reference: bool = False) -> Any:
    p = Path(path)
    return assemble(read_source(p), str(p), profile=profile, reference=reference)


def assemble_program(text: str, filename: str = "<input>", *, profile: Any = "reference",
                     reference: bool = False) -> Program:
    """Assemble AluAsm source; the result carries the library and the source's labels, inputs,
    constants and a listing.  The limits of :mod:`aluvm.limits` are checked first."""
    if not isinstance(text, str):
        raise AsmError(f"{filename}: source must be text, not {type(text).__name__}")
    if len(text) > limits.ASM_SOURCE_MAX:
        raise AsmError(f"{filename}: source larger than {limits.ASM_SOURCE_MAX} bytes")
    if text.count("\n") >= limits.ASM_LINES_MAX:
        raise AsmError(f"{filename}: more than {limits.ASM_LINES_MAX} lines")
    asm = _Assembler(text, filename, profile, reference)
    try:
        return asm.run()
    except AsmError:
        raise
    except Exception as e:  # pragma: no cover - a bug: still one line, never a traceback
        raise AsmError(f"{filename}:{asm.number}:1: internal assembler error "
                       f"({type(e).__name__}: {e})") from e


# ---------------------------------------------------------------------------------------------


class _Assembler:
    def __init__(self, text: str, filename: str, profile: Any, reference: bool) -> None:
        self.text = text
        self.filename = filename
        self.reference = reference
        if isinstance(profile, str):
            from aluvm.machine.interp import get_profile
            try:
                profile = get_profile(profile)
            except ValueError as e:
                raise AsmError(f"{filename}: {e}") from None
        self.profile = profile
        self.isae: list[str] = []
        self.isae_seen = False
        self.isae_names = 0       # names read under .ISAE, duplicates included
        self.data_items = 0       # items read under .DATA
        self.lib_alias: dict[str, bytes] = {}
        self.consts: dict[str, str] = {}
        self.inputs: dict[str, Input] = {}
        self.data_seed = bytearray()
        self.blocks: list[Block] = [Block(None, None)]
        self.main_declared = False
        self.labels: dict[str, tuple[Block, int, Line]] = {}
        self.number = 0
        self.statements = 0
        #: (mnemonic, flag, operands) with their columns -> (syntax, fields, size): a statement's
        #: match depends on nothing else once pass 1 has read the constants and inputs
        self.matched: dict[tuple, tuple[Syntax, dict[str, Any], int]] = {}

    # -- errors ------------------------------------------------------------------------------
    def fail(self, line: Optional[Line], col: int, message: str) -> AsmError:
        message = _LONG_TOKEN.sub(lambda m: f"`{m.group(1)[:60]}...`", message)
        if line is None:
            return AsmError(f"{self.filename}: {message}")
        return AsmError(f"{self.filename}:{line.number}:{max(col, 1)}: {message}")

    # -- pass 1: lines -----------------------------------------------------------------------
    def run(self) -> Program:
        section = "MAIN"
        block = self.blocks[0]
        for number, raw in enumerate(self.text.split("\n"), 1):
            raw = raw[:-1] if raw.endswith("\r") else raw
            stripped = raw.strip(" \t")
            if not stripped or stripped.startswith(";"):
                continue
            self.number = number
            try:
                if stripped.startswith(".") and not stripped[:6].upper() == ".BYTES":
                    section, block = self._directive(raw, number, section, block)
                    continue
                if section in ("MAIN", "ROUTINE"):
                    line = grammar.parse_line(raw, number)
                    if line.directive is not None and line.directive.text != "BYTES":
                        section, block = self._directive(raw, number, section, block)
                        continue
                    if line.label is not None:
                        self._define_label(line.label, block, line)
                    block.items.append(line)
                    if line.mnemonic is not None or line.directive is not None:
                        self.statements += 1
                        if self.statements > limits.ASM_STATEMENTS_MAX:
                            raise _Err(1, f"more than {limits.ASM_STATEMENTS_MAX} instructions: "
                                          "the code segment holds at most 65535 bytes")
                else:
                    self._section_line(section, raw)
            except (GrammarError, _Err) as e:
                raise self.fail(Line(number, raw), e.col, e.message) from None

        from aluvm.machine.features import default_isae
        default = default_isae(self.profile)   # the reference's for this machine and its host
        isae_str = " ".join(self.isae) if self.isae_seen else default
        table = self.profile.table_for(self.isae if self.isae_seen else default.split())
        self.table = table
        self.index = syntax_index(table_forms(table))

        # instructions
        for block in self.blocks:
            items: list[Any] = []
            for item in block.items:
                assert isinstance(item, Line)
                self.number = item.number
                if item.label is not None:
                    items.append(item.label.text)
                if item.mnemonic is not None or item.directive is not None:
                    try:
                        items.append(self._statement(item))
                    except _Err as e:
                        raise self.fail(item, e.col, e.message) from None
            block.items = items
        return self._layout_and_encode(isae_str)

    def _directive(self, raw: str, number: int, section: str, block: Block) -> tuple[str, Block]:
        res = grammar.section_line("directive", grammar.DIRECTIVE_LINE, raw,
                                   "a directive such as .MAIN or .ROUTINE name")
        dtok: Tok = res["directive"]
        rest: Tok = res["rest"]
        name = dtok.text[1:].upper()
        col = dtok.col
        line = Line(number, raw)
        if name not in SECTIONS:
            close = _close(name, SECTIONS + ("BYTES",), 1)
            hint = f" (did you mean .{close[0]}?)" if close else ""
            where = " (only inside .MAIN or a .ROUTINE)" if name == "BYTES" else ""
            raise _Err(col, f"unknown directive `{dtok.text}`{where}{hint}; expected one of "
                            + ", ".join("." + s for s in SECTIONS))
        if name == "ROUTINE":
            if not re.fullmatch(grammar.IDENT_RE, rest.text):
                raise _Err(rest.col, f"`.ROUTINE` needs a routine name, found `{rest.text or 'end of line'}`")
            nb = Block(rest.text, line)
            self.blocks.append(nb)
            self._define_label(rest, nb, line)
            return "ROUTINE", nb
        if name == "MAIN":
            if rest.text:
                raise _Err(rest.col, f"unexpected `{rest.text}` after .MAIN")
            if self.main_declared:
                raise _Err(col, "a second .MAIN section (the program has one entry routine)")
            self.main_declared = True
            return "MAIN", self.blocks[0]
        if name == "ISAE":
            self.isae_seen = True
        if rest.text:
            # section content may start on the directive's own line
            self._section_line(name, " " * (rest.col - 1) + rest.text)
        return name, block

    def _new_symbol(self, tok: Tok) -> str:
        """The name of a ``$name`` being defined (a .CONST or .INPUT); each is defined once."""
        name = tok.text[1:]
        if name in self.consts or name in self.inputs:
            raise _Err(tok.col, f"`${name}` defined twice")
        return name

    def _section_line(self, section: str, raw: str) -> None:
        if section == "ISAE":
            res = grammar.section_line("isae", grammar.ISAE_LINE, raw, "ISA extension names such as ALU")
            self.isae_names += len(res["names"])
            if self.isae_names > limits.ASM_ISAE_NAMES_MAX:
                raise _Err(1, f"more than {limits.ASM_ISAE_NAMES_MAX} .ISAE names")
            for tok in res["names"]:
                if not re.fullmatch(r"[A-Z][A-Z0-9]{1,7}", tok.text):
                    raise _Err(tok.col, f"`{tok.text}` is not an ISA extension id "
                                        "(2-8 characters A-Z/0-9, starting with a letter)")
                if tok.text not in self.isae:
                    if len(self.isae) >= ISAE_SEGMENT_MAX_COUNT:
                        raise _Err(tok.col, f"more than {ISAE_SEGMENT_MAX_COUNT} ISA extensions "
                                            "(the ISAE segment holds at most "
                                            f"{ISAE_SEGMENT_MAX_COUNT})")
                    self.isae.append(tok.text)
        elif section == "LIBS":
            res = grammar.section_line("libs", grammar.LIBS_LINE, raw, "`alias library-id`")
            if "alias" in res:
                alias, lib = res["alias"], res["lib"]
                if alias.text in self.lib_alias:
                    raise _Err(alias.col, f"library alias `{alias.text}` defined twice")
                if len(self.lib_alias) >= LIBS_SEGMENT_MAX_COUNT:
                    raise _Err(alias.col, f"more than {LIBS_SEGMENT_MAX_COUNT} library aliases "
                                          f"(the libs segment holds at most {LIBS_SEGMENT_MAX_COUNT})")
                self.lib_alias[alias.text] = _lib_id(lib.text, lib.col)
        elif section == "CONST":
            res = grammar.section_line("const", grammar.CONST_LINE, raw, "`$name = literal`")
            if "name" in res:
                name = self._new_symbol(res["name"])
                value: Tok = res["value"]
                # constants may use the constants defined before them
                self.consts[name] = self._substitute(value).text
        elif section == "INPUT":
            res = grammar.section_line("input", grammar.INPUT_LINE, raw, '`$name register ["description"]`')
            if "name" in res:
                name = self._new_symbol(res["name"])
                desc = ""
                if "desc" in res:
                    try:
                        desc = grammar.unquote(res["desc"].text).decode("utf-8", "replace")
                    except ValueError as e:
                        raise _Err(res["desc"].col, str(e)) from None
                reg = grammar.strip_blanks(res["reg"].text)
                try:
                    parse_name(reg)
                except ValueError:
                    raise _Err(res["reg"].col, f"`{res['reg'].text}` is not a register "
                                               "(a8..a1024, f16b..f512, r128..r8192 [0..31], "
                                               "s16[0..15])") from None
                self.inputs[name] = Input(name, reg, desc)
        elif section == "DATA":
            items = list(grammar.section_line("data", grammar.DATA_LINE, raw, "hex bytes or \"strings\"")["items"])
            self.data_items += len(items)
            if self.data_items > limits.ASM_DATA_ITEMS_MAX:
                raise _Err(1, f"more than {limits.ASM_DATA_ITEMS_MAX} .DATA items")
            for tok in items:
                item = tok.text
                if item.startswith('"'):
                    try:
                        self.data_seed += grammar.unquote(item)
                    except ValueError as e:
                        raise _Err(tok.col, str(e)) from None
                else:
                    h = item[2:] if item.startswith("0x") else item
                    if len(h) % 2:
                        raise _Err(tok.col, f"`{item}`: hex bytes need an even number of digits")
                    self.data_seed += bytes.fromhex(h)
        if len(self.data_seed) > 0xFFFF:
            raise _Err(1, f".DATA holds {len(self.data_seed)} bytes; the data segment holds at most 65535")

    def _define_label(self, tok: Tok, block: Block, line: Line) -> None:
        if tok.text in self.labels:
            prev = self.labels[tok.text][2]
            raise _Err(tok.col, f"label `{tok.text}` already defined on line {prev.number}")
        if len(self.labels) >= limits.ASM_LABELS_MAX:
            raise _Err(tok.col, f"more than {limits.ASM_LABELS_MAX} labels")
        self.labels[tok.text] = (block, len(block.items), line)

    # -- instructions ------------------------------------------------------------------------
    def _statement(self, line: Line) -> Stmt:
        if line.directive is not None:   # .BYTES
            rest = line.rest.text if line.rest else ""
            col = line.rest.col if line.rest else line.directive.col
            h = grammar.strip_blanks(rest)
            h = h[2:] if h.startswith("0x") else h
            if not h or len(h) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", h):
                raise _Err(col, f"`.BYTES` needs hex bytes, found `{rest or 'end of line'}`")
            raw = bytes.fromhex(h)
            return Stmt(line, raw=raw, size=len(raw))
        assert line.mnemonic is not None
        mn = line.mnemonic.text
        m = _RSRV.match(mn)
        if m:
            op = int(m.group(1), 16)
            if self.table[op][0].special != isa.RESERVED:
                raise _Err(line.mnemonic.col, f"`{mn}`: opcode 0x{op:02X} is not a reserved opcode")
            if line.flag is not None or [o for o in line.operands if o.text]:
                raise _Err(line.mnemonic.col, f"`{mn}` takes no flag and no operands")
            return Stmt(line, raw=bytes([op]), size=1)
        cands = self.index.get(mn) or (self.index.get(mn.lower(), []) if mn.lower() == "nop" else [])
        if not cands:
            close = _close(mn, list(self.index), 3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise _Err(line.mnemonic.col, f"unknown instruction `{mn}`{hint}")
        key = (mn, line.mnemonic.col, line.flag and (line.flag.text, line.flag.col),
               tuple((o.text, o.col) for o in line.operands))
        hit = self.matched.get(key)
        if hit is not None:
            return Stmt(line, hit[0], hit[1], size=hit[2])
        operands = [o for o in line.operands]
        if len(operands) == 1 and not operands[0].text:
            operands = []
        operands = [self._substitute(o) for o in operands]
        # first the candidates whose shape fits (no exceptions, no messages built), then - when
        # none matched - all of them again, for the most specific error
        for syn in cands:
            if _could_match(line, syn, operands):
                try:
                    fields = self._match(line, syn, operands)
                except _Match:
                    continue
                return self._matched(key, line, syn, fields)
        best: Optional[tuple[int, _Err]] = None
        for syn in cands:
            try:
                fields = self._match(line, syn, operands)
            except _Match as e:
                if best is None or e.score > best[0]:
                    best = (e.score, e.err)
                continue
            return self._matched(key, line, syn, fields)  # pragma: no cover - _could_match is necessary
        assert best is not None
        err = best[1]
        if len(cands) > 1 and best[0] <= 0:
            forms = "; ".join(sorted({s.hint for s in cands if not s.rejected}))
            err = _Err(err.col, f"{err.message}; `{mn}` forms: {forms}")
        raise err

    def _matched(self, key: tuple, line: Line, syn: Syntax, fields: dict[str, Any]) -> Stmt:
        if syn.rejected:
            assert line.mnemonic is not None
            raise _Err(line.mnemonic.col, syn.rejected)
        size = 1 + syn.form.arg_bits // 8
        self.matched[key] = (syn, fields, size)
        return Stmt(line, syn, fields, size=size)

    def _substitute(self, tok: Tok) -> Tok:
        plain = tok.text if '"' not in tok.text else grammar.STRING.re.sub(  # type: ignore[union-attr]
            lambda m: "_" * len(m.group(0)), tok.text)
        gap = _WORD_GAP.search(plain)
        if gap is not None:
            raise _Err(tok.col + gap.start() + 1,
                       f"`{tok.text}`: a blank inside an operand (a missing comma?)")
        text = grammar.strip_blanks(tok.text)
        if "$" not in text or text.startswith('"'):
            return Tok(text, tok.col, tok.text)

        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name in self.consts:
                return self.consts[name]
            if name in self.inputs:
                return self.inputs[name].register
            col = tok.col + max(tok.text.find(m.group(0)), 0)
            known = list(self.consts) + list(self.inputs)
            close = _close(name, known, 1)
            hint = f" (did you mean ${close[0]}?)" if close else ""
            raise _Err(col, f"unknown name `${name}`{hint}: define it under .CONST or .INPUT")
        out = _SYM.sub(sub, text)
        return Tok(out, tok.col, f"{tok.text.strip()} = {out}" if out != text else tok.text)

    def _match(self, line: Line, syn: Syntax, operands: list[Tok]) -> dict[str, Any]:
        fields: dict[str, Any] = dict(syn.fixed)
        mcol = line.mnemonic.col if line.mnemonic else 1
        if syn.flag is None:
            if line.flag is not None:
                assert line.mnemonic is not None  # the only caller (_statement) asserted it
                raise _Match(0, _Err(line.flag.col, f"`{line.mnemonic.text}` takes no `.{line.flag.text}` "
                                                    f"flag here; expected `{syn.hint}`"))
        else:
            fname = syn.flag[1]
            table = syn.flag_letters
            if line.flag is None:
                raise _Match(0, _Err(mcol, f"`{syn.mnemonic}` needs a flag: one of "
                                           + ", ".join(f"{syn.mnemonic}.{k}" for k in table)))
            if line.flag.text not in table:
                raise _Match(0, _Err(line.flag.col, f"unknown flag `.{line.flag.text}` for `{syn.mnemonic}`; "
                                                    f"expected one of {', '.join(table)}"))
            fields[fname] = table[line.flag.text]
        ops = list(operands)
        if syn.trailing_comma and len(ops) == len(syn.operands) + 1 and not ops[-1].text:
            ops.pop()
        if len(ops) != len(syn.operands):
            n = len(syn.operands)
            col = ops[n].col if len(ops) > n else (ops[-1].col + len(ops[-1].text) if ops else mcol)
            raise _Match(1 if len(ops) > n else 0,
                         _Err(col, f"`{syn.mnemonic}` takes {n} operand{'s' if n != 1 else ''} "
                                   f"(`{syn.hint}`), found {len(ops)}"))
        for i, (tok, pat) in enumerate(zip(ops, syn.operands)):
            try:
                self._bind(syn, pat, tok, fields)
            except _Err as e:
                raise _Match(2 * (2 + i) + e.specific, e) from None
        return fields

    def _bind(self, syn: Syntax, pat: Any, tok: Tok, fields: dict[str, Any]) -> None:
        form = syn.form
        text = tok.text
        if not text:
            raise _Err(tok.col, f"empty operand; expected `{pat.hint}`")
        if pat.value_kind is None:
            m = pat.regex.match(text)
            if not m:
                raise _Err(tok.col, f"`{tok.shown}` does not fit `{pat.hint}` (in `{syn.hint}`)")
            bindings = syn.bindings
            for g, kind, fname in pat.groups:
                s = m.group(g)
                if kind in ("i", "S"):
                    v = int(s)
                    lim = bindings[g]
                    if v > lim:
                        what = "s16" if kind == "S" else "register"
                        raise _Err(tok.col + m.start(g), f"{what} index {v} out of range 0..{lim} "
                                                         f"in `{tok.shown}`", True)
                else:
                    v = bindings[g][s]
                if fname in fields and fields[fname] != v:
                    raise _Err(tok.col + m.start(g),
                               f"`{text}`: `{s}` does not match the register of the other operand "
                               f"(`{syn.hint}` uses one register family)", True)
                fields[fname] = v
            return
        kind, fname = pat.value_kind, pat.value_field
        if kind == "h16":
            fields[fname] = _target(text, tok.col)
        elif kind in ("d", "x16"):
            fields[fname] = _int_in(text, tok.col, 0, field_limit(form, fname))
        elif kind == "stepabs":
            if syn.step_sign > 0:
                fields[fname] = _int_in(text, tok.col, 0, 127)
            else:
                fields[fname] = -_int_in(text, tok.col, 0, 128)
        elif kind == "site":
            pos, sep, lib = text.partition("@")
            if not sep or not pos or not lib:
                raise _Err(tok.col, f"`{text}` is not a call site `POS @ LIB`")
            fields[fname] = _target(pos, tok.col)
            shown = tok.shown
            at = shown.find("@")
            lcol = tok.col + at + 1 + (len(shown[at + 1:]) - len(shown[at + 1:].lstrip())) if at >= 0 else tok.col
            fields["__lib"] = self.lib_alias[lib] if lib in self.lib_alias else _lib_id(lib, lcol)
        elif kind == "val":
            try:
                fields["__put"] = self._put_value(form, fields["reg"], text, tok.col)
            except _Err as e:
                raise _Err(e.col, e.message.replace(f"`{text}`", f"`{tok.shown}`", 1)) from None
        elif kind == "bytes":
            fields["__put"] = self._put_bytes(text, tok.col)
        else:  # pragma: no cover
            raise _Err(tok.col, f"unsupported operand kind {kind}")

    def _put_value(self, form: isa.Form, reg: int, text: str, col: int) -> tuple:
        m = _DATA_REF.match(text)
        if m:
            if m.group(2) is not None:
                raise _Err(col, f"`{text}`: a register put takes `data[OFFSET]` (no range)")
            return ("ref", _int_in(m.group(1), col + 5, 0, 0xFFFF))
        if text == "~":
            raise _Err(col, "`~` (undefined value) cannot be assembled: the reference's encoder fails "
                            "on it (PutNoNumber); write data[OFFSET] to point past the data")
        width = put_width(form, reg)
        if form.key == "put_f":
            bits = _float_operand(reg, text, col)
            return ("blob", bits.to_bytes(width, "little"))
        bits_w = width * 8
        name = (isa.A_NAMES[reg] if form.key in ("put_a", "putif_a") else isa.R_NAMES[reg])
        kind = grammar.literal_kind(text)
        v = numfmt.parse_int(text) if kind == "int" else None
        if v is None:
            if kind == "string":
                raise _Err(col, f"`{text}`: a string goes into s16 registers; {name} takes a number")
            raise _Err(col, f"`{text}` is not an integer literal for {name} "
                            "(decimal, 0x hex, 0o octal or 0b binary)")
        if v < 0:
            if form.key not in ("put_a", "putif_a") or v < -(1 << (bits_w - 1)):
                raise _Err(col, f"`{text}` does not fit {name} ({bits_w} bits)")
            v += 1 << bits_w
        if v >> bits_w:
            raise _Err(col, f"`{text}` does not fit {name} ({bits_w} bits)")
        return ("blob", v.to_bytes(width, "little"))

    def _put_bytes(self, text: str, col: int) -> tuple:
        m = _DATA_REF.match(text)
        if m:
            if m.group(2) is None:
                raise _Err(col, f"`{text}`: a string put takes `data[START..END]`")
            off = _int_in(m.group(1), col + 5, 0, 0xFFFF)
            end = _int_in(m.group(2), col, off, off + 0xFFFF)
            return ("ref", off, end - off)
        if grammar.literal_kind(text) == "string":
            try:
                blob = grammar.unquote(text)
            except ValueError as e:
                raise _Err(col, f"{text}: {e}") from None
        elif grammar.is_hex_bytes(text):
            blob = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
        else:
            raise _Err(col, f"`{text}` is not a byte string (\"text\", 0xHEX or HEX with an even "
                            "number of digits)")
        if len(blob) >= 0xFFFF:
            raise _Err(col, f"byte string of {len(blob)} bytes: the limit is 65534")
        return ("blob", blob)

    # -- pass 2 ------------------------------------------------------------------------------
    def _layout_and_encode(self, isae_str: str) -> Program:
        from aluvm.library.lib import Lib
        stmts: list[Stmt] = []
        label_at: dict[str, int] = {}
        pos = 0
        for block in self.blocks:
            if block.name is not None:
                label_at[block.name] = pos
            for item in block.items:
                if isinstance(item, str):
                    label_at[item] = pos
                    continue
                item.offset = pos
                pos += item.size
                stmts.append(item)
        if pos > CODE_MAX:
            raise self.fail(None, 0, f"code is {pos} bytes; the code segment holds at most 65535")

        # libraries
        libs = set(self.lib_alias.values())
        for st in stmts:
            if st.syntax is not None and "__lib" in st.fields:
                libs.add(st.fields["__lib"])
        lib_list = sorted(libs)
        if len(lib_list) > 255:
            raise self.fail(None, 0, f"{len(lib_list)} libraries referenced; at most 255 fit the libs segment")
        lib_index = {lib: i for i, lib in enumerate(lib_list)}

        writer = DataWriter()
        writer.data += self.data_seed
        code = bytearray()
        listing = []
        for st in stmts:
            try:
                st.encoded = self._encode(st, label_at, lib_index, writer)
            except _Err as e:
                raise self.fail(st.line, e.col, e.message) from None
            except (AssembleError, ValueError) as e:
                col = st.line.mnemonic.col if st.line.mnemonic else 1
                raise self.fail(st.line, col, str(e)) from None
            code += st.encoded
            listing.append((st.offset, st.encoded, st.line.number, st.line.text.strip()))
        try:
            lib = Lib.with_(isae_str, bytes(code), bytes(writer.data), lib_list)
        except AluError as e:
            raise self.fail(None, 0, str(e)) from None
        labels = {k: v for k, v in label_at.items()}
        return Program(lib, labels, dict(self.inputs), dict(self.consts), listing)

    def _encode(self, st: Stmt, labels: dict[str, int], lib_index: dict[bytes, int],
                writer: DataWriter) -> bytes:
        if st.raw is not None:
            return st.raw
        syn = st.syntax
        assert syn is not None
        form = syn.form
        f = dict(st.fields)
        for name in form.args:
            v = f.get(name)
            if isinstance(v, _Label):
                if v.name not in labels:
                    close = _close(v.name, list(labels), 1)
                    hint = f" (did you mean `{close[0]}`?)" if close else ""
                    raise _Err(v.col, f"unknown label `{v.name}`{hint}")
                f[name] = labels[v.name]
                if f[name] > 0xFFFF:
                    raise _Err(v.col, f"label `{v.name}` is at offset {f[name]}, past 65535")
        if form.special == isa.PUT:
            put = f["__put"]
            f["off"] = put[1] if put[0] == "ref" else writer.unique(put[1])
        elif form.special == isa.PUT_S:
            put = f["__put"]
            if put[0] == "ref":
                f["off"], f["len"] = put[1], put[2]
            else:
                f["off"], f["len"] = writer.unique(put[1]), len(put[1])
        elif form.special == isa.CALL:
            f["lib"] = lib_index[f["__lib"]]
        args = tuple(f[name] for name in form.args)
        out = encode(form, args)
        if self.reference:
            if form.special == isa.NOP:
                return b"\x01"
            if form.key == "ins":
                return b"\x3e" + out[1:]
            if form.key == "del_":
                return b"\x3d" + out[1:]
        return out


class _Match(Exception):
    def __init__(self, score: int, err: _Err) -> None:
        super().__init__(err.message)
        self.score = score
        self.err = err


@dataclass
class _Label:
    name: str
    col: int


def _could_match(line: Line, syn: Syntax, ops: list[Tok]) -> bool:
    """Necessary conditions of :meth:`_Assembler._match`: the flag, the operand count and the
    shape of every register operand fit ``syn``."""
    if syn.flag is None:
        if line.flag is not None:
            return False
    elif line.flag is None or line.flag.text not in syn.flag_letters:
        return False
    n = len(ops)
    if syn.trailing_comma and n == len(syn.operands) + 1 and not ops[-1].text:
        n -= 1
    if n != len(syn.operands):
        return False
    for tok, pat in zip(ops, syn.operands):
        if pat.regex is not None and (not tok.text or pat.regex.match(tok.text) is None):
            return False
    return True


def _close(word: str, known: Sequence[str], n: int) -> list:
    """Spelling hints for an unknown name (none for a name too long to be a typo: difflib's
    time grows with the product of the lengths)."""
    if len(word) > 64:
        return []
    return difflib.get_close_matches(word, known, n)


def _target(text: str, col: int) -> Union[int, _Label]:
    if re.fullmatch(grammar.IDENT_RE, text):
        return _Label(text, col)
    if grammar.literal_kind(text) != "int":
        raise _Err(col, f"`{text}` is not a code offset or a label")
    return _int_in(text, col, 0, 0xFFFF)


def _int_in(text: str, col: int, lo: int, hi: int) -> int:
    v = numfmt.parse_int(text) if grammar.literal_kind(text) == "int" else None
    if v is None:
        raise _Err(col, f"`{text}` is not an integer")
    if not lo <= v <= hi:
        raise _Err(col, f"`{text}` is out of range {lo}..{hi}")
    return v


def _float_operand(fc: int, text: str, col: int) -> int:
    name = isa.F_NAMES[fc]
    width = F_BYTES[fc] * 8
    kind = grammar.literal_kind(text)
    if kind == "int" and numfmt.is_radix_int(text):
        v = numfmt.parse_int(text)
        if v is None or v < 0 or v >> width:
            raise _Err(col, f"`{text}`: a hex/binary literal for {name} is its {width}-bit pattern "
                            "and must fit it")
        return v
    if fc == F512:
        raise _Err(col, f"`{text}`: f512 has no float format; give its 512-bit pattern as 0x...")
    bits = numfmt.float_literal_bits(fc, text) if kind in ("int", "float", "special") else None
    if bits is None:
        raise _Err(col, f"`{text}` is not a number for {name} (e.g. 1.5, -2e-3, 42, inf, NaN, "
                        "or 0x... for the raw bit pattern)")
    return bits


def float_bits(fc: int, text: str) -> int:
    """The bits a ``put`` of the literal ``text`` stores in an F register of format ``fc``
    (decimal or special literal: the value; 0x/0b literal: the bit pattern); ValueError
    (an :class:`AsmError`) if it is neither."""
    text = text.strip()
    try:
        return _float_operand(fc, text, 1)
    except _Err as e:
        raise LiteralError(e.message) from None


class LiteralError(AsmError, ValueError):
    """A literal outside a source file (e.g. ``--reg f32[0]=x``) is malformed."""


def _lib_id(text: str, col: int) -> bytes:
    if re.fullmatch(r"[0-9A-Fa-f]{64}", text):
        return bytes.fromhex(text)
    from aluvm.library.ids import parse_lib_id
    try:
        return parse_lib_id(text)
    except AluError as e:
        raise _Err(col, f"`{text}` is not a library id or a .LIBS alias: {e}") from None


def instruction_bytes(text: str, *, reference: bool = False, profile: Any = "reference") -> bytes:
    """Assemble one instruction line (no data segment context); for tests and tools."""
    return assemble(text, profile=profile, reference=reference).code


__all__ = ["assemble", "assemble_file", "read_source", "assemble_program", "Program", "Input", "instruction_bytes"]
