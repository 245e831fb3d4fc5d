"""Interpreter behaviour: run loop, counters, control flow, profiles, integer semantics.

Expected values come from the spec notes' [run]-verified examples, not from this code."""
from __future__ import annotations

from aluvm.machine.interp import REFERENCE, SPEC, Machine
from aluvm.semantics.intmath import shr_signed, store_signed
from aluvm.machine.registers import Registers

LIB = bytes([7]) * 32


def run(code: str, data: str = "", profile=REFERENCE, regs: Registers | None = None,
        entry: int = 0):
    regs = regs or Registers()
    m = Machine(profile)
    m.add(bytes.fromhex(code), bytes.fromhex(data), (), LIB)
    out = m.run(LIB, entry, regs)
    return regs, out


def test_worked_library_example() -> None:
    regs, out = run("0b030000" "0b0b0800" "200061", "0500000000000000" "0700000000000000")
    assert regs.a[3][1] == 12 and regs.st0 and regs.cy0 == 0 and regs.ca0 == 5


def test_endless_jump_hits_the_cy0_limit() -> None:
    regs, out = run("020000")
    assert (regs.st0, regs.cy0, regs.ca0) == (False, 65535, 131072)


def test_empty_program_and_entry_past_end_keep_st0() -> None:
    assert run("")[0].st0 is True
    assert run("01")[0].st0 is True
    regs, _ = run("00", entry=5)
    assert regs.st0 is True and regs.ca0 == 0


def test_truncated_instruction_stops_silently() -> None:
    regs, out = run("1f02")             # stinv, then a cut-off jmp
    assert regs.st0 is False and regs.ca0 == 1


def test_reference_routine_never_returns() -> None:
    regs, _ = run("0404001f07")          # routine 4; stinv; ret  -> ret at 4 stops
    assert regs.cy0 == 1 and regs.st0 is True and regs.cp0 == 0


def test_spec_routine_returns() -> None:
    # routine 0x0005; stinv; ret(at 4)?  layout: 0:routine 5 | 3: stinv | 4: fail | 5: ret
    regs, out = run("040500" "1f" "00" "07", profile=SPEC)
    # returns to 3 (stinv: st0 false), then fail
    assert regs.cy0 == 1 and regs.st0 is False and regs.cp0 == 0


def test_spec_falling_off_the_end_fails() -> None:
    assert run("01", profile=SPEC)[0].st0 is False
    assert run("01", profile=REFERENCE)[0].st0 is True


def test_reference_nop_hangs_is_stopped_deterministically() -> None:
    regs, out = run("ff")
    assert regs.st0 is False and out.panicked and "nop" in out.reason


def test_reference_nop_with_limit_stops_at_limit() -> None:
    regs = Registers()
    regs.cl0 = 1000
    regs, out = run("ff", regs=regs)
    assert regs.st0 is False and regs.ca0 == 1000


def test_spec_nop_advances() -> None:
    regs, _ = run("ff01", profile=SPEC)
    assert regs.ca0 == 5 and regs.st0 is False   # nop 1 + test 2 + zero-extended fail 2


def test_complexity_limit_stops_after_the_instruction() -> None:
    regs = Registers()
    regs.cl0 = 3
    regs, _ = run("1f1f1f1f", regs=regs)          # 4 x stinv, limit after the 3rd
    assert regs.ca0 == 3 and regs.st0 is False


def test_reserved_saturates_complexity() -> None:
    regs, _ = run("40")
    assert regs.ca0 == 2**64 - 1 and regs.st0 is False


def test_missing_library_keeps_st0() -> None:
    regs, out = run("05000000")          # call 0 @ libs[0] -> all-zero id, not present
    assert regs.st0 is True and regs.cy0 == 1 and out.reason == "library not found"


def test_store_signed_examples() -> None:
    # semantics.md §1.2 [run]: -1 -> 0x00FF, -2 -> 0x00FE, -128 -> 0x0080, -129 -> 0xFF7F
    assert store_signed(-1, 16) == 0x00FF
    assert store_signed(-2, 16) == 0x00FE
    assert store_signed(-128, 16) == 0x0080
    assert store_signed(-129, 16) == 0xFF7F
    assert store_signed(-3, 32) == 0xFD


def test_shr_signed_examples() -> None:
    # semantics.md §6 [run]
    assert shr_signed(0x8000, 8, 16) == 0x0080
    assert shr_signed(0x8001, 20, 16) == 0x00FF
    assert shr_signed(0x8001, 1010, 16) == 0x3FFF
    assert shr_signed(0x8001, 1023, 16) == 0x0001
    assert shr_signed(0x8001, 1024, 16) == 0
    assert shr_signed(0x8000, 1, 16) == 0xC000


def _a16(code: str, a: int, b: int, op_first: bool = True):
    regs = Registers()
    regs.a[1][0], regs.a[1][1] = a, b
    return run(code, regs=regs)[0]


def test_add_sub_sw_truncation() -> None:
    # add.sw a16[0],a16[1] = 20 06 21; result into a16[1]
    assert _a16("200621", 0xFFFF, 0xFFFF).a[1][1] == 0x00FE
    assert _a16("200621", 0x0007, 0xFF09).a[1][1] == 0xFF10
    assert _a16("210621", 5, 7).a[1][1] == 0x00FE          # sub.sw: 5 - 7


def test_div_uc_relabels_signed() -> None:
    assert _a16("230021", 0xFFFF, 1).a[1][1] == 0x00FF
    assert _a16("230021", 0x7FFF, 1).a[1][1] == 0x7FFF


def test_signed_compare_defect() -> None:
    # gt.s a16[0],a16[1]: 18 04 21 ; 0 is below every negative number
    regs = _a16("180421", 0, (-5) & 0xFFFF)
    assert regs.st0 is False
    regs = _a16("180421", (-5) & 0xFFFF, 0)
    assert regs.st0 is True


def test_multi_library_exec_and_call() -> None:
    import aluvm
    callee = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("1f1f1f"))      # 3 x stinv
    caller = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("06010000" "00"), b"",
                             [callee.id])                                      # exec 1 @ callee
    regs = aluvm.Registers()
    out = aluvm.run(caller, regs, libs=[callee])
    # exec counts a jump, runs stinv twice from offset 1, callee falls off its end: st0 kept
    assert out.reason == "end of code"
    assert regs.cy0 == 1 and regs.st0 is True and regs.ca0 == 2 + 1 + 1
    # without the callee present the reference keeps st0 and stops (S12); spec fails
    regs = aluvm.Registers()
    aluvm.run(caller, regs)
    assert regs.st0 is True and regs.ca0 == 2
    regs = aluvm.Registers()
    aluvm.run(caller, regs, profile="spec")
    assert regs.st0 is False


def test_spec_call_returns_across_libraries() -> None:
    import aluvm
    callee = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("1f07"))        # stinv; ret
    caller = aluvm.Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("05000000" "1f" "01"), b"",
                             [callee.id])                                      # call; stinv; test
    regs = aluvm.Registers()
    aluvm.run(caller, regs, profile="spec", libs=[callee])
    # stinv twice -> st0 true; cp0 back to 0; spec falls off the end -> fail
    assert regs.cp0 == 0 and regs.cy0 == 1 and regs.ca0 == 2 + 1 + 2 + 1 + 2 + 2
    regs = aluvm.Registers()
    aluvm.run(caller, regs, profile="reference", libs=[callee])
    # reference: ret with cp0 == 0 stops the whole program after the callee's stinv
    assert regs.cp0 == 0 and regs.st0 is False and regs.ca0 == 2 + 1 + 2


def test_a1024_div_sw_with_min() -> None:
    """semantics.md §4.2 [run] observations and vector arith-1131."""
    import pytest
    from aluvm.errors import Panic
    from aluvm.semantics.intmath import M1024, MIN1024, div_sw
    assert div_sw(MIN1024, MIN1024, 1024) == 1
    assert div_sw(MIN1024, M1024, 1024) is None              # MIN / -1
    assert div_sw(MIN1024, (-2) & M1024, 1024) == 1          # (should be 2^1022)
    assert div_sw(MIN1024 - 1, MIN1024, 1024) == 0           # MAX / MIN
    assert div_sw(MIN1024 + 1, MIN1024, 1024) == 1
    for a, b in [(M1024, MIN1024), (1, MIN1024), (MIN1024, 7)]:
        with pytest.raises(Panic):
            div_sw(a, b, 1024)
