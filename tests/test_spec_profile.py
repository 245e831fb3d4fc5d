"""The `spec` profile: the reference table with defect entries replaced.

Every case below panics (or misbehaves) in the reference profile; the expected spec results
are the documented semantics, computed by hand."""
from __future__ import annotations

import pytest

from aluvm.machine.interp import REFERENCE, SPEC, Machine
from aluvm.machine.registers import Registers

LIB = bytes([9]) * 32


def run(code: str, regs: Registers, profile=SPEC, data: str = "") -> tuple[Registers, str]:
    m = Machine(profile)
    # programs end with `ret` so that the spec profile stops with st0 as the code left it
    m.add(bytes.fromhex(code + "07"), bytes.fromhex(data), (), LIB)
    out = m.run(LIB, 0, regs)
    return regs, out.reason


def both(code: str, setup, data: str = ""):
    ref, why = run(code, setup(Registers()), REFERENCE, data)
    assert why.startswith("panic"), why
    return run(code, setup(Registers()), SPEC, data)[0]


def test_stp_steps() -> None:
    # 24 03 05: stp a64[0] by +5 ; 24 03 fb: by -5
    def setup(r):
        r.a[3][0] = 10
        return r
    assert both("240305", setup).a[3][0] == 15
    assert both("2403fb", setup).a[3][0] == 5
    regs = both("2403f5", setup)                 # 10 - 11 underflows
    assert regs.a[3][0] is None and regs.st0 is False


def test_st_add_on_wide_registers() -> None:
    # 1e: st flag a(1), reg a16(1), idx 0 -> byte = 1 | 1<<2 | 0<<5 = 0x05
    def setup(r):
        r.a[1][0] = 41
        return r
    assert both("1e05", setup).a[1][0] == 42


def test_rem_on_wide_and_mixed_registers() -> None:
    # rem a256[0],a8[1]: 27 | reg1 5, idx1 0 -> 0x05 | reg2 0, idx2 1 -> 0x08
    def setup(r):
        r.a[5][0] = 1000
        r.a[0][1] = 7
        return r
    assert both("270508", setup).a[0][1] == 6


def test_div_sw_without_the_bigint_panic() -> None:
    # div.sw a8[0],a8[1] = 23 06 01 ; 1 / -2 -> Euclidean 0 (remainder 1)
    def setup(r):
        r.a[0][0], r.a[0][1] = 1, 0xFE
        return r
    regs = both("230601", setup)
    assert regs.a[0][1] == 0 and regs.st0 is True


def test_wide_r_logic_and_compare() -> None:
    big = 1 << 2000
    # and r2048[0],r2048[1] -> r2048[2]: 28 | reg 8+5=13, src1 0 -> 0x0d | src2 1, dst 2 -> 0x21
    def setup(r):
        r.r[5][0], r.r[5][1] = big | 3, big | 5
        return r
    assert both("280d21", setup).r[5][2] == big | 1
    # gt r2048[0],r2048[1]: 19 | sub 0, flag 0, idx1 0 -> 0x00 | idx2 1, reg 5 -> 0xa1
    assert both("1900a1", setup).st0 is False


def test_shl_on_undefined_wide_register() -> None:
    # shl a16[0] by a8[0]: 2c | dir 0, a2 0, shift 0, reg(u4) bits 7..10 = 1 -> 0x80 | idx 0 -> 0x00
    regs = both("2c8000", lambda r: r)
    assert regs.st0 is False and regs.a[1][0] is None


def test_put_s_overrun_truncates() -> None:
    regs, why = run("300000000500", Registers(), SPEC, data="aabb")
    assert regs.s[0] == b"\xaa\xbb" and regs.st0 is False
    assert run("300000000500", Registers(), REFERENCE, data="aabb")[1].startswith("panic")


def test_spec_blake3_and_ed25519_reachable() -> None:
    import blake3
    regs = Registers()
    regs.s[0] = b"abc"
    regs, _ = run("840001", regs)                     # blake3 s16[0],r256[0]
    assert regs.r[2][0] == int.from_bytes(blake3.blake3(b"abc").digest(), "little")
    regs = Registers()
    regs.r[2][0] = 1
    regs, why = run("8c00", regs)                     # edgen r256[0],r256[0]: 1*B
    assert not why.startswith("panic")
    assert regs.r[2][0] is not None


@pytest.mark.parametrize("code", ["3c000000", "3d0000", "3e00000000"])
def test_string_ops_do_not_panic(code: str) -> None:
    regs = Registers()
    regs.s[0] = b"hello"
    regs.a[1][0] = 2
    _, why = run(code, regs)
    assert not why.startswith("panic")


def test_no_panic_remains_under_spec_on_the_vector_slice() -> None:
    from aluvm.tools.conform import iter_vectors
    from aluvm.tools.service import handle
    from conftest import LOCAL_VECTORS
    panics = []
    for vec in iter_vectors([str(LOCAL_VECTORS)]):
        req = vec["request"]
        if req.get("op", "run") != "run":
            continue
        reason = handle(req, "spec").get("reason", "")
        if reason.startswith(("panic", "internal")):
            panics.append((vec["id"], reason))
    assert panics == []
