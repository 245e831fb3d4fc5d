"""The AluAsm grammar (pyparsing).

A source file is a sequence of lines (``\\n`` or ``\\r\\n``); ``;`` starts a comment (outside
string literals).  Inside ``.MAIN`` and ``.ROUTINE`` sections each line holds at most one
statement, optionally preceded by a label::

    line        := [label] [directive | instruction] [comment]
    label       := IDENT ":"                      (followed by a blank, ";" or the end of line)
    directive   := "." NAME rest-of-line          (.ISAE .LIBS .CONST .INPUT .MAIN .ROUTINE
                                                   .DATA, and .BYTES inside code)
    instruction := MNEMONIC ["." FLAG] [operand ("," operand)*]
    MNEMONIC    := IDENT | "rsrv:" HEX HEX
    operand     := piece+                         (text up to the next "," or ";", with
                                                   "quoted strings" kept whole)

What an operand must look like is not part of this grammar: it is decided by the display
template of the instruction form being matched (:mod:`asm.syntax`).  The other sections have
line grammars of their own (:data:`ISAE_LINE`, :data:`LIBS_LINE`, :data:`CONST_LINE`,
:data:`INPUT_LINE`, :data:`DATA_LINE`).

Literal values (:data:`LITERAL`): integers in decimal, ``0x`` hex, ``0o`` octal or ``0b`` binary
with optional sign and ``_`` separators; decimal floats (``1.5``, ``-2e-3``, ``1.0E+10``);
``inf``/``+Inf``/``-Inf``/``NaN``; double-quoted strings with the escapes ``\\n \\t \\r \\0 \\\\ \\"
\\'`` and ``\\xHH``; byte strings as ``0x`` hex or bare hex with an even number of digits.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Iterator, Optional

import pyparsing as pp

from aluvm import limits

IDENT_RE = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass
class Tok:
    text: str
    col: int      # 1-based column of the first character
    orig: str = ""  # the source text (before blanks were removed and $names substituted)

    @property
    def shown(self) -> str:
        return self.orig or self.text


def _tok(expr: pp.ParserElement, strip: bool = False) -> pp.ParserElement:
    """``expr`` yielding a :class:`Tok` with its column."""
    def action(s: str, loc: int, t: pp.ParseResults) -> Tok:
        text = t[0]
        return Tok(text.rstrip() if strip else text, loc + 1)
    return expr.add_parse_action(action)


@contextmanager
def _blanks_only() -> Iterator[None]:
    """Build elements that skip only blanks (space, tab) - newlines end a line here - without
    changing pyparsing's process-wide default for anyone else: the default is restored on
    exit, and elements keep the whitespace they were built with."""
    saved = pp.ParserElement.DEFAULT_WHITE_CHARS
    pp.ParserElement.set_default_whitespace_chars(" \t")
    try:
        yield
    finally:
        pp.ParserElement.set_default_whitespace_chars(saved)


with _blanks_only():
    COMMENT = pp.Regex(r";.*")
    _END = pp.Optional(pp.Suppress(COMMENT)) + pp.StringEnd()
    STRING = pp.Regex(r'"[^"\\]*(?:\\.[^"\\]*)*"')   # (unrolled: linear at C speed)
    PIECE = STRING | pp.Regex(r'[^,;"\s]+')

    LABEL = _tok(pp.Regex(rf"{IDENT_RE}(?=:(?:[ \t;]|$))"))("label") + pp.Suppress(":")
    DIRECTIVE = _tok(pp.Regex(r"\.[A-Za-z]+(?![\w.:])"))
    REST = _tok(pp.Regex(r"[^;]*"), strip=True)
    MNEMONIC = _tok(pp.Regex(rf"rsrv:[0-9A-Fa-f]{{2}}(?![\w.:])|{IDENT_RE}(?![\w:])"))
    FLAG = pp.Suppress(pp.Literal(".").leave_whitespace()) + _tok(pp.Regex(r"[A-Za-z0-9_]+(?![\w.:])")
                                                                 .leave_whitespace())("flag")
    OPERAND = pp.original_text_for(pp.OneOrMore(PIECE)).add_parse_action(lambda s, loc, t: Tok(t[0], loc + 1))
    EMPTY = pp.Empty().set_parse_action(lambda s, loc, t: Tok("", loc + 1))
    OPERANDS = (OPERAND | EMPTY) + pp.ZeroOrMore(pp.Suppress(",") + (OPERAND | EMPTY))

    INSTRUCTION = (MNEMONIC("mnemonic") + pp.Optional(FLAG)
                   + pp.Group(pp.Optional(OPERANDS))("operands"))
    CODE_DIRECTIVE = DIRECTIVE("directive") + REST("rest")
    CODE_LINE = (pp.Optional(LABEL) + pp.Optional(CODE_DIRECTIVE | INSTRUCTION) + _END)

    # Section bodies (lines outside .MAIN/.ROUTINE)
    SYMBOL = _tok(pp.Regex(rf"\${IDENT_RE}"))
    REGISTER = _tok(pp.Regex(r"[a-z][a-z0-9]*\[[ \t]*[0-9]+[ \t]*\]"))
    DIRECTIVE_LINE = DIRECTIVE("directive") + REST("rest") + _END
    ISAE_LINE = pp.Group(pp.ZeroOrMore(_tok(pp.Regex(r"[A-Za-z0-9_]+"))))("names") + _END
    LIBS_LINE = pp.Optional(_tok(pp.Regex(IDENT_RE))("alias") + _tok(pp.Regex(r"[^\s;]+"))("lib")) + _END
    CONST_LINE = pp.Optional(SYMBOL("name") + pp.Optional(pp.Suppress("="))
                             + pp.original_text_for(pp.OneOrMore(PIECE))
                             .add_parse_action(lambda s, loc, t: Tok(t[0], loc + 1))("value")) + _END
    INPUT_LINE = pp.Optional(SYMBOL("name") + REGISTER("reg") + pp.Optional(_tok(STRING.copy())("desc"))) + _END
    DATA_LINE = pp.Group(pp.ZeroOrMore(_tok(STRING.copy() | pp.Regex(r"(?:0x)?[0-9A-Fa-f]+(?![\w.])"))))("items") + _END

    # Literals
    INT_LIT = pp.Regex(r"[+-]?(?:0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")
    FLOAT_LIT = pp.Regex(r"[+-]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+"
                         r"|\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?)")
    SPECIAL_LIT = pp.Regex(r"[+-]?(?:[Ii]nf|INF|NaN|nan|NAN)")
    HEX_BYTES = pp.Regex(r"(?:0[xX])?(?:[0-9A-Fa-f]{2})+")
    LITERAL = (STRING.copy()("string") | FLOAT_LIT("float") | INT_LIT("int") | SPECIAL_LIT("special")) + pp.StringEnd()


_LITERAL_KINDS = (("string", STRING.re), ("float", FLOAT_LIT.re), ("int", INT_LIT.re),  # type: ignore[attr-defined]
                  ("special", SPECIAL_LIT.re))  # type: ignore[attr-defined]


def literal_kind(text: str) -> Optional[str]:
    """``"string"``, ``"float"``, ``"int"`` or ``"special"`` (None: not a literal).  The
    grammar's :data:`LITERAL` read with its own regular expressions (first alternative that
    matches, then the end of the text, as pyparsing's MatchFirst does); see
    :func:`grammar_literal_kind` and its differential test."""
    if text.isdigit() and text.isascii():   # the commonest literal: only INT_LIT matches it
        return "int"
    if "\t" in text:
        text = text.expandtabs()
    t = text.lstrip(" \t")
    for kind, rx in _LITERAL_KINDS:
        m = rx.match(t)
        if m is not None:
            return kind if not t[m.end():].strip(" \t") else None
    return None


def grammar_literal_kind(text: str) -> Optional[str]:
    """:func:`literal_kind` through pyparsing."""
    try:
        res = LITERAL.parse_string(text, parse_all=True)
    except pp.ParseBaseException:
        return None
    for kind in ("string", "float", "int", "special"):
        if kind in res:
            return kind
    return None  # pragma: no cover


def is_hex_bytes(text: str) -> bool:
    """``HEX_BYTES`` as a whole (the grammar's regular expression, blanks around allowed)."""
    return HEX_BYTES.re.fullmatch(text.expandtabs().strip(" \t")) is not None  # type: ignore[attr-defined]


def grammar_is_hex_bytes(text: str) -> bool:
    try:
        HEX_BYTES.parse_string(text, parse_all=True)
    except pp.ParseBaseException:
        return False
    return True


@dataclass
class Line:
    number: int
    text: str
    label: Optional[Tok] = None
    directive: Optional[Tok] = None     # name without the dot, upper case
    rest: Optional[Tok] = None
    mnemonic: Optional[Tok] = None
    flag: Optional[Tok] = None
    operands: tuple[Tok, ...] = ()


class GrammarError(Exception):
    def __init__(self, col: int, message: str) -> None:
        super().__init__(message)
        self.col = col
        self.message = message


def parse_with(expr: pp.ParserElement, text: str, what: str) -> pp.ParseResults:
    """Parse a whole line with ``expr``; a :class:`GrammarError` names the offending token."""
    try:
        return expr.parse_string(text, parse_all=True)
    except pp.ParseBaseException as e:
        loc = min(e.loc, len(text))
        rest = text[loc:].strip()
        found = rest.split()[0] if rest else "end of line"
        if found.startswith('"'):
            raise GrammarError(loc + 1, "unterminated string literal (a `\"` is missing)") from None
        raise GrammarError(loc + 1, f"unexpected `{found}`: expected {what}") from None


#: the common line shape: ``[label:] mnemonic[.flag] [operands] [; comment]`` with operands
#: free of string literals.  :func:`parse_line` reads such lines with one regular expression and
#: gives exactly what the grammar gives (``tests/test_asm_fast.py`` checks this differentially);
#: any other line goes through the grammar.
_FAST = re.compile(r"[ \t]*(?:(?P<label>" + IDENT_RE + r"):(?=[ \t;]|$)[ \t]*)?"
                   r"(?:(?P<mn>rsrv:[0-9A-Fa-f]{2}(?![\w.:])|" + IDENT_RE + r"(?![\w:]))"
                   r"(?:\.(?P<flag>[A-Za-z0-9_]+))?"
                   r"(?P<ops>(?=[ \t;]|$)(?:[^;\"\s]++|[ \t]++)*+))?[ \t]*(?:;.*)?")
_FAST_DIRECTIVE = re.compile(r"[ \t]*(?:(?P<label>" + IDENT_RE + r"):(?=[ \t;]|$)[ \t]*)?"
                             r"(?P<dir>\.[A-Za-z]+)(?![\w.:])[ \t]*(?P<rest>[^;]*)(?:;.*)?")
_BLANKS = " \t"


def fast_parse_line(text: str, number: int) -> Optional[Line]:
    """:func:`parse_line` for the common line shape, or None if ``text`` is not of that shape."""
    line = Line(number, text)
    if "\t" in text:   # the grammar reads the line with tabs expanded (pyparsing's default)
        text = text.expandtabs()
    m = _FAST.fullmatch(text)
    if m is None:
        d = _FAST_DIRECTIVE.fullmatch(text)
        if d is None:
            return None
        if d.group("label") is not None:
            line.label = Tok(d.group("label"), d.start("label") + 1)
        name = d.group("dir")
        line.directive = Tok(name[1:].upper(), d.start("dir") + 1, name)
        line.rest = Tok(d.group("rest").rstrip(), d.start("rest") + 1)
        return line
    if m.group("label") is not None:
        line.label = Tok(m.group("label"), m.start("label") + 1)
    if m.group("mn") is None:
        return line
    line.mnemonic = Tok(m.group("mn"), m.start("mn") + 1)
    if m.group("flag") is not None:
        line.flag = Tok(m.group("flag"), m.start("flag") + 1)
    ops: list[Tok] = []
    start, end = m.start("ops"), m.end("ops")
    while True:
        comma = text.find(",", start, end)
        stop = end if comma < 0 else comma
        seg = text[start:stop]
        body = seg.lstrip(_BLANKS)
        ops.append(Tok(body.rstrip(_BLANKS), stop - len(body) + 1))
        if comma < 0:
            break
        start = comma + 1
    line.operands = tuple(ops)
    return line


_DATA_ITEM = re.compile(r"(?:0x)?[0-9A-Fa-f]+")
_NONBLANK = re.compile(r"[^ \t]+")


def fast_data_items(text: str) -> Optional[list[Tok]]:
    """The items of a ``.DATA`` line of hex words (what :data:`DATA_LINE` gives), or None if
    the line has another shape (strings, errors: the grammar reads those)."""
    if '"' in text:
        return None
    if "\t" in text:
        text = text.expandtabs()
    body = text.split(";", 1)[0]
    items: list[Tok] = []
    end = 0
    for m in _NONBLANK.finditer(body):
        if _DATA_ITEM.fullmatch(m.group(0)) is None:
            return None
        # (the grammar's repeated items report the column where the previous one ended)
        items.append(Tok(m.group(0), (end if items else m.start()) + 1))
        end = m.end()
    return items


#: fast paths for the section-line grammars (:data:`DIRECTIVE_LINE`, :data:`ISAE_LINE`,
#: :data:`LIBS_LINE`, :data:`CONST_LINE`, :data:`INPUT_LINE`, :data:`DATA_LINE`): one regular
#: expression each, with atomic groups where pyparsing does not backtrack.  Each gives exactly
#: what the grammar gives or None (then the grammar reads the line, and reports any error);
#: ``tests/test_asm_fast.py`` checks this differentially.  They keep a source of many section
#: lines (constants, inputs, data) as fast as one of instructions.
_END_RX = r"[ \t]*(?:;.*)?"
_STRING_RX = STRING.re.pattern  # type: ignore[union-attr]
_SECTION_RX = {
    "directive": re.compile(r"[ \t]*(?P<directive>\.[A-Za-z]+)(?![\w.:])[ \t]*(?P<rest>[^;]*)(?:;.*)?"),
    "isae": re.compile(r"[ \t]*(?P<names>(?:(?>[A-Za-z0-9_]+)[ \t]*)*)" + _END_RX),
    "libs": re.compile(r"[ \t]*(?:(?P<alias>(?>" + IDENT_RE + r"))[ \t]*(?P<lib>(?>[^\s;]+)))?" + _END_RX),
    "const": re.compile(r"[ \t]*(?:(?P<name>(?>\$" + IDENT_RE + r"))(?>(?:[ \t]*=)?)[ \t]*"
                        r"(?P<value>(?>[^,;\"\s]+)(?:[ \t]*(?>[^,;\"\s]+))*+))?" + _END_RX),
    "input": re.compile(r"[ \t]*(?:(?P<name>(?>\$" + IDENT_RE + r"))[ \t]*"
                        r"(?P<reg>(?>[a-z][a-z0-9]*\[[ \t]*[0-9]+[ \t]*\]))"
                        r"(?:[ \t]*(?P<desc>(?>" + _STRING_RX + r")))?)?" + _END_RX),
    "data": re.compile(r"[ \t]*(?P<items>(?:(?>" + _STRING_RX + r"|(?:0x)?[0-9A-Fa-f]+(?![\w.]))[ \t]*)*)"
                       + _END_RX),
}
_ITEM_RX = {"isae": re.compile(r"[A-Za-z0-9_]+"),
            "data": re.compile(_STRING_RX + r"|(?:0x)?[0-9A-Fa-f]+(?![\w.])")}


_BLANK_RUN = re.compile(r"[ \t]+")


def check_line_size(text: str, pieces: bool) -> None:
    """A :class:`GrammarError` if the line (outside strings and its comment) has more commas
    than any instruction takes or - ``pieces``: before the full grammar reads it - more
    blank-separated pieces than :data:`limits.ASM_LINE_PIECES_MAX`: such a line is never valid,
    and reading it piece by piece would take seconds per MiB."""
    plain = text if '"' not in text else STRING.re.sub('""', text)  # type: ignore[union-attr]
    semi = plain.find(";")
    if semi >= 0:
        plain = plain[:semi]
    if plain.count(",") > limits.ASM_LINE_COMMAS_MAX:
        raise GrammarError(1, f"more than {limits.ASM_LINE_COMMAS_MAX} commas on one line "
                              "(no instruction takes more than 4 operands)")
    if pieces and len(plain) > limits.ASM_LINE_PIECES_MAX \
            and _more_than(_BLANK_RUN.finditer(plain), limits.ASM_LINE_PIECES_MAX):
        raise GrammarError(1, f"more than {limits.ASM_LINE_PIECES_MAX} blank-separated pieces "
                              "on a line of an unusual shape")


def _more_than(it: Iterator, n: int) -> bool:
    for k, _ in enumerate(it):
        if k >= n:
            return True
    return False


#: items a fast section line may hold (more: a GrammarError before they are all read)
_ITEMS_MAX = {"names": limits.ASM_ISAE_NAMES_MAX, "items": limits.ASM_DATA_ITEMS_MAX}


def fast_section_line(kind: str, text: str) -> Optional[dict]:
    """What ``parse_with(<kind>_LINE, text)`` gives, as a dict of :class:`Tok` (``items``: a
    list), or None if the line needs the grammar."""
    if "\t" in text:
        text = text.expandtabs()
    m = _SECTION_RX[kind].fullmatch(text)
    if m is None:
        return None
    out: dict = {}
    for name, value in m.groupdict().items():
        if value is None:
            continue
        start = m.start(name)
        if name in ("items", "names"):
            items: list[Tok] = []
            end = 0
            cap = _ITEMS_MAX[name]
            for t in _ITEM_RX[kind].finditer(value):
                if len(items) >= cap:
                    raise GrammarError(start + t.start() + 1, f"more than {cap} items on one line")
                # (the grammar's repeated data items - a MatchFirst - report the column where the
                # previous one ended)
                col = end if items and kind == "data" else start + t.start()
                items.append(Tok(t.group(0), col + 1))
                end = start + t.end()
            out[name] = items
        else:
            out[name] = Tok(value.rstrip() if name == "rest" else value, start + 1)
    return out


def section_line(kind: str, expr: pp.ParserElement, text: str, what: str) -> Any:
    """A section line through its fast path, else through the grammar (:func:`parse_with`)."""
    res = fast_section_line(kind, text)
    if res is not None:
        return res
    check_line_size(text, pieces=True)
    return parse_with(expr, text, what)


_CACHE: dict[str, Line] = {}
_CACHE_MAX = 4096


def parse_line(text: str, number: int) -> Line:
    """Parse one line of a code section into its parts (no semantic checks).  Results are
    cached by text (a line's parts do not depend on where it stands)."""
    hit = _CACHE.get(text)
    if hit is not None:
        return replace(hit, number=number)
    if len(text) > 2 * limits.ASM_LINE_COMMAS_MAX:
        check_line_size(text, pieces=False)
    line = fast_parse_line(text, number)
    if line is None:
        check_line_size(text, pieces=True)
        line = grammar_parse_line(text, number)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[text] = line
    return line


def grammar_parse_line(text: str, number: int) -> Line:
    """:func:`parse_line` through the full pyparsing grammar."""
    res = parse_with(CODE_LINE, text, "a label, a directive or an instruction followed by "
                                      "comma-separated operands")
    line = Line(number, text)
    if "label" in res:
        line.label = res["label"]
    if "directive" in res:
        d: Tok = res["directive"]
        line.directive = Tok(d.text[1:].upper(), d.col, d.text)
        line.rest = res["rest"]
    if "mnemonic" in res:
        line.mnemonic = res["mnemonic"]
        if "flag" in res:
            line.flag = res["flag"]
        line.operands = tuple(res["operands"])
    return line


def strip_blanks(text: str) -> str:
    """Remove blanks outside string literals (operands are matched in this form)."""
    if '"' not in text:
        return "".join(text.split())   # str.split() splits on what str.isspace() calls blank
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            m = STRING.re.match(text, i)  # type: ignore[union-attr]
            if m:
                out.append(m.group(0))
                i = m.end()
                continue
        if not c.isspace():
            out.append(c)
        i += 1
    return "".join(out)


_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39}


def unquote(lit: str) -> bytes:
    """Bytes of a double-quoted string literal (UTF-8, with escapes); ValueError if malformed."""
    if len(lit) < 2 or lit[0] != '"' or lit[-1] != '"':
        raise ValueError("not a quoted string")
    body = lit[1:-1]
    if "\\" not in body:     # no escapes: the UTF-8 bytes (at C speed, for long strings)
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the string is not valid Unicode") from None
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            e = body[i + 1:i + 2]
            if e == "x" and _is_hex(body[i + 2:i + 4]):
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            raise ValueError(f"unknown escape `\\{e}` (use \\n \\t \\r \\0 \\\\ \\\" \\' or \\xHH)")
        try:
            out += c.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the string is not valid Unicode") from None
        i += 1
    return bytes(out)


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in s)
