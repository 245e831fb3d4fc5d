"""The banks an instruction may touch (``aluvm.isa.effects``), checked against the interpreter.

Every form of both profiles' tables runs on random operands over random register files (dense
and sparse, so that writes of values and of "undefined" both show); every bank the run changed
must be among the banks :func:`operand_banks` names.  Random multi-instruction programs (jumps
into instructions included) check :func:`program_banks` the same way.  A test that fails here
means a semantic function writes a register its template does not name: add it to
``effects._HIDDEN``.  ``EFFECTS_INSTANCES=1500`` searches longer (1,500 instances per form and
15,000 programs per profile found nothing, ~5 min on 2 workers).
"""
from __future__ import annotations

import os
import random

import pytest

from aluvm.isa import effects, table as isa
from aluvm.isa.codec import decode, encode
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.interp import Program, get_profile
from aluvm.machine.registers import A_BITS, F_BYTES, F_NAMES, R_BITS, Registers
from aluvm.tools.service import interp_runner

from test_jit_diff import random_args, random_program

PROFILES = ("reference", "spec")
#: random instances per form (programs: ten times as many); raise for a longer search
INSTANCES = int(os.environ.get("EFFECTS_INSTANCES", "40"))
TABLES = {"reference": isa.REFERENCE_TABLE, "spec": isa.SPEC_TABLE}


def banks(regs: Registers) -> list[list]:
    return [list(b) for b in (*regs.a, *regs.f, *regs.r, regs.s)]


def random_regs(rng: random.Random) -> Registers:
    """Dense or sparse values in every bank (S strings long enough for offsets to hit)."""
    regs = Registers()
    p = rng.choice([0.05, 0.3, 0.9])
    for c in range(8):
        for i in range(32):
            if rng.random() < p:
                regs.a[c][i] = rng.choice([0, 1, 2, rng.getrandbits(A_BITS[c]),
                                           (1 << A_BITS[c]) - 1, rng.randrange(40)])
            if rng.random() < p / 3:
                regs.set_named(f"{F_NAMES[c]}[{i}]", rng.randbytes(F_BYTES[c]))
            if rng.random() < p / 3 and c < 5:
                regs.r[c][i] = rng.getrandbits(R_BITS[c])
    for i in range(16):
        if rng.random() < max(p, 0.5):
            regs.s[i] = rng.randbytes(rng.choice([0, 1, 2, 5, 20, 40, 70]))
    regs.st0 = rng.random() < 0.8
    return regs


def changed(before: list[list], regs: Registers) -> set[int]:
    return {k for k, (b, a) in enumerate(zip(before, banks(regs))) if b != a}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_form_writes_only_its_banks(profile: str) -> None:
    rng = random.Random(f"effects-{profile}")
    table = TABLES[profile]
    data = bytes(rng.randrange(256) for _ in range(300))
    seen_writes: set[str] = set()
    for forms in table:
        for form in forms:
            for _ in range(INSTANCES):
                code = encode(form, random_args(rng, form, 8, field_share=0.7)) + b"\x00" * 4
                ins = decode(code, 0, data, (), table)
                assert ins is not None and ins.form.key == form.key
                allowed = effects.operand_banks(ins.form, ins.args)
                assert allowed is not None
                regs = random_regs(rng)
                before = banks(regs)
                interp_runner(Lib.with_(DEFAULT_ISAE, code, data), regs, 0, profile)
                got = changed(before, regs)
                assert got <= allowed, (f"{form.key} {ins.args}: wrote banks "
                                        f"{sorted(got - allowed)}, allowed {sorted(allowed)}")
                if got:
                    seen_writes.add(form.key)
    # the check is not vacuous: the writing families did write (the reference panics in
    # stp, splt, ins, del_ and put_s over the data's end: P-cases; the spec profile does not)
    must = ["put_a", "clr_r", "mov_f", "add_a", "extr", "sha256", "find", "len_s", "cnt", "con",
            "cnv_af", "secp_gen"]
    if profile == "spec":
        must += ["stp", "splt", "ins", "del_", "put_s", "blake3"]
    missing = [k for k in must if k not in seen_writes]
    assert not missing, missing


@pytest.mark.parametrize("profile", PROFILES)
def test_random_programs_write_only_program_banks(profile: str) -> None:
    rng = random.Random(f"effects-programs-{profile}")
    prof = get_profile(profile)
    nonempty = 0
    for _ in range(10 * INSTANCES):
        code = random_program(rng)
        data = rng.randbytes(rng.choice([0, 16, 64, 200]))
        lib = Lib.with_(DEFAULT_ISAE, code, data)
        allowed = effects.program_banks(Program(code, data, (), lib.id, prof))
        assert allowed is not None
        regs = random_regs(rng)
        regs.cy0 = 65500            # loops end fast
        before = banks(regs)
        entry = 0 if rng.random() < 0.8 else rng.randrange(len(code) + 1)
        interp_runner(lib, regs, entry, profile)
        got = changed(before, regs)
        assert got <= allowed, f"code={code.hex()} entry={entry}: {sorted(got - allowed)}"
        nonempty += bool(got)
    assert nonempty > 100


def test_templates_name_the_operands() -> None:
    """Hand-checked examples of the template reading (bank numbers: A 0.., F 8.., R 16.., S 24)."""
    def ob(key: str, *args: int) -> set[int]:
        out = effects.operand_banks(isa.BY_KEY[key], tuple(args))
        assert out is not None
        return set(out)
    assert ob("find", 1, 2) == {1, 24}                       # a16[0] named literally
    assert ob("extr", 0, 10, 3, 1) == {24, 16 + 2, 1}        # s, r256 (AR 10), a16
    assert ob("extr", 0, 3, 3, 1) == {24, 3, 1}              # s, a64 (AR 3), a16
    assert ob("sha256", 0, 1) == {24, 16 + 2}
    assert ob("secp_mul", 1, 0, 1, 2) == {5, 16 + 3}         # a256 scalar, r512
    assert ob("secp_mul", 0, 0, 1, 2) == {16 + 2, 16 + 3}    # r256 scalar
    assert ob("stp", 2, 7, 1) == {2}                         # hidden in its display text
    assert ob("cnv_af", 3, 0, 2, 1) == {3, 8 + 2}
    assert ob("neg", 9, 0) == {8 + 1}                        # AF code 9 = f16
    assert ob("fill", 0, 1, 2, 3, 0) == {24, 1, 0}
    assert ob("jmp", 5) == set()


def test_host_extension_ops_are_unknown() -> None:
    form = isa.make_form(0x90, "host_thing", "reg:3 idx:5", 10, "thing   {A:reg}{i:idx}")
    assert effects.operand_banks(form, (0, 0)) is None


@pytest.mark.parametrize("profile", PROFILES)
def test_program_banks_is_the_union_over_every_offset(profile: str) -> None:
    """The byte-window memo of :func:`program_banks` changes nothing: same set as decoding
    every offset one by one (random programs, and a long repetition ending in a truncation)."""
    rng = random.Random(f"effects-union-{profile}")
    prof = get_profile(profile)
    codes = [random_program(rng) for _ in range(150)]
    codes.append(bytes.fromhex("200261" * 300 + "39a2" + "2002"))
    for code in codes:
        prog = Program(code, b"\x01" * 40, (), bytes(32), prof)
        naive: set[int] = set()
        for pos in range(len(code)):
            ins = prog.decode_at(pos)
            if ins is not None:
                got = effects.operand_banks(ins.form, ins.args)
                assert got is not None
                naive |= got
        assert effects.program_banks(prog) == frozenset(naive), code.hex()
