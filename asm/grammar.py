"""The AluAsm line grammar (pyparsing).

A source file is a sequence of lines; ``;`` starts a comment (outside string literals).  Each line
holds at most one statement, optionally preceded by a label::

    line        := [label] [directive | instruction] [comment]
    label       := IDENT ":"                      (followed by a blank, ";" or the end of line)
    directive   := "." NAME rest-of-line          (.ISAE .LIBS .CONST .INPUT .MAIN .ROUTINE
                                                   .DATA .BYTES)
    instruction := MNEMONIC ["." FLAG] [operand ("," operand)*]
    MNEMONIC    := IDENT | "rsrv:" HEX HEX
    operand     := piece+                         (text up to the next "," or ";", with
                                                   "quoted strings" kept whole)

What an operand must look like is not part of this grammar: it is decided by the display
template of the instruction form being matched (:mod:`asm.syntax`).  Literal values are read by
:data:`LITERAL`: integers (decimal, ``0x``, ``0o``, ``0b``, ``_`` separators, optional sign),
decimal floats (``1.5``, ``-2e-3``, ``1.0E+10``), ``inf``/``+Inf``/``-Inf``/``NaN``, double-quoted
strings with C-like escapes (``\\n \\t \\r \\0 \\\\ \\" \\xHH``) and bare even-length hex byte strings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pyparsing as pp

pp.ParserElement.set_default_whitespace_chars(" \t")

IDENT_RE = r"[A-Za-z_][A-Za-z0-9_]*"

IDENT = pp.Regex(IDENT_RE)("ident")
LABEL = pp.Regex(rf"(?P<label>{IDENT_RE}):(?=[ \t;]|$)")
COMMENT = pp.Regex(r";.*")
DIRECTIVE = pp.Regex(r"\.(?P<directive>[A-Za-z]+)\b")
REST = pp.Regex(r"[^;]*")
MNEMONIC = pp.Regex(r"(?P<mnemonic>rsrv:[0-9A-Fa-f]{2}|[A-Za-z_][A-Za-z0-9_]*)"
                    r"(?:\.(?P<flag>[A-Za-z0-9_]+))?(?![:\w.])")
STRING = pp.Regex(r'"(?:[^"\\\n]|\\.)*"')
PIECE = STRING | pp.Regex(r'[^,;"\s]+')


@dataclass
class Tok:
    text: str
    col: int      # 1-based column of the first character
    orig: str = ""  # the source text (before blanks were removed and $names substituted)

    @property
    def shown(self) -> str:
        return self.orig or self.text


def _operand_action(s: str, loc: int, toks: pp.ParseResults) -> Tok:
    return Tok(toks[0], pp.col(loc, s))


OPERAND = pp.original_text_for(pp.OneOrMore(PIECE)).add_parse_action(_operand_action)
EMPTY = pp.Empty().set_parse_action(lambda s, loc, t: Tok("", pp.col(loc, s)))
OPERANDS = (OPERAND | EMPTY) + pp.ZeroOrMore(pp.Suppress(",") + (OPERAND | EMPTY))

INSTRUCTION = pp.Group(MNEMONIC + pp.Group(pp.Optional(OPERANDS))("operands"))("instruction")
STATEMENT = pp.Group(DIRECTIVE + pp.original_text_for(REST)("rest"))("dir") | INSTRUCTION
LINE = (pp.Optional(LABEL) + pp.Optional(STATEMENT) + pp.Optional(pp.Suppress(COMMENT))
        + pp.StringEnd())

# Literals (values of operands and constants)
INT_LIT = pp.Regex(r"[+-]?(?:0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)(?![\w.])")
FLOAT_LIT = pp.Regex(r"[+-]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+"
                     r"|\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?)")
SPECIAL_LIT = pp.Regex(r"[+-]?(?:[Ii]nf|INF|NaN|nan|NAN)\b")
HEX_BYTES = pp.Regex(r"(?:0x)?(?:[0-9A-Fa-f]{2})+")
LITERAL = STRING("string") | FLOAT_LIT("float") | INT_LIT("int") | SPECIAL_LIT("special")


@dataclass
class Line:
    number: int
    text: str
    label: Optional[Tok] = None
    directive: Optional[Tok] = None
    rest: Optional[Tok] = None
    mnemonic: Optional[Tok] = None
    flag: Optional[Tok] = None
    operands: tuple[Tok, ...] = ()


class GrammarError(Exception):
    def __init__(self, col: int, message: str) -> None:
        super().__init__(message)
        self.col = col
        self.message = message


def parse_line(text: str, number: int) -> Line:
    """Parse one source line into its parts (no semantic checks)."""
    try:
        res = LINE.parse_string(text, parse_all=True)
    except pp.ParseBaseException as e:
        found = text[e.loc:].split()[0] if text[e.loc:].strip() else "end of line"
        if found.startswith('"'):
            q = text.find('"', e.loc)
            raise GrammarError(q + 1, "unterminated string literal (a `\"` is missing)") from None
        raise GrammarError(e.loc + 1, f"unexpected `{found}`: expected a label, a directive or an "
                                      "instruction followed by comma-separated operands") from None
    line = Line(number, text)
    lab = res.get("label")
    if lab is not None:
        line.label = Tok(lab, text.index(lab) + 1)
    d = res.get("dir")
    if d is not None:
        name = d["directive"]
        line.directive = Tok(name.upper(), text.index("." + name) + 1)
        rest = d["rest"]
        line.rest = Tok(rest.strip(), text.index("." + name) + len(name) + 2 + (len(rest) - len(rest.lstrip())))
    ins = res.get("instruction")
    if ins is not None:
        mn = ins["mnemonic"]
        start = _find_mnemonic(text, mn, line.label)
        line.mnemonic = Tok(mn, start + 1)
        flag = ins.get("flag")
        if flag is not None:
            line.flag = Tok(flag, start + len(mn) + 2)
        line.operands = tuple(ins["operands"])
    return line


def _find_mnemonic(text: str, mn: str, label: Optional[Tok]) -> int:
    start = 0
    if label is not None:
        start = label.col - 1 + len(label.text) + 1
    return text.index(mn, start)


def strip_blanks(text: str) -> str:
    """Remove blanks outside string literals (operands are matched in this form)."""
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
    """Bytes of a double-quoted string literal (UTF-8, with escapes)."""
    body = lit[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            e = body[i + 1]
            if e == "x" and i + 3 < len(body) + 0 and _is_hex(body[i + 2:i + 4]):
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            raise ValueError(f"unknown escape `\\{e}` (use \\n \\t \\r \\0 \\\\ \\\" or \\xHH)")
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in s)


# Section bodies (lines outside .MAIN/.ROUTINE blocks)
SYMBOL = pp.Regex(rf"\$(?P<sym>{IDENT_RE})")
REGISTER = pp.Regex(r"[a-z][a-z0-9]*\[\s*[0-9]+\s*\]")
_END = pp.Optional(pp.Suppress(COMMENT)) + pp.StringEnd()
DIRECTIVE_LINE = DIRECTIVE + pp.original_text_for(REST)("rest") + _END
ISAE_LINE = pp.ZeroOrMore(pp.Regex(r"[A-Za-z0-9_]+"))("names") + _END
LIBS_LINE = pp.Optional(IDENT("alias") + pp.Regex(r"[^\s;]+")("lib")) + _END
CONST_LINE = pp.Optional(SYMBOL("name") + pp.Optional(pp.Suppress("="))
                         + pp.original_text_for(pp.OneOrMore(PIECE))("value")) + _END
INPUT_LINE = pp.Optional(SYMBOL("name") + REGISTER("reg") + pp.Optional(STRING("desc"))) + _END
DATA_LINE = pp.ZeroOrMore(STRING | pp.Regex(r"(?:0x)?[0-9A-Fa-f]+"))("items") + _END


def parse_with(expr: pp.ParserElement, text: str, what: str) -> pp.ParseResults:
    try:
        return expr.parse_string(text, parse_all=True)
    except pp.ParseBaseException as e:
        rest = text[e.loc:].strip()
        found = rest.split()[0] if rest else "end of line"
        raise GrammarError(e.loc + 1, f"unexpected `{found}`: expected {what}") from None
