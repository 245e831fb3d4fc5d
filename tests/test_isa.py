"""The instruction table and the bytecode codec."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from aluvm.isa import table as isa
from aluvm.isa.codec import decode, decode_all, encode, encode_instr
from aluvm.isa.table import REFERENCE_TABLE, SPEC_TABLE


def test_every_opcode_decodes() -> None:
    for op in range(256):
        assert REFERENCE_TABLE[op], hex(op)
        assert SPEC_TABLE[op], hex(op)


def test_discriminators_cover_every_argument_word() -> None:
    """Group opcodes: every argument word matches exactly one form."""
    for op in range(256):
        forms = REFERENCE_TABLE[op]
        if len(forms) < 2:
            continue
        nbits = forms[0].arg_bits
        disc_mask = 0
        for f in forms[0].fields + tuple(x for g in forms for x in g.fields):
            if f.fixed is not None:
                disc_mask |= f.mask << f.shift
        # enumerate all values of the discriminator bits
        bits = [b for b in range(nbits) if disc_mask >> b & 1]
        for v in range(1 << len(bits)):
            word = sum(((v >> i) & 1) << b for i, b in enumerate(bits))
            assert sum(f.matches(word) for f in forms) == 1, (hex(op), bin(word))


def test_reference_quirks_in_table() -> None:
    assert REFERENCE_TABLE[0x84][0].key == "reserved"      # S3: BLAKE3 unreachable
    assert SPEC_TABLE[0x84][0].key == "blake3"
    assert REFERENCE_TABLE[0xFF][0].size == 0               # S2: nop does not advance
    assert SPEC_TABLE[0xFF][0].size == 1
    assert REFERENCE_TABLE[0x40][0].cx == 2**64 - 1


# Worked examples of encoding.md §2.2, bytes copied from the notes ([run]-verified there).
EXAMPLES = [
    ("200061", "add_a", (0, 0, 1, 3)),
    ("18f3a4", "lt_f", (0, 30, 4, 5)),
    ("2c4f3a", "shr_a", (1, 3, 1, 2, 7)),
    ("021000", "jmp", (0x10,)),
    ("101825", "mov_a", (3, 5, 1)),  # mov a16[3],a16[5]: sub 0, idx1 3, idx2 5, reg 1
]


def test_worked_examples() -> None:
    for hexcode, key, args in EXAMPLES:
        code = bytes.fromhex(hexcode)
        ins = decode(code, 0)
        assert ins is not None and ins.form.key == key and ins.args == args, hexcode
        assert encode(ins.form, ins.args) == code


def test_intflags_decode_quirk() -> None:
    """S4: bit 1 of IntFlags is ignored; re-encoding normalises."""
    assert decode(bytes.fromhex("2004e1"), 0).args[0] == 0
    ins = decode(bytes.fromhex("200261"), 0)
    assert ins.args[0] == 3 and encode(ins.form, ins.args) == bytes.fromhex("200661")


def test_truncation_and_put_swallowing() -> None:
    assert decode(bytes.fromhex("0210"), 0) is None             # truncated jmp
    ins = decode(bytes.fromhex("0b03"), 0)                     # put with no offset
    assert ins is not None and ins.value is None and ins.size == 2
    ins = decode(bytes.fromhex("0b0300"), 0)                   # offset half present
    assert ins.size == 3 and ins.value is None
    ins = decode(bytes.fromhex("0b030000"), 0, data=bytes(8))  # a64 from 8 data bytes
    assert ins.value == 0 and ins.size == 4
    assert decode(bytes.fromhex("0b030000"), 0, data=bytes(7)).value is None


def test_put_s_overrun_is_a_panic_marker() -> None:
    ins = decode(bytes.fromhex("300000000500"), 0, data=b"\xaa\xbb")
    assert ins is not None and ins.value is None                # reference panics (S7)
    ins = decode(bytes.fromhex("300100000200"), 0, data=b"\xaa\xbb\xcc")
    assert ins.args[0] == 1 and ins.value == (b"\xaa\xbb", False)


def test_reference_reencode_quirks() -> None:
    nop = decode(b"\xff", 0)
    assert encode_instr(nop, reference=True) == b"\x01"           # S2
    ins = decode(bytes.fromhex("3d0011"), 0)
    assert encode_instr(ins, reference=True) == bytes.fromhex("3e0011")   # S1
    assert encode_instr(ins) == bytes.fromhex("3d0011")


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=1, max_size=24))
def test_decode_encode_decode_roundtrip(code: bytes) -> None:
    listing, _ = decode_all(code, data=bytes(range(256)) * 2)
    for pos, ins in listing:
        if ins.form.special in (isa.NOP,):
            continue
        if ins.form.special == isa.PUT and ins.args[2] < 0:
            continue
        raw = encode_instr(ins)
        again = decode(raw, 0, data=bytes(range(256)) * 2)
        assert again is not None
        assert (again.form, again.args, again.size) == (ins.form, ins.args, len(raw))
        if ins.form.special != isa.RESERVED:
            assert len(raw) == ins.size


def test_control_flow_is_in_the_table() -> None:
    flows = {k: isa.BY_KEY[k].flow for k in ("fail", "test", "jmp", "jif", "routine", "call",
                                             "exec", "ret", "nop", "add_a")}
    assert [k for k, f in flows.items() if f.jumps] == ["jmp", "jif", "routine"]
    assert [k for k, f in flows.items() if f.falls] == ["test", "jif", "add_a"]
    assert [k for k, f in flows.items() if f.calls] == ["routine", "call"]
    assert [k for k, f in flows.items() if f.leaves] == ["call", "exec"]
    assert [k for k, f in flows.items() if f.returns] == ["ret"]
    assert not flows["add_a"].control and isa.SPEC_TABLE[0xFF][0].flow == isa.FALLS
    assert isa.REFERENCE_TABLE[0x40][0].flow.stops and isa.BY_KEY["nop"].size == 0
    assert isa.BY_KEY["jif"].target((0x1234,)) == 0x1234 and isa.BY_KEY["call"].target((1, 2)) is None


def test_a_profile_without_an_op_for_a_decodable_key_is_refused() -> None:
    from dataclasses import replace

    from aluvm.machine.interp import REFERENCE, check_profile
    ops = dict(REFERENCE.ops)
    del ops["add_a"]
    with pytest.raises(AssertionError, match="add_a"):
        check_profile(replace(REFERENCE, name="broken", ops=ops))
