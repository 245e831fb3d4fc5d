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
