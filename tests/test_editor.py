"""Editor support: the generated TextMate grammar and `aluvm fmt`."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

from aluvm.asm import assemble, disassemble
from aluvm.isa import table as isa
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.tools.fmt import FormatError, format_file, format_source, split_comment
from aluvm.tools.textmate import grammar, render

GRAMMAR_FILE = ROOT / "editors" / "aluasm.tmLanguage.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.aluasm"))


# ---- the grammar --------------------------------------------------------------------------

def test_committed_grammar_is_what_the_generator_gives() -> None:
    assert GRAMMAR_FILE.read_text() == render(), \
        "regenerate: python -m aluvm.tools.textmate > editors/aluasm.tmLanguage.json"


def _rule(name: str) -> re.Pattern:
    return re.compile(json.loads(GRAMMAR_FILE.read_text())["repository"][name]["match"], re.M)


def test_grammar_highlights_every_mnemonic_of_the_table() -> None:
    control, instruction = _rule("control"), _rule("instruction")
    for form in isa.FORMS + [isa.BLAKE3_FORM]:
        word = form.display.split()[0].split(".")[0]
        if word.startswith("{"):          # stp: shown as inc/dec/add/sub
            continue
        word = word.lower()
        rule = control if form.flow.control and not form.flow.stays else instruction
        m = rule.match(word + " ")
        assert m and m.group(1) == word, (form.key, word)
    assert control.match("jmp     loop") and not instruction.match("jmp     loop")
    assert instruction.match("add.uc  a64[0],a64[1]").group(3) == "uc"
    assert not instruction.match("loop:")   # a label named like an instruction is a label


def test_grammar_scopes_registers_labels_comments_directives() -> None:
    assert _rule("register").search("mov a1024[31],a1024[0]").group(1) == "a1024"
    assert _rule("register").search("eq s16[2],s16[3]").group(3) == "2"
    assert _rule("label").match("loop:   add.uc a64[1],a64[0]").group(1) == "loop"
    assert _rule("comment").search("ret   ; done").group(0) == "; done"
    m = _rule("directive").match(".ROUTINE square   ; a64[4]")
    assert m.group(1) == ".ROUTINE" and m.group(2) == "square"
    g = grammar()
    assert g["scopeName"] == "source.aluasm" and g["fileTypes"] == ["aluasm"]


# ---- fmt ------------------------------------------------------------------------------------

MESSY = """\
; a program
.CONST
   $limit   =    10
.INPUT
 $value a64[0]   "the   value"
.MAIN
\tput a64[1] , $limit   ;  the limit
loop:  lt.u $value,a64[1]
verylonglabel:   jif   loop
   ; inside
       put s16[0] , "a;  b"


ret
.ROUTINE  sub1
  ret
"""

CANONICAL = """\
; a program

.CONST
        $limit = 10

.INPUT
        $value  a64[0]  "the   value"

.MAIN
        put     a64[1],$limit           ;  the limit
loop:   lt.u    $value,a64[1]
verylonglabel: jif     loop
        ; inside
        put     s16[0],"a;  b"

        ret

.ROUTINE sub1
        ret
"""


def test_messy_source_in_canonical_layout() -> None:
    assert format_source(MESSY) == CANONICAL
    assert format_source(CANONICAL) == CANONICAL
    assert assemble(MESSY).id == assemble(CANONICAL).id


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_canonical(path) -> None:
    text = path.read_text()
    assert format_source(text) == text


def _perturb(text: str, rnd: random.Random) -> str:
    """The same program with other blanks: indentation, blanks around commas, trailing."""
    out = []
    for line in text.splitlines():
        line, comment = split_comment(line)
        if not line.strip() or '"' in line:
            out.append(line + comment)
            continue
        line = re.sub(r"^\s+", lambda m: rnd.choice(["", " ", "\t", "   "]) if m.group(0) else "", line)
        line = re.sub(r",", lambda m: rnd.choice([",", " ,", ", ", " , "]), line)
        line = re.sub(r"(?<=\S) {2,}", lambda m: " " * rnd.randint(1, 5), line)
        out.append(line + rnd.choice(["", " ", "\t"]) + comment)
    return "\n".join(out) + "\n"


_OPCODES = [f.opcode for f in isa.FORMS if not f.flow.stays]     # (not the spinning nop)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_OPCODES), st.binary(min_size=4, max_size=4)),
                min_size=1, max_size=12), st.integers(0, 2**32))
def test_fmt_keeps_random_programs_byte_identical(instrs, seed) -> None:
    """Disassembled random programs, re-spaced: fmt gives the same text for both and the same
    library; formatting is idempotent."""
    code = b"".join(bytes([op]) + arg for op, arg in instrs)
    lib = Lib.with_(DEFAULT_ISAE, code, bytes(range(64)))
    source = disassemble(lib)
    ref = assemble(source)
    messy = _perturb(source, random.Random(seed))
    assert assemble(messy).id == ref.id
    formatted = format_source(messy)
    assert format_source(formatted) == formatted
    assert formatted == format_source(source)
    assert assemble(formatted).id == ref.id


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_fmt_cli_check_rewrite_and_errors(tmp_path) -> None:
    f = tmp_path / "messy.aluasm"
    f.write_text(MESSY)
    r = _cli("fmt", "--check", str(f))
    assert r.returncode == 1 and "not in canonical layout" in r.stdout
    assert f.read_text() == MESSY
    r = _cli("fmt", str(f))
    assert r.returncode == 0 and f.read_text() == CANONICAL
    assert _cli("fmt", "--check", str(f)).returncode == 0
    bad = tmp_path / "bad.aluasm"
    bad.write_text(".MAIN\n  frob a64[0]\n")
    r = _cli("fmt", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and bad.read_text() == ".MAIN\n  frob a64[0]\n"


def test_fmt_refuses_a_change_of_meaning(tmp_path) -> None:
    """A label only distinguishable by layout cannot exist; but a broken file is never written."""
    f = tmp_path / "x.aluasm"
    f.write_text(".MAIN\n  jmp nowhere\n")
    with pytest.raises(Exception):
        format_file(f)
    assert f.read_text() == ".MAIN\n  jmp nowhere\n"
    with pytest.raises(FormatError):
        raise FormatError("x")
