"""Byte-string instructions (0x30-0x3F): known answers from shared/spec/semantics.md §7 and
§10.1 (P12-P16), the spec profile's splt/ins/del/inj/join/find/fill from the reference's doc
comments, properties, and a replay of the byte-string vectors.

Expected values are written from the spec text, not computed by the code under test.
"""
from __future__ import annotations

import gzip
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aluvm.semantics import bytestr as ob
from aluvm.errors import Panic
from aluvm.machine.registers import Registers

from conftest import shared_vectors

A8, A16, A32, A64 = 0, 1, 2, 3
R128 = 8          # RegAR code of r128
E, F = 0, 1       # ExtendFlag


def regs_with(s: dict | None = None, a8: dict | None = None, a16: dict | None = None,
              st0: bool = True) -> Registers:
    regs = Registers()
    for i, v in (s or {}).items():
        regs.s[i] = v
    for i, v in (a8 or {}).items():
        regs.a[A8][i] = v
    for i, v in (a16 or {}).items():
        regs.a[A16][i] = v
    regs.st0 = st0
    return regs


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# ---- op tables -----------------------------------------------------------------------------

def test_op_tables() -> None:
    assert set(ob.REFERENCE_OPS) == {"put_s", "mov_s", "swp_s", "fill", "len_s", "cnt", "eq_s",
                                     "con", "find", "extr", "inj", "join", "splt", "ins",
                                     "del_", "rev_s"}
    assert set(ob.SPEC_OVERRIDES) == {"fill", "find", "inj", "join", "splt", "ins", "del_"}
    assert set(ob.SPEC_OVERRIDES) <= set(ob.REFERENCE_OPS)


# ---- put / mov / swp -----------------------------------------------------------------------

def test_put_complete_leaves_st0_incomplete_clears_it() -> None:
    regs = regs_with(st0=True)
    ob.put_s(regs, 3, b"\x01\x02", False)
    assert regs.s[3] == b"\x01\x02" and regs.st0 is True
    ob.put_s(regs, 4, b"", True)
    assert regs.s[4] == b"" and regs.st0 is False


def test_mov_clears_source_but_keeps_self_move() -> None:
    regs = regs_with(s={1: b"ab"})
    ob.mov_s(regs, 1, 2)
    assert regs.s[1] is None and regs.s[2] == b"ab" and regs.st0
    ob.mov_s(regs, 2, 2)                 # §7: mov s,s with equal indexes stays defined
    assert regs.s[2] == b"ab"
    ob.mov_s(regs, 5, 2)                 # moving undefined clears the destination
    assert regs.s[2] is None and regs.st0


def test_swp() -> None:
    regs = regs_with(s={0: b"x"})
    ob.swp_s(regs, 0, 7)
    assert regs.s[0] is None and regs.s[7] == b"x" and regs.st0


# ---- fill (§7.1) ---------------------------------------------------------------------------

def test_fill_undefined_operand_only_clears_st0() -> None:
    regs = regs_with(a16={1: 2}, a8={0: 0xAA})
    ob.fill(regs, 0, 0, 1, 0, E)        # a16[0] undefined
    assert regs.st0 is False and regs.s[0] is None


def test_fill_extend() -> None:
    regs = regs_with(s={0: h("0102")}, a16={0: 3, 1: 5}, a8={0: 0xAA})
    ob.fill(regs, 0, 0, 1, 0, E)
    assert regs.s[0] == h("010200aaaa") and regs.st0


def test_fill_inside_string() -> None:
    regs = regs_with(s={0: h("0102030405")}, a16={0: 1, 1: 3}, a8={0: 0xEE})
    ob.fill(regs, 0, 0, 1, 0, F)
    assert regs.s[0] == h("01eeee0405") and regs.st0


def test_fill_f_off_by_one() -> None:
    regs = regs_with(s={0: h("01020304")}, a16={0: 0, 1: 4}, a8={0: 0xFF})
    ob.fill(regs, 0, 0, 1, 0, F)        # ends exactly at len: fails anyway
    assert regs.st0 is False and regs.s[0] == h("01020304")
    regs = regs_with(s={0: h("01020304")}, a16={0: 0, 1: 3}, a8={0: 0xFF})
    ob.fill(regs, 0, 0, 1, 0, F)
    assert regs.st0 is True and regs.s[0] == h("ffffff04")


def test_fill_f_on_undefined_string_leaves_empty_string() -> None:
    regs = regs_with(a16={0: 0, 1: 1}, a8={0: 1})
    ob.fill(regs, 9, 0, 1, 0, F)
    assert regs.s[9] == b"" and regs.st0 is False


def test_fill_equal_offsets_only_extends() -> None:
    regs = regs_with(s={2: b""}, a16={0: 3, 1: 3}, a8={0: 0x77})
    ob.fill(regs, 2, 0, 1, 0, E)
    assert regs.s[2] == h("000000") and regs.st0


def test_fill_p13_panic_leaves_extended_string() -> None:
    regs = regs_with(a16={0: 2, 1: 1}, a8={0: 0x55})
    with pytest.raises(Panic):
        ob.fill(regs, 0, 0, 1, 0, E)
    assert regs.s[0] == h("00")          # [run]: undefined s, o1 = 2, o2 = 1 -> s = 00
    regs = regs_with(s={0: h("0102")}, a16={0: 9, 1: 5}, a8={0: 0x55})
    with pytest.raises(Panic):
        ob.fill(regs, 0, 0, 1, 0, E)
    assert regs.s[0] == h("0102000000")
    # fill.f with len > o2 proceeds to the panic; with len <= o2 it fails first
    regs = regs_with(s={0: h("010203")}, a16={0: 2, 1: 1}, a8={0: 0x55})
    with pytest.raises(Panic):
        ob.fill(regs, 0, 0, 1, 0, F)
    regs = regs_with(s={0: h("01")}, a16={0: 2, 1: 1}, a8={0: 0x55})
    ob.fill(regs, 0, 0, 1, 0, F)
    assert regs.st0 is False and regs.s[0] == h("01")


def test_fill_max_length() -> None:
    regs = regs_with(a16={0: 65534, 1: 65535}, a8={0: 9})
    ob.fill(regs, 0, 0, 1, 0, E)
    assert len(regs.s[0]) == 65535 and regs.s[0][-2:] == h("0009")


def test_fill_spec_swapped_offsets() -> None:
    regs = regs_with(a16={0: 2, 1: 1}, a8={0: 0x55})
    ob.fill_spec(regs, 0, 0, 1, 0, E)
    assert regs.s[0] == h("0055") and regs.st0
    regs = regs_with(s={0: h("010203")}, a16={0: 3, 1: 1}, a8={0: 0x55})
    ob.fill_spec(regs, 0, 0, 1, 0, F)   # f checks the greater offset: len 3 <= 3 fails
    assert regs.s[0] == h("010203") and regs.st0 is False
    regs = regs_with(s={0: h("01020304")}, a16={0: 3, 1: 1}, a8={0: 0x55})
    ob.fill_spec(regs, 0, 0, 1, 0, F)
    assert regs.s[0] == h("01555504") and regs.st0


# ---- len / cnt / eq ------------------------------------------------------------------------

def test_len() -> None:
    regs = regs_with(s={0: bytes(255), 1: bytes(256), 2: bytes(65535)})
    ob.len_s(regs, 0, A8, 3)
    assert regs.a[A8][3] == 255 and regs.st0
    ob.len_s(regs, 2, A16, 4)
    assert regs.a[A16][4] == 65535 and regs.st0
    ob.len_s(regs, 2, A64, 4)
    assert regs.a[A64][4] == 65535 and regs.st0
    regs.a[A8][3] = 1
    ob.len_s(regs, 1, A8, 3)             # 256 does not fit a8
    assert regs.a[A8][3] is None and regs.st0 is False
    regs = regs_with(a16={0: 5})
    ob.len_s(regs, 7, A16, 0)            # undefined string
    assert regs.a[A16][0] is None and regs.st0 is False


def test_cnt() -> None:
    regs = regs_with(s={0: h("0a0b0a0a")}, a8={2: 0x0A})
    ob.cnt(regs, 0, 2, 5)
    assert regs.a[A16][5] == 3 and regs.st0
    regs = regs_with(s={0: bytes(65535)}, a8={2: 0})
    ob.cnt(regs, 0, 2, 5)
    assert regs.a[A16][5] == 65535 and regs.st0
    regs = regs_with(s={0: h("0a")}, a16={5: 1})
    ob.cnt(regs, 0, 2, 5)                # a8 undefined
    assert regs.a[A16][5] is None and regs.st0 is False
    regs = regs_with(a8={2: 1}, a16={5: 1})
    ob.cnt(regs, 0, 2, 5)                # s undefined
    assert regs.a[A16][5] is None and regs.st0 is False


def test_eq() -> None:
    regs = regs_with(st0=False)
    ob.eq_s(regs, 0, 1)                  # both undefined: equal
    assert regs.st0 is True
    regs.s[0] = b""
    ob.eq_s(regs, 0, 1)                  # empty vs undefined: different
    assert regs.st0 is False
    regs.s[1] = b""
    ob.eq_s(regs, 0, 1)
    assert regs.st0 is True
    regs.s[1] = b"\x00"
    ob.eq_s(regs, 0, 1)
    assert regs.st0 is False


# ---- find ----------------------------------------------------------------------------------

def test_find_counts_overlapping() -> None:
    regs = regs_with(s={0: h("aaaaaa"), 1: h("aaaa")})
    ob.find(regs, 0, 1)
    assert regs.a[A16][0] == 2 and regs.st0   # [run]
    ob.find(regs, 1, 0)                       # needle longer than haystack
    assert regs.a[A16][0] == 0 and regs.st0


def test_find_undefined_and_p12() -> None:
    regs = regs_with(s={0: h("01")}, a16={0: 9})
    ob.find(regs, 0, 1)
    assert regs.a[A16][0] is None and regs.st0 is False
    regs = regs_with(s={0: h("01"), 1: b""}, a16={0: 9})
    with pytest.raises(Panic):
        ob.find(regs, 0, 1)
    assert regs.a[A16][0] == 9 and regs.st0   # nothing written before the panic
    regs = regs_with(s={0: b"", 1: b""})
    with pytest.raises(Panic):
        ob.find(regs, 0, 1)


def test_find_spec_empty_needle() -> None:
    regs = regs_with(s={0: h("010203"), 1: b""})
    ob.find_spec(regs, 0, 1)
    assert regs.a[A16][0] == 4 and regs.st0
    regs = regs_with(s={0: b"", 1: b""})
    ob.find_spec(regs, 0, 1)
    assert regs.a[A16][0] == 1 and regs.st0
    regs = regs_with(s={0: bytes(65535), 1: b""}, a16={0: 3})
    ob.find_spec(regs, 0, 1)                 # 65536 does not fit a16
    assert regs.a[A16][0] is None and regs.st0 is False


# ---- rev -----------------------------------------------------------------------------------

def test_rev() -> None:
    regs = regs_with(s={0: h("010203")})
    ob.rev_s(regs, 0, 1)
    assert regs.s[1] == h("030201") and regs.s[0] == h("010203") and regs.st0
    ob.rev_s(regs, 5, 1)
    assert regs.s[1] is None and regs.st0 is False


# ---- con (§7.2) ----------------------------------------------------------------------------

def run_con(x: bytes, y: bytes, n: int) -> tuple:
    regs = regs_with(s={1: x, 2: y}, a16={0: n, 1: 0xBEEF, 2: 0xBEEF})
    ob.con(regs, 1, 2, 0, 1, 2)
    return regs.a[A16][1], regs.a[A16][2], regs.st0


def test_con_runs_separated_by_one_byte() -> None:
    x, y = b"ab_cd_e", b"ab@cd@e"
    assert run_con(x, y, 0) == (0, 2, True)
    assert run_con(x, y, 1) == (3, 2, True)
    assert run_con(x, y, 2) == (6, 1, True)
    assert run_con(x, y, 3) == (None, None, False)


def test_con_mis_walk() -> None:
    # runs separated by two mismatches: n = 1 starts at the second mismatch (§7.2)
    assert run_con(b"ab__cd", b"ab@@cd", 1) == (3, 3, True)
    assert run_con(b"ab__cdx", b"ab@@cd@", 1) == (3, 3, True)
    # leading mismatches are skipped before counting
    assert run_con(b"__ab", b"@@ab", 0) == (2, 2, True)
    # n = 0, run reaching the end of the shorter string
    assert run_con(b"xyz", b"xyzzzz", 0) == (0, 3, True)


def test_con_failures() -> None:
    assert run_con(b"abc", b"xyz", 0) == (None, None, False)   # no equal byte
    assert run_con(b"", b"abc", 0) == (None, None, False)
    regs = regs_with(s={1: b"a"}, a16={0: 0, 1: 7, 2: 7})
    ob.con(regs, 1, 2, 0, 1, 2)                                 # s2 undefined
    assert (regs.a[A16][1], regs.a[A16][2], regs.st0) == (None, None, False)
    regs = regs_with(s={1: b"a", 2: b"a"}, a16={1: 7, 2: 7})
    ob.con(regs, 1, 2, 0, 1, 2)                                 # a16[no] undefined
    assert (regs.a[A16][1], regs.a[A16][2], regs.st0) == (None, None, False)


def test_con_same_destination_keeps_length() -> None:
    regs = regs_with(s={1: b"_ab", 2: b"@ab"}, a16={0: 0})
    ob.con(regs, 1, 2, 0, 3, 3)
    assert regs.a[A16][3] == 2 and regs.st0


# ---- extr (§7.3) ---------------------------------------------------------------------------

def test_extr_run_examples() -> None:
    regs = regs_with(s={0: h("010203")}, a16={0: 1})
    ob.extr(regs, 0, A32, 4, 0)
    assert regs.a[A32][4] == 0x00000302 and regs.st0 is False
    regs = regs_with(s={0: h("010203")}, a16={0: 1})
    ob.extr(regs, 0, A16, 4, 0)
    assert regs.a[A16][4] == 0x0302 and regs.st0 is True
    regs = regs_with(s={0: h("010203")}, a16={0: 0})
    ob.extr(regs, 0, R128, 4, 0)
    assert regs.get_named("r128[4]") == h("010203") + bytes(13) and regs.st0 is False


def test_extr_failures() -> None:
    regs = regs_with(s={0: h("010203")}, a16={0: 3})
    regs.a[A8][1] = 5
    ob.extr(regs, 0, A8, 1, 0)              # o >= len
    assert regs.a[A8][1] is None and regs.st0 is False
    regs = regs_with(s={0: h("010203")})
    regs.r[0][1] = 5
    ob.extr(regs, 0, R128, 1, 0)            # offset undefined
    assert regs.r[0][1] is None and regs.st0 is False
    regs = regs_with(a16={0: 0})
    ob.extr(regs, 0, A8, 1, 0)              # string undefined
    assert regs.a[A8][1] is None and regs.st0 is False


def test_extr_offset_near_u16_max() -> None:
    regs = regs_with(s={0: bytes(65534) + h("ab")}, a16={0: 65534})
    ob.extr(regs, 0, A64, 0, 0)
    assert regs.a[A64][0] == 0xAB and regs.st0 is False


# ---- inj (P14) -----------------------------------------------------------------------------

def test_inj_panics_when_all_defined() -> None:
    regs = regs_with(s={0: h("010203")}, a16={0: 0, 1: 0x1234})
    with pytest.raises(Panic):
        ob.inj(regs, 0, A16, 1, 0)
    assert regs.s[0] == h("010203") and regs.a[A16][1] == 0x1234 and regs.st0


def test_inj_failure_clears_value_register() -> None:
    regs = regs_with(a16={0: 0, 1: 0x1234})
    ob.inj(regs, 0, A16, 1, 0)               # string undefined
    assert regs.a[A16][1] is None and regs.st0 is False
    regs = regs_with(s={0: h("01")}, a16={1: 0x1234})
    ob.inj(regs, 0, A16, 1, 0)               # offset undefined
    assert regs.a[A16][1] is None and regs.st0 is False and regs.s[0] == h("01")


def test_inj_spec() -> None:
    regs = regs_with(s={0: h("01020304")}, a16={0: 1, 1: 0xBBAA})
    ob.inj_spec(regs, 0, A16, 1, 0)          # overwrite in place, little-endian value
    assert regs.s[0] == h("01aabb04") and regs.st0
    regs = regs_with(s={0: h("01")}, a16={0: 3, 1: 0xBBAA})
    ob.inj_spec(regs, 0, A16, 1, 0)          # beyond the end: zero gap
    assert regs.s[0] == h("010000aabb") and regs.st0
    regs = regs_with(s={0: h("0102")}, a16={0: 0})
    regs.r[0][2] = int.from_bytes(bytes(range(16)), "little")
    ob.inj_spec(regs, 0, R128, 2, 0)
    assert regs.s[0] == bytes(range(16)) and regs.st0
    regs = regs_with(s={0: h("01")}, a16={0: 65534, 1: 0xBBAA})
    ob.inj_spec(regs, 0, A16, 1, 0)          # 65534 + 2 > 65535
    assert regs.s[0] is None and regs.st0 is False and regs.a[A16][1] == 0xBBAA
    regs = regs_with(s={0: h("01")}, a16={0: 65533, 1: 0xBBAA})
    ob.inj_spec(regs, 0, A16, 1, 0)
    assert len(regs.s[0]) == 65535 and regs.s[0][-2:] == h("aabb") and regs.st0
    regs = regs_with(s={0: h("01")}, a16={1: 0xBBAA})
    ob.inj_spec(regs, 0, A16, 1, 0)          # undefined offset: as the reference
    assert regs.a[A16][1] is None and regs.st0 is False


# ---- join (P15) ----------------------------------------------------------------------------

def test_join_reference() -> None:
    regs = regs_with(s={0: h("0102"), 1: b""})
    ob.join(regs, 0, 1, 2)
    assert regs.s[2] == h("0102") and regs.st0
    regs = regs_with(s={0: h("0102"), 1: h("03"), 2: h("ff")})
    with pytest.raises(Panic):
        ob.join(regs, 0, 1, 2)
    assert regs.s[2] == h("ff")
    regs = regs_with(s={0: bytes(65535), 1: h("03"), 2: h("ff")})
    ob.join(regs, 0, 1, 2)                   # too long: cleared, no panic
    assert regs.s[2] is None and regs.st0 is False
    regs = regs_with(s={0: h("01"), 2: h("ff")})
    ob.join(regs, 0, 1, 2)
    assert regs.s[2] is None and regs.st0 is False


def test_join_spec() -> None:
    regs = regs_with(s={0: h("0102"), 1: h("03")})
    ob.join_spec(regs, 0, 1, 0)
    assert regs.s[0] == h("010203") and regs.st0
    regs = regs_with(s={0: bytes(65534), 1: h("03")})
    ob.join_spec(regs, 0, 1, 2)
    assert regs.s[2] == bytes(65534) + h("03") and regs.st0
    regs = regs_with(s={0: bytes(65535), 1: h("03")})
    ob.join_spec(regs, 0, 1, 2)
    assert regs.s[2] is None and regs.st0 is False


# ---- splt / ins / del: reference panics (P16) ----------------------------------------------

def test_splt_ins_del_panic_in_reference() -> None:
    regs = Registers()
    with pytest.raises(Panic):
        ob.splt(regs, 0, 0, 0, 1, 2)
    with pytest.raises(Panic):
        ob.ins(regs, 0, 0, 0, 1)
    with pytest.raises(Panic):
        ob.del_(regs, 0, 0, 0, 0, 0, 0, 0, 0, 1)
    assert regs.st0 and regs.s == [None] * 16


# ---- spec splt (instr.rs Splt table) -------------------------------------------------------

N, NN, NZ, EE, CN, CZ, ZN, ZZ = range(8)


def run_splt(flag: int, src: bytes | None, o: int | None) -> tuple:
    regs = regs_with(s={0: src, 1: b"old1", 2: b"old2"}, a16={3: o})
    ob.splt_spec(regs, flag, 3, 0, 1, 2)
    return regs.s[1], regs.s[2], regs.st0


SRC = b"hello"


@pytest.mark.parametrize("flag", range(8))
def test_splt_in_range_always_succeeds(flag: int) -> None:
    assert run_splt(flag, SRC, 2) == (b"he", b"llo", True)
    assert run_splt(flag, SRC, 4) == (b"hell", b"o", True)


@pytest.mark.parametrize("flag, expect", [
    (N, (None, None, False)),        # (1)
    (NN, (None, SRC, False)),        # (2)
    (NZ, (None, SRC, False)),        # (3)
    (EE, (b"", SRC, True)),          # (4)
    (CN, (None, None, False)), (CZ, (None, None, False)),   # not listed: as (1)
    (ZN, (None, None, False)), (ZZ, (None, None, False)),
])
def test_splt_offset_zero(flag: int, expect: tuple) -> None:
    assert run_splt(flag, SRC, 0) == expect


@pytest.mark.parametrize("flag, expect", [
    (N, (None, None, False)),
    (NN, (None, None, False)),       # (2) on an empty source
    (NZ, (None, b"", False)),        # (3)
    (EE, (b"", b"", True)),          # (4)
    (CN, (None, None, False)), (ZZ, (None, None, False)),
])
def test_splt_offset_zero_empty_source(flag: int, expect: tuple) -> None:
    assert run_splt(flag, b"", 0) == expect


@pytest.mark.parametrize("flag, expect", [
    (N, (None, None, False)),                  # (1)
    (CN, (SRC, None, False)),                  # (5) short
    (CZ, (SRC, b"", False)),                   # (6) short, zero-len
    (ZN, (SRC + bytes(3), None, False)),       # (7) zero-ext
    (ZZ, (SRC + bytes(3), b"", False)),        # (8)
    (NN, (None, None, False)), (NZ, (None, None, False)), (EE, (None, None, False)),
])
def test_splt_offset_beyond(flag: int, expect: tuple) -> None:
    assert run_splt(flag, SRC, 8) == expect


@pytest.mark.parametrize("flag, expect", [
    (N, (None, None, False)),                  # (1)
    (CN, (SRC, None, False)), (ZN, (SRC, None, False)),   # (5,7)
    (CZ, (SRC, b"", True)), (ZZ, (SRC, b"", True)),       # (6,8): st0 untouched
    (NN, (None, None, False)), (NZ, (None, None, False)), (EE, (None, None, False)),
])
def test_splt_offset_at_end(flag: int, expect: tuple) -> None:
    assert run_splt(flag, SRC, 5) == expect


def test_splt_undefined_operands() -> None:
    assert run_splt(EE, None, 2) == (None, None, False)
    assert run_splt(EE, SRC, None) == (None, None, False)


def test_splt_into_source_register() -> None:
    regs = regs_with(s={0: SRC}, a16={3: 1})
    ob.splt_spec(regs, N, 3, 0, 0, 4)
    assert regs.s[0] == b"h" and regs.s[4] == b"ello" and regs.st0


# ---- spec ins (instr.rs Ins table) ---------------------------------------------------------

L_, O_, F_, E_, A_, X_, C_, S_ = range(8)


def run_ins(flag: int, src: bytes | None, dst: bytes | None, o: int | None) -> tuple:
    regs = regs_with(s={0: src, 1: dst}, a16={2: o})
    ob.ins_spec(regs, flag, 2, 0, 1)
    return regs.s[1], regs.st0


@pytest.mark.parametrize("flag", range(8))
def test_ins_normal(flag: int) -> None:
    assert run_ins(flag, b"XY", b"abcd", 1) == (b"aXYbcd", True)
    assert run_ins(flag, b"XY", b"abcd", 0) == (b"XYabcd", True)
    assert run_ins(flag, b"XY", b"abcd", 4) == (b"abcdXY", True)   # o == dst_len: append
    assert run_ins(flag, b"", b"abcd", 2) == (b"abcd", True)


@pytest.mark.parametrize("flag, expect", [
    (O_, (None, False)),                     # (1)
    (E_, (b"ab\0\0\0XY", False)),            # (2) zero fill up to the offset
    (A_, (b"abXY", False)),                  # (3) insert at dst_len
    (F_, (None, False)),                     # not listed: fail
    (X_, (b"ab\0\0\0XY", False)),            # extends (its cut is not needed)
    (L_, (b"abXY", False)), (C_, (b"abXY", False)), (S_, (b"abXY", False)),   # "(6-8)"
])
def test_ins_offset_beyond_fits(flag: int, expect: tuple) -> None:
    assert run_ins(flag, b"XY", b"ab", 5) == expect


BIG = bytes(65530)
DST_LONG = b"a" + BIG + b"b"             # 65532 bytes
SRC8 = b"SSSSSSSS"                       # 65532 + 8 > 65535


@pytest.mark.parametrize("flag, expect", [
    (L_, None),                                            # (6)
    (C_, (b"a" + SRC8 + BIG + b"b")[:65535]),              # (7) cut the result
    (S_, b"a" + SRC8[:3] + BIG + b"b"),                    # (8) shorten src to fit
    (X_, b"a" + SRC8[:3] + BIG + b"b"),                    # x "cuts the source" too
    (O_, None), (F_, None), (E_, None), (A_, None),        # not listed: fail
])
def test_ins_in_range_too_long(flag: int, expect) -> None:
    got, st0 = run_ins(flag, SRC8, DST_LONG, 1)
    assert st0 is False and got == expect
    if got is not None:
        assert len(got) == 65535


@pytest.mark.parametrize("flag, expect_len", [
    (F_, None), (O_, None),                  # (4), and o fails on any beyond offset
    (X_, 65535),                             # (5) zero fill, cut the source
    (E_, None), (A_, None),                  # not listed: fail
    (L_, None),                              # (6-8) append, then (6) fails on length
    (C_, 65535), (S_, 65535),                # (6-8) append, then (7)/(8) cut
])
def test_ins_offset_beyond_too_long(flag: int, expect_len: int | None) -> None:
    dst = b"ab"
    src = bytes(range(256)) * 256            # 65536 bytes would not even fit a register
    src = src[:65534]
    got, st0 = run_ins(flag, src, dst, 100)
    assert st0 is False
    if expect_len is None:
        assert got is None
    else:
        assert len(got) == expect_len
        if flag == X_:
            assert got == dst + bytes(98) + src[:65535 - 100]
        else:
            assert got == dst + src[:65533]


def test_ins_undefined() -> None:
    assert run_ins(L_, None, b"ab", 0) == (None, False)
    assert run_ins(L_, b"ab", None, 0) == (None, False)
    assert run_ins(L_, b"ab", b"cd", None) == (None, False)


def test_ins_into_itself() -> None:
    regs = regs_with(s={0: b"abc"}, a16={2: 1})
    ob.ins_spec(regs, L_, 2, 0, 0)
    assert regs.s[0] == b"aabcbc" and regs.st0


# ---- spec del (instr.rs Del table) ---------------------------------------------------------

DN, DZ, DC, DE = range(4)


def run_del(flag: int, src: bytes | None, v1: int | None, v2: int | None,
            flag1: int = 1, flag2: int = 1, reg1: int = 1, reg2: int = 1) -> tuple:
    regs = regs_with(s={0: src, 1: b"old"})
    regs.a[reg1][4] = v1
    regs.a[reg2][5] = v2
    ob.del_spec(regs, flag, reg1, 4, reg2, 5, flag1, flag2, 0, 1)
    return regs.s[1], regs.st0


@pytest.mark.parametrize("flag", range(4))
def test_del_in_range(flag: int) -> None:
    assert run_del(flag, b"abcdef", 1, 3) == (b"adef", True)
    assert run_del(flag, b"abcdef", 3, 1) == (b"adef", True)      # least/greatest
    assert run_del(flag, b"abcdef", 2, 6) == (b"ab", True)        # end == len is in range
    assert run_del(flag, b"abcdef", 6, 6) == (b"abcdef", True)
    assert run_del(flag, b"abcdef", 0, 6) == (b"", True)


def test_del_offset_registers_a8_and_a16() -> None:
    assert run_del(DN, b"abcdef", 1, 300, reg1=0, reg2=1)[0] is None
    assert run_del(DN, b"abcdef", 4, 1, reg1=0, reg2=0) == (b"aef", True)


@pytest.mark.parametrize("flag, expect", [
    (DN, None),        # (1)
    (DZ, b""),         # (2)
    (DC, None), (DE, None),                  # not listed for this case: as (1)
])
def test_del_start_beyond(flag: int, expect) -> None:
    assert run_del(flag, b"abc", 5, 9) == (expect, False)            # flag1 set
    assert run_del(flag, b"abc", 5, 9, flag1=0) == (expect, True)    # st0 untouched
    assert run_del(flag, b"abc", 5, 9, flag1=0, flag2=1) == (expect, True)


@pytest.mark.parametrize("flag, expect", [
    (DN, None),                          # (1)
    (DC, b"bc"),                         # (3) fragment start..src_len
    (DE, b"bc\0\0\0"),                   # (4) extended to end - start = 5
    (DZ, None),                          # not listed for this case: as (1)
])
def test_del_end_beyond(flag: int, expect) -> None:
    assert run_del(flag, b"abc", 1, 6) == (expect, False)            # flag2 set
    assert run_del(flag, b"abc", 1, 6, flag2=0) == (expect, True)
    assert run_del(flag, b"abc", 3, 6, flag2=0)[0] == {DC: b"", DE: bytes(3)}.get(flag)


def test_del_undefined() -> None:
    assert run_del(DZ, None, 0, 1) == (None, False)
    assert run_del(DZ, b"abc", None, 1) == (None, False)


# ---- properties ----------------------------------------------------------------------------

blobs = st.binary(max_size=40)
small = st.lists(st.sampled_from(b"ab"), max_size=24).map(bytes)   # many overlaps and runs


@given(blobs)
def test_rev_twice_is_identity(x: bytes) -> None:
    regs = regs_with(s={0: x})
    ob.rev_s(regs, 0, 1)
    ob.rev_s(regs, 1, 2)
    assert regs.s[2] == x and regs.st0


def naive_count(hay: bytes, needle: bytes) -> int:
    return sum(hay[i:i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


@given(small, small)
def test_find_is_naive_overlapping_count(hay: bytes, needle: bytes) -> None:
    regs = regs_with(s={0: hay, 1: needle})
    ob.find_spec(regs, 0, 1)
    assert regs.a[A16][0] == naive_count(hay, needle) and regs.st0
    if needle:
        regs = regs_with(s={0: hay, 1: needle})
        ob.find(regs, 0, 1)
        assert regs.a[A16][0] == naive_count(hay, needle) and regs.st0


def con_model(x: bytes, y: bytes, n: int):
    """Independent model: the reference's iterator chain with Python iterators (dropwhile is
    lazy like Rust's skip_while)."""
    size = min(len(x), len(y))
    elems = itertools.dropwhile(lambda e: not e[1],
                                itertools.islice(enumerate(a == b for a, b in zip(x, y)), size))
    for _ in range(n):
        for e in elems:
            if e[1]:
                break
        for e in elems:
            if not e[1]:
                break
    begin = next(elems, None)
    end = next(itertools.dropwhile(lambda e: e[1], elems), None)
    if begin is None:
        return None
    return (begin[0], (end[0] if end else size) - begin[0])


@given(small, small, st.integers(0, 6))
def test_con_matches_iterator_model(x: bytes, y: bytes, n: int) -> None:
    want = con_model(x, y, n)
    got = run_con(x, y, n)
    if want is None:
        assert got == (None, None, False)
    else:
        assert got == (want[0], want[1], True)


def first_run(x: bytes, y: bytes):
    size = min(len(x), len(y))
    k = 0
    while k < size and x[k] != y[k]:
        k += 1
    if k == size:
        return None
    j = k
    while j < size and x[j] == y[j]:
        j += 1
    return k, j - k


@given(small, small)
def test_con_n0_is_the_first_run(x: bytes, y: bytes) -> None:
    want = first_run(x, y)
    got = run_con(x, y, 0)
    assert got == ((None, None, False) if want is None else (*want, True))


@given(st.lists(st.binary(min_size=1, max_size=5), min_size=1, max_size=6), st.data())
def test_con_single_byte_separators_give_the_nth_run(runs, data) -> None:
    x = b"\x01".join(runs)
    y = b"\x02".join(runs)
    n = data.draw(st.integers(0, len(runs) - 1))
    begin = sum(len(r) + 1 for r in runs[:n])
    assert run_con(x, y, n) == (begin, len(runs[n]), True)


@given(st.binary(max_size=12), st.integers(0, 14), st.integers(0, 14), st.integers(0, 255),
       st.sampled_from([E, F]), st.booleans())
def test_fill_spec_agrees_with_reference_and_is_symmetric(s, o1, o2, v, flag, defined) -> None:
    init = {0: s if defined else None}
    ref = regs_with(s=dict(init), a16={0: o1, 1: o2}, a8={0: v})
    spec = regs_with(s=dict(init), a16={0: o1, 1: o2}, a8={0: v})
    swapped = regs_with(s=dict(init), a16={0: o2, 1: o1}, a8={0: v})
    ob.fill_spec(spec, 0, 0, 1, 0, flag)
    ob.fill_spec(swapped, 0, 0, 1, 0, flag)
    assert (spec.s[0], spec.st0) == (swapped.s[0], swapped.st0)
    try:
        ob.fill(ref, 0, 0, 1, 0, flag)
    except Panic:
        assert o1 > o2
        return
    assert (ref.s[0], ref.st0) == (spec.s[0], spec.st0)


@given(st.binary(max_size=8), st.binary(max_size=8), st.sampled_from([None, b"", b"z"]))
def test_join_spec_agrees_with_reference_when_it_does_not_panic(x, y, other) -> None:
    ref = regs_with(s={0: x, 1: y, 2: other})
    spec = regs_with(s={0: x, 1: y, 2: other})
    ob.join_spec(spec, 0, 1, 2)
    assert spec.s[2] == x + y and spec.st0
    try:
        ob.join(ref, 0, 1, 2)
    except Panic:
        assert y
        return
    assert ref.s[2] == spec.s[2] and ref.st0 == spec.st0


@given(st.binary(max_size=20), st.integers(0, 24), st.sampled_from([A8, A16, A32, A64, R128]),
       st.data())
def test_inj_spec_then_extr_round_trips(s, o, code, data) -> None:
    width = 16 if code == R128 else (1 << code)
    value = data.draw(st.integers(0, (1 << (8 * width)) - 1))
    regs = regs_with(s={0: s}, a16={0: o})
    bank = regs.r[0] if code == R128 else regs.a[code]
    bank[1] = value
    ob.inj_spec(regs, 0, code, 1, 0)
    assert len(regs.s[0]) == max(len(s), o + width) and regs.st0
    assert regs.s[0][:min(o, len(s))] == s[:o]
    bank[2] = None
    ob.extr(regs, 0, code, 2, 0)
    assert bank[2] == value and regs.st0


@given(st.binary(max_size=16), st.integers(0, 20), st.integers(0, 7))
def test_splt_spec_in_range_concatenates(s, o, flag) -> None:
    first, second, st0 = run_splt(flag, s, o)
    if 0 < o < len(s):
        assert first + second == s and len(first) == o and st0


@given(st.binary(max_size=16), st.binary(max_size=16), st.data())
def test_ins_then_del_restores(dst, src, data) -> None:
    o = data.draw(st.integers(0, len(dst)))
    flag = data.draw(st.integers(0, 7))
    regs = regs_with(s={0: src, 1: dst}, a16={2: o, 3: o + len(src)})
    ob.ins_spec(regs, flag, 2, 0, 1)
    assert regs.s[1][o:o + len(src)] == src and regs.st0
    ob.del_spec(regs, data.draw(st.integers(0, 3)), 1, 3, 1, 2, 1, 1, 1, 4)
    assert regs.s[4] == dst and regs.st0


# ---- interpreter round trips (bytecode -> ops) ---------------------------------------------

def _interp():
    try:
        from aluvm.machine import interp
    except ImportError:  # pragma: no cover - the interpreter is another module's job
        pytest.skip("aluvm.machine.interp not available")
    return interp


def _run_code(profile, code: str, data: str = "", regs: Registers | None = None) -> Registers:
    interp = _interp()
    regs = regs or Registers()
    lib = bytes([9]) * 32
    m = interp.Machine(profile)
    m.add(bytes.fromhex(code), bytes.fromhex(data), (), lib)
    try:
        m.run(lib, 0, regs)
    except Panic:
        regs.st0 = False
    return regs


def test_bytecode_find_and_rev() -> None:
    interp = _interp()
    # put s16[0] <- aaaaaa ; put s16[1] <- aaaa ; find a16[0], s0, s1
    regs = _run_code(interp.REFERENCE, "30" "00" "0000" "0300" "30" "01" "0000" "0200" "38" "10",
                     "aaaaaa")
    assert regs.a[A16][0] == 2 and regs.s[0] == h("aaaaaa") and regs.s[1] == h("aaaa")
    # rev s0 -> s2
    regs = _run_code(interp.REFERENCE, "30" "00" "0000" "0300" "3f" "20", "010203")
    assert regs.s[2] == h("030201")


# ---- vectors -------------------------------------------------------------------------------

def _bytes_vectors():
    root = shared_vectors()
    if root is None or not (root / "bytes.jsonl.gz").exists():
        pytest.skip("shared byte-string vectors not present")
    with gzip.open(root / "bytes.jsonl.gz", "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_vectors_reference_profile() -> None:
    _interp()
    from aluvm.tools.conform import check_run
    from aluvm.tools.service import handle
    bad = []
    for vec in _bytes_vectors():
        err = check_run(vec, handle(vec["request"], "reference"))
        if err:
            bad.append(f"{vec['id']}: {err}")
    assert not bad, bad[:5]


def test_vectors_spec_byte_ops_keep_non_panicking_results() -> None:
    """Reference decoding and control flow with the spec byte-op overrides: every vector the
    reference completes must give the same result, and no P12-P16 panic is left."""
    interp = _interp()
    from aluvm.tools.conform import check_run
    from aluvm.tools.service import do_run
    ops = dict(interp.REFERENCE.ops)
    ops.update(ob.SPEC_OVERRIDES)
    profile = interp.Profile("reference+spec-bytes", interp.REFERENCE.table, ops)

    def runner(lib, regs, entry, _profile):
        m = interp.Machine(profile)
        m.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
        return m.run(lib.id, entry, regs)

    bad, byte_panics, flagged = [], [], 0
    for vec in _bytes_vectors():
        got = do_run(vec["request"], "reference", runner)
        if vec.get("reference_panics"):
            flagged += 1
            # a later, unrelated panic (put s16 past the data, S7) may remain; ours may not
            if any(f"reference P{k}" in str(got.get("reason")) for k in range(12, 17)):
                byte_panics.append(vec["id"])
            continue
        err = check_run(vec, got)
        if err:
            bad.append(f"{vec['id']}: {err}")
    assert not bad, bad[:5]
    assert flagged and not byte_panics, byte_panics[:5]

