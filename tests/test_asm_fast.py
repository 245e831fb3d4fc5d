"""The assembler's fast paths give exactly what the full grammar gives (differential), and the
assembler's resource bounds hold."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from aluvm.asm import assemble
from aluvm.asm import grammar
from aluvm.errors import AsmError

PIECES = ["add", "rsrv:9a", "rsrv:", "L1:", ".BYTES", ".MAIN", ".b", "0102", "put", "jmp", "nop", "a64[0]", "a64 [ 1 ]", "1", "2", "0x10", "-3", "1.5",
          "loop", "x_1", ".uw", ".", ":", ",", ";", " ", "\t", "  ", '"s"', "\"", "$c", "@",
          "\x0b", "\xa0", "rsrv:90", "data[2]", "~", "1e5", "é", "[", "]"]


def _result(fn, text):
    try:
        line = fn(text, 7)
    except grammar.GrammarError as e:
        return ("error", e.col, e.message)
    return line


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=9))
def test_fast_line_parser_matches_the_grammar(pieces: list[str]) -> None:
    text = "".join(pieces)
    fast = grammar.fast_parse_line(text, 7)
    if fast is None:
        return
    assert fast == _result(grammar.grammar_parse_line, text), text


@pytest.mark.parametrize("text", [
    "add.uw a64[0],a64[1]", "  loop:  jmp loop ; back", "nop", "nop   ", "nop ; c",
    "put a64[0], 5", "add a, ,b", "add a,", "x: y", "mov a32 [ 3 ] , a32[4]",
])
def test_fast_line_parser_takes_the_common_shapes(text: str) -> None:
    fast = grammar.fast_parse_line(text, 3)
    assert fast is not None and fast == grammar.grammar_parse_line(text, 3)


@pytest.mark.parametrize("text", ["put a64[0],1 2", "jmp 1 6", "put a8[0], 0x1 0"])
def test_blank_inside_an_operand_is_an_error(text: str) -> None:
    with pytest.raises(AsmError, match="blank"):
        assemble(text)


def test_blanks_next_to_punctuation_are_fine() -> None:
    assert assemble("put a64 [ 0 ] , 12").code == assemble("put a64[0],12").code


def test_same_line_many_times_gives_one_statement_each() -> None:
    lib = assemble("\n".join(["loop: nop" if i == 0 else "  inc a8[0]" for i in range(300)]
                             + ["  jmp loop"]))
    single = assemble("inc a8[0]").code
    assert lib.code.count(single) == 299


def test_source_limits_are_checked_before_parsing(monkeypatch) -> None:
    from aluvm import limits
    monkeypatch.setattr(limits, "ASM_LINES_MAX", 10)
    with pytest.raises(AsmError, match="lines"):
        assemble("\n" * 20)
    monkeypatch.setattr(limits, "ASM_SOURCE_MAX", 10)
    with pytest.raises(AsmError, match="bytes"):
        assemble("; " + "x" * 20)


def test_too_many_statements_fail_fast() -> None:
    with pytest.raises(AsmError, match="65535"):
        assemble("\n".join(["nop"] * 200_000))


LITERAL_PIECES = ["1", "0", "_", ".", "e", "E", "+", "-", "x", "0x", "0b", "0o", "f", "a", "9",
                  "inf", "Inf", "NaN", "nan", '"', "\\", " ", "\t", "1.5", "ab", "g", "é"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(LITERAL_PIECES), max_size=7))
def test_literal_kind_matches_the_grammar(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert grammar.literal_kind(text) == grammar.grammar_literal_kind(text), repr(text)
    assert grammar.is_hex_bytes(text) == grammar.grammar_is_hex_bytes(text), repr(text)


DATA_PIECES = ["00", "ff", "0x", "0xab", "abc", "g", " ", "\t", ";", '"', "x", ".", "_", "é"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(DATA_PIECES), max_size=8))
def test_fast_data_line_matches_the_grammar(pieces: list[str]) -> None:
    text = "".join(pieces)
    fast = grammar.fast_data_items(text)
    if fast is None:
        return
    res = grammar.parse_with(grammar.DATA_LINE, text, "data")
    assert fast == list(res["items"]), repr(text)


SECTION_PIECES = {
    "directive": [".MAIN", ".routine", ".x", "name", " ", "\t", ";", "c", ":", ".", "_", "1", "\x0b", "é"],
    "isae": ["ALU", "BPDIGEST", "a_1", " ", "\t", ";", "x", ".", "-", "é", "\x0b", "9"],
    "libs": ["alias", "lib", "a1", "0f" * 4, "alu:G1UTPjFj-mGee94A#a-b", " ", "\t", ";", "-", "$", "é",
             "\x0b", "\xa0", ":", "_"],
    "const": ["$a", "$b_1", "$", "=", "5", "0x1f", "-3", "1.5", " ", "\t", ";", ",", '"s"', '"', "a",
              "\x0b", "é", "$c=2", "=="],
    "input": ["$v", "$w1", "a64[0]", "a64[ 3 ]", "s16[2]", "r", "[", "]", "1", " ", "\t", ";", '"d"',
              '"x\\"y"', '"', "\\", "é", "\x0b", "A64[0]"],
    "data": ["00", "ff", "0x", "0xab", "abc", "g", " ", "\t", ";", '"', '"s"', '"a;b"', '"q\\"r"', "x",
             ".", "_", "é", "\\"],
}
SECTION_EXPR = {"directive": grammar.DIRECTIVE_LINE, "isae": grammar.ISAE_LINE, "libs": grammar.LIBS_LINE,
                "const": grammar.CONST_LINE, "input": grammar.INPUT_LINE, "data": grammar.DATA_LINE}


def _grammar_section(kind: str, text: str) -> dict:
    res = grammar.parse_with(SECTION_EXPR[kind], text, kind)
    return {k: (list(v) if k in ("items", "names") else v) for k, v in res.items()}


@pytest.mark.parametrize("kind", sorted(SECTION_PIECES))
@settings(max_examples=700, deadline=None)
@given(data=st.data())
def test_fast_section_lines_match_the_grammar(kind: str, data) -> None:
    text = "".join(data.draw(st.lists(st.sampled_from(SECTION_PIECES[kind]), max_size=8)))
    fast = grammar.fast_section_line(kind, text)
    if fast is None:
        return
    want = _grammar_section(kind, text)
    if kind in ("isae", "data"):
        want.setdefault("names" if kind == "isae" else "items", [])
    assert fast == want, repr(text)


@pytest.mark.parametrize("kind, text", [
    ("directive", ".MAIN"), ("directive", "  .ROUTINE check ; c"), ("isae", "  ALU BPDIGEST ; x"),
    ("libs", "other 00ff"), ("const", "$limit = 10"), ("const", "$x -5 ; c"),
    ("input", '$value a64[0] "the number"'), ("input", "$v a64[1]"), ("data", '00ff "text" 0xab'),
    ("data", "   ; only a comment"),
])
def test_fast_section_lines_take_the_common_shapes(kind: str, text: str) -> None:
    assert grammar.fast_section_line(kind, text) is not None


@pytest.mark.parametrize("body", [
    ".ISAE\n" + "ALU\n" * 150_000,
    ".CONST\n" + "".join(f"$c{i} = {i}\n" for i in range(150_000)),
    ".INPUT\n" + "".join(f"$i{i} a64[1]\n" for i in range(150_000)),
    ".DATA\n" + '""\n' * 150_000,
    ".LIBS\n" + "".join(f"a{i} {i:064x}\n" for i in range(300)),
    ".DATA\n.ISAE\n" * 75_000,
])
def test_many_section_lines_are_read_without_the_grammar(body: str, monkeypatch) -> None:
    """Section lines of the common shapes never reach pyparsing (which reads ~20,000 lines/s:
    a source of a million such lines would take a minute)."""
    def no_grammar(*a, **k):
        raise AssertionError("the grammar was used")
    monkeypatch.setattr(grammar, "parse_with", no_grammar)
    try:
        assemble(body)
    except AsmError as e:   # a documented error (300 libraries, an empty .ISAE), not the grammar
        assert "internal" not in str(e), e


@pytest.mark.parametrize("source, message", [
    ("add " + "," * 100_000, "more than 64 commas"),
    ("add " + ", " * 50_000 + "\x0b", "more than 64 commas"),
    ('put s16[0],"x"' + " a" * 100_000, "blank-separated pieces"),
    (".DATA\n" + "00 " * 100_000 + "\x0b", "blank-separated pieces"),
    (".DATA\n" + '"" ' * 70_000, "more than 65536 items"),
    (".DATA\n" + ('"" ' * 1000 + "\n") * 70, "more than 65536 .DATA items"),
    (".ISAE\n" + "AB " * 2000, "more than 1024 items"),
    (".ISAE\n" + ("AB " * 500 + "\n") * 3, "more than 1024 .ISAE names"),
])
def test_oversized_lines_fail_before_the_expensive_work(source: str, message: str, monkeypatch) -> None:
    """Lines no valid source has (a DoS otherwise: the full grammar reads ~50,000 pieces/s,
    16 MiB of commas took 49 s) are rejected before pyparsing or a per-item loop sees them."""
    def no_grammar(*a, **k):
        raise AssertionError("the grammar was used")
    monkeypatch.setattr(grammar, "parse_with", no_grammar)
    with pytest.raises(AsmError, match=message):
        assemble(source)


def test_commas_inside_strings_and_comments_do_not_count() -> None:
    lib = assemble('put s16[0],"' + "a," * 100 + '" ; ' + "," * 100)
    assert lib.data == b"a," * 100


def test_no_spelling_hint_for_a_huge_name() -> None:
    with pytest.raises(AsmError, match="unknown instruction") as e:
        assemble("a" * 100_000)
    assert "did you mean" not in str(e.value)
    with pytest.raises(AsmError, match="did you mean .*add"):
        assemble("adx a8[0],a8[1]")


def test_long_strings_without_escapes_are_read_whole() -> None:
    assert grammar.unquote('"' + "é" * 30_000 + '"') == "é".encode() * 30_000
    assert grammar.unquote('"a\\x41\\n"') == b"aA\n"
