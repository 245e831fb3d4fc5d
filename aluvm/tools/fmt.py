"""``aluvm fmt``: AluAsm source in canonical layout.

The layout (every rule keeps the assembled library byte-identical, which :func:`format_file`
checks before writing anything):

* section directives (``.MAIN``, ``.ROUTINE name``, ``.CONST`` ...) at column 0, one blank line
  before each one (except at the top of the file);
* a label at column 0 followed by ``:``; the statement on the same line at column 8 (one blank
  when the label is longer);
* an instruction as ``mnemonic[.flag]`` padded to 8 columns, then the operands separated by
  ``,`` without blanks (blanks inside string literals stay);
* every other section's lines indented by 8, blank runs outside string literals made single;
  ``.INPUT`` lines in columns (each field but the last padded to 8, two blanks at least);
* a trailing comment at column 40 (one blank after longer code), ``; `` comments on their own
  line indented like the code around them; trailing blanks removed, tabs expanded, at most one
  blank line in a row, one newline at the end.

Formatting is idempotent: formatting formatted text changes nothing.
"""
from __future__ import annotations

from aluvm.errors import InputError

from pathlib import Path
from typing import Any, Optional

from aluvm.asm import grammar

INDENT = 8
COMMENT_COL = 40
CODE_SECTIONS = ("MAIN", "ROUTINE")


class FormatError(InputError):
    """The source cannot be formatted (it does not assemble, or a rule would change it)."""


def split_comment(text: str) -> tuple[str, str]:
    """``(code, comment)``: the comment starts at the first ``;`` outside a string literal."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            m = grammar.STRING.re.match(text, i)  # type: ignore[union-attr]
            if m:
                i = m.end()
                continue
        if c == ";":
            return text[:i], text[i:]
        i += 1
    return text, ""


def collapse(text: str) -> str:
    """Blank runs outside string literals become one blank; ends trimmed."""
    out: list[str] = []
    i, n, blank = 0, len(text), False
    while i < n:
        c = text[i]
        if c == '"':
            m = grammar.STRING.re.match(text, i)  # type: ignore[union-attr]
            if m:
                if blank and out:
                    out.append(" ")
                blank = False
                out.append(m.group(0))
                i = m.end()
                continue
        if c.isspace():
            blank = True
        else:
            if blank and out:
                out.append(" ")
            blank = False
            out.append(c)
        i += 1
    return "".join(out)


def _with_comment(code: str, comment: str) -> str:
    if not comment:
        return code.rstrip()
    comment = comment.rstrip()
    if not code.strip():
        return comment
    code = code.rstrip()
    return f"{code:<{COMMENT_COL}}{comment}" if len(code) < COMMENT_COL else f"{code} {comment}"


def _statement(line: grammar.Line) -> str:
    """The canonical text of a code line's statement (instruction or directive)."""
    if line.directive is not None:
        rest = collapse(line.rest.text) if line.rest is not None else ""
        head = "." + line.directive.text
        return f"{head:<{INDENT}}{rest}".rstrip() if rest else head
    if line.mnemonic is None:
        return ""
    head = line.mnemonic.text + (f".{line.flag.text}" if line.flag is not None else "")
    ops = ",".join(grammar.strip_blanks(o.text) for o in line.operands)
    return f"{head:<{INDENT}}{ops}".rstrip() if ops else head


def _code_line(code: str, number: int) -> tuple[str, bool]:
    """A code-section line (without its comment): the text and whether it holds a statement."""
    try:
        line = grammar.parse_line(code, number)
    except grammar.GrammarError as e:
        raise FormatError(f"line {number}:{e.col}: {e.message}") from None
    stmt = _statement(line)
    if line.label is not None:
        label = line.label.text + ":"
        if not stmt:
            return label, True
        return (f"{label:<{INDENT}}{stmt}" if len(label) < INDENT else f"{label} {stmt}"), True
    return (" " * INDENT + stmt if stmt else ""), bool(stmt)


_SECTION_DIRECTIVES = ("ISAE", "LIBS", "CONST", "INPUT", "MAIN", "ROUTINE", "DATA")


def format_source(text: str) -> str:
    """The canonical layout of AluAsm source ``text`` (see the module docstring)."""
    out: list[str] = []
    section = "MAIN"
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        raw = raw.expandtabs(INDENT)
        code, comment = split_comment(raw)
        stripped = code.strip()
        if stripped.startswith(".") and stripped[1:].split(" ")[0].upper() in _SECTION_DIRECTIVES:
            name, _, rest = stripped[1:].partition(" ")
            section = name.upper()
            head = "." + name + (" " + collapse(rest) if rest.strip() else "")
            if out and out[-1] != "":
                out.append("")
            out.append(_with_comment(head, comment))
            continue
        if not stripped:
            if comment:
                indent = 0 if raw.startswith(";") else INDENT
                out.append(" " * indent + comment.rstrip())
            elif out and out[-1] != "":
                out.append("")
            continue
        if section in CODE_SECTIONS:
            body, _ = _code_line(code, number)
        elif section == "INPUT":
            body = " " * INDENT + _columns(collapse(code))
        else:
            body = " " * INDENT + collapse(code)
        out.append(_with_comment(body, comment))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _columns(text: str) -> str:
    """``$name  reg  "description"``: every field but the last padded to 8 columns, with at
    least two blanks after it."""
    fields, i, start = [], 0, 0
    while i <= len(text):
        if i == len(text) or text[i] == " ":
            fields.append(text[start:i])
            start = i + 1
        elif text[i] == '"':
            m = grammar.STRING.re.match(text, i)  # type: ignore[union-attr]
            if m:
                i = m.end()
                continue
        i += 1
    head = "".join(f"{f:<{max(INDENT, len(f) + 2)}}" for f in fields[:-1])
    return head + fields[-1]


def format_file(path: str | Path, profile: str = "reference", write: bool = True
                ) -> tuple[str, bool]:
    """Format a file; returns the new text and whether it changed.  The file must assemble,
    and its formatted text must assemble to the same library (else :class:`FormatError` and
    nothing is written)."""
    from aluvm.asm import assemble
    from aluvm.asm.assembler import read_source
    p = Path(path)
    text = read_source(p)
    before = assemble(text, str(p), profile=profile)
    new = format_source(text)
    after = _assemble_or_none(new, str(p), profile)
    if after is None or (after.code, after.data, after.libs, after.isae_string()) != (
            before.code, before.data, before.libs, before.isae_string()):
        raise FormatError(f"{p}: formatting would change the assembled library; left unchanged")
    changed = new != text
    if write and changed:
        p.write_text(new)
    return new, changed


def _assemble_or_none(text: str, name: str, profile: str) -> Optional[Any]:
    from aluvm.asm import assemble
    from aluvm.errors import AsmError
    try:
        return assemble(text, name, profile=profile)
    except AsmError:
        return None


__all__ = ["format_source", "format_file", "FormatError", "split_comment", "collapse"]
