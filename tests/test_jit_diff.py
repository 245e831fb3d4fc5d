"""Differential tests: the JIT tier must leave exactly the interpreter's state.

Random programs are drawn from the instruction table (biased towards what the JIT compiles, with
loops, jumps into the middle of instructions, reserved opcodes and everything else the
interpreter has to run), with random initial registers, both profiles, complexity limits that
fall inside blocks and jump counters near 65535.  Then the shared vectors are replayed through
the JIT runner: every family must pass exactly as with the interpreter.
"""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from aluvm.isa import table as isa
from aluvm.isa.codec import decode, encode
from aluvm.machine import interp
from aluvm.tools.conform import iter_vectors, run_vectors
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.library.ids import LibSite
from aluvm.machine.registers import A_BITS, F_BYTES, F_NAMES, R_BITS, U64_MAX, Registers
from aluvm.tools.service import handle, interp_runner, state_dict

from conftest import LOCAL_VECTORS, shared_vectors
from aluvm.jit import codegen, lift
from aluvm.jit.engine import jit_runner, last_stats

PROFILES = ("reference", "spec")


pytestmark = pytest.mark.usefixtures("jit_eager")

# ---- program generation from the instruction table ------------------------------------------

COMPILED = set(codegen.SUPPORTED) | lift.CTRL_KEYS
ALL_FORMS = [f for f in isa.FORMS if f.key != "nop"]


def _form_weight(form: isa.Form) -> int:
    if form.key in lift.CTRL_KEYS:
        return 6
    if form.key in COMPILED:
        return 10
    return 1


WEIGHTED = [f for f in ALL_FORMS for _ in range(_form_weight(f))]
NATIVE_ONLY = [f for f in WEIGHTED if f.key in COMPILED]
EXTRA_OPCODES = [0x40, 0x7F, 0x84, 0x90, 0xFE, 0xFF]   # reserved, BLAKE3 (spec), nop


def edge_value(rng: random.Random, w: int) -> int:
    mask = (1 << w) - 1
    top = 1 << (w - 1)
    return rng.choice([0, 1, 2, 3, 7, 0xFF & mask, mask, mask - 1, top, top + 1, top - 1,
                       rng.getrandbits(w), rng.getrandbits(w), rng.getrandbits(rng.randint(1, w)),
                       mask ^ rng.getrandbits(min(w, 8))])


def _field_value(rng: random.Random, form: isa.Form, f: isa.Field, code_len: int) -> int:
    name = f.name
    if name == "pos":
        return rng.choice([rng.randrange(max(code_len, 1) + 2), 0, rng.randrange(1 << 16)])
    if name in ("flags",):
        return rng.choice([0, 1])                    # only bit 0 decodes (S4)
    if name == "off" and form.special == isa.PUT:
        return rng.choice([0, 1, 8, 16, rng.randrange(96), rng.randrange(1 << 16)])
    if f.bits == 5 and name not in ("reg", "reg1", "reg2"):
        return rng.choice([0, 1, 2, 3, rng.randrange(32)])   # indexes: collisions are likely
    if f.bits == 4 and name in ("src1", "src2", "dst", "idx", "shift"):
        return rng.choice([0, 1, 2, 3, rng.randrange(16)])
    if name in ("len",):
        return rng.randrange(40)
    return rng.randrange(1 << f.bits)


def random_instruction(rng: random.Random, code_len: int, pure: bool = False,
                       forms: list | None = None) -> bytes:
    """One instruction of a random form (of ``forms`` when given) with random operands."""
    if not pure and rng.random() < 0.04:
        return bytes([rng.choice(EXTRA_OPCODES)])
    form = rng.choice(forms or (NATIVE_ONLY if pure else WEIGHTED))
    return encode(form, random_args(rng, form, code_len))


def random_args(rng: random.Random, form: isa.Form, code_len: int,
                field_share: float = 1.0) -> list[int]:
    """Operands of ``form``: by the operand rules above (collisions, edge positions), or for
    a ``1 - field_share`` part of the fields any value the field can hold."""
    args = []
    for f in form.fields:
        if f.fixed is not None or f.kind == "pad":
            continue
        if field_share < 1.0 and rng.random() >= field_share:
            v = rng.randrange(1 << f.bits)
        else:
            v = _field_value(rng, form, f, code_len)
        if f.kind == "s8":
            v &= 0x0F
        elif f.kind == "i8":
            v = v - 256 if v >= 128 else v
        elif f.kind == "iflags":
            v = 3 if v & 1 else 0
        args.append(v)
    return args


def random_program(rng: random.Random) -> bytes:
    """1-14 instructions; 40% of the programs only use what the JIT compiles."""
    n = rng.randint(1, 14)
    pure = rng.random() < 0.4
    code = b""
    for _ in range(n):
        code += random_instruction(rng, len(code) + 8, pure)
    if rng.random() < 0.5:        # a loop back somewhere (possibly into an instruction)
        target = rng.choice([0, rng.randrange(len(code) + 1)])
        code += bytes([rng.choice([2, 2, 3, 4])]) + target.to_bytes(2, "little")
    if rng.random() < 0.1:
        code = code[:-1]          # truncated last instruction
    return code[:0xFFFF]


def random_registers(rng: random.Random, loop_heavy: bool) -> Registers:
    regs = Registers()
    for c in range(8):
        for i in range(4):
            if rng.random() < 0.6:
                regs.a[c][i] = edge_value(rng, A_BITS[c])
        if rng.random() < 0.3:
            regs.a[c][rng.randrange(32)] = edge_value(rng, A_BITS[c])
    for _ in range(rng.randint(0, 4)):
        code, idx = rng.randrange(8), rng.choice([0, 1, 2, rng.randrange(32)])
        regs.set_named(f"{F_NAMES[code]}[{idx}]", rng.randbytes(F_BYTES[code]))
    for _ in range(rng.randint(0, 3)):
        code = rng.randrange(5)
        regs.r[code][rng.choice([0, 1, rng.randrange(32)])] = rng.getrandbits(R_BITS[code])
    for _ in range(rng.randint(0, 3)):
        regs.s[rng.randrange(16)] = rng.randbytes(rng.randrange(12))
    regs.st0 = rng.random() < 0.7
    # loops run to the cy0 limit: start near it so examples stay fast
    regs.cy0 = rng.choice([65535, 65534, 65500, 65000 + rng.randrange(500)] if loop_heavy
                          else [0, 0, 65534, 65535])
    regs.ca0 = rng.choice([0, 0, rng.randrange(1000), U64_MAX - rng.randrange(40), U64_MAX])
    regs.cl0 = rng.choice([None, None, None, None, regs.ca0 + rng.randrange(1, 60),
                           rng.randrange(200), regs.ca0 + rng.randrange(1, 5000)])
    if regs.cl0 is not None:
        regs.cl0 = min(regs.cl0, U64_MAX)
    if rng.random() < 0.1:            # a non-empty call stack (API use)
        regs.cp0 = rng.randint(1, 3)
        for k in range(regs.cp0):
            regs.cs0[k] = LibSite(bytes([7]) * 32, rng.randrange(64))
    return regs


def snapshot(regs: Registers, outcome, lib: Lib) -> dict:
    out = state_dict(regs, outcome, lib)
    out["cs0_all"] = sorted((k, v.lib.hex(), v.pos) for k, v in regs.cs0.items())
    return out


def run_both(code: bytes, data: bytes, regs: Registers, profile: str, entry: int = 0
             ) -> tuple[dict, dict]:
    lib = Lib.with_(DEFAULT_ISAE, code, data)
    r1, r2 = regs.copy(), regs.copy()
    o1 = interp_runner(lib, r1, entry, profile)
    o2 = jit_runner(lib, r2, entry, profile)
    assert "compile_error" not in last_stats(), last_stats()["compile_error"]
    return snapshot(r1, o1, lib), snapshot(r2, o2, lib)


def check_seed(seed: int, profile: str) -> None:
    check_random(random.Random(seed), profile)


def check_random(rng: random.Random, profile: str) -> None:
    code = random_program(rng)
    data = rng.randbytes(rng.choice([0, 16, 64, 200]))
    loop_heavy = any(b in (2, 3, 4) for b in code)
    regs = random_registers(rng, loop_heavy)
    entry = 0 if rng.random() < 0.85 else rng.randrange(len(code) + 2)
    a, b = run_both(code, data, regs, profile, entry)
    assert a == b, f"code={code.hex()} data={data.hex()} entry={entry} profile={profile}"


@pytest.mark.parametrize("profile", PROFILES)
@settings(max_examples=int(os.environ.get("JIT_DIFF_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_random_programs_identical(profile: str, rng: random.Random) -> None:
    check_random(rng, profile)


@pytest.fixture
def unoptimised_jit(monkeypatch, tmp_path):
    """Every library compiles as cold (unoptimised) code, as huge libraries do - loops too -
    into a fresh object cache (the cache key does not name the optimisation level)."""
    from aluvm.jit import engine
    from aluvm.jit.cache import CodeCache, use_code_cache
    from aluvm.jit.settings import JitSettings
    monkeypatch.setattr(engine, "opt_level", lambda cfg: 0)
    prev = use_code_cache(CodeCache(JitSettings(eager=True, cache_dir=tmp_path)))
    try:
        yield
    finally:
        use_code_cache(prev)


@pytest.mark.parametrize("profile", PROFILES)
@settings(max_examples=int(os.environ.get("JIT_DIFF_EXAMPLES", "150")) // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_random_programs_identical_unoptimised(profile: str, rng: random.Random,
                                               unoptimised_jit) -> None:
    check_random(rng, profile)


# ---- targeted shapes ------------------------------------------------------------------------

def _lib_regs(**a: int) -> Registers:
    regs = Registers()
    for name, v in a.items():
        regs.a[int(name[1])][int(name[3:])] = v
    return regs


@pytest.mark.parametrize("profile", PROFILES)
@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 2**64 - 1), y=st.integers(0, 2**64 - 1), cl=st.integers(0, 400),
       ca=st.integers(0, 50))
def test_limit_crossed_inside_a_loop_block(profile: str, x: int, y: int, cl: int, ca: int) -> None:
    # add.sw; mul.uc; xor; jmp 0 - the limit falls anywhere inside the block
    code = bytes.fromhex("200261" "220061") + encode(isa.BY_KEY["xor"], [3, 0, 1, 2]) + bytes.fromhex("020000")
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = x, y
    regs.ca0, regs.cl0 = ca, ca + cl
    a, b = run_both(code, b"", regs, profile)
    assert a == b


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("cy0", [65533, 65534, 65535])
def test_cy0_limit_in_every_jump_kind(profile: str, cy0: int) -> None:
    for code in ("020000", "1f030000", "030000", "040000", "0100" "040600" "07" "0d0000",
                 "050000ff", "060000ff"):
        regs = Registers()
        regs.cy0 = cy0
        a, b = run_both(bytes.fromhex(code), b"", regs, profile)
        assert a == b, code


@pytest.mark.parametrize("profile", PROFILES)
def test_jump_into_the_middle_of_an_instruction(profile: str) -> None:
    # 0: jmp 1 -> decodes "01 00" as test, then 00 = fail ... ; plus a put whose data bytes are code
    for code in ("020100", "0b03020002fe", "2002610301000200", "1f030100"):
        regs = Registers()
        regs.a[3][0] = 5
        a, b = run_both(bytes.fromhex(code), bytes(range(32)), regs, profile)
        assert a == b, code


@pytest.mark.parametrize("profile", PROFILES)
def test_program_of_only_fallback_instructions(profile: str) -> None:
    # put s16; sha2; mov s; len s -> a16; digest; cnv f
    code = bytes.fromhex("300000000400" "8101" "310f" "340001" "8100")
    regs = Registers()
    a, b = run_both(code, b"abcdefgh", regs, profile)
    assert a == b
    # (the spec profile's zero-extended code ends in a compiled `fail`)
    assert last_stats()["compiled_instrs"] == (0 if profile == "reference" else 1)


@pytest.mark.parametrize("profile", PROFILES)
def test_routine_recursion_and_returns(profile: str) -> None:
    # 0: routine 6 | 3: stinv? no: 3: jmp 0x0a | 6: stinv | 7: ret | 8..: padding
    for code in ("040600" "020a00" "1f" "07" "0000" "01", "040000", "0403000701",
                 "0406000400001f07", "1f" "040800" "0300" "00" "1f07"):
        for cy0 in (0, 65000, 65534):
            regs = Registers()
            regs.cy0 = cy0
            a, b = run_both(bytes.fromhex(code), b"", regs, profile)
            assert a == b, code


# ---- the shared vectors through the JIT ------------------------------------------------------

def _vector_files() -> list:
    shared = shared_vectors()
    base = shared if shared is not None else LOCAL_VECTORS
    return sorted(p for p in base.glob("*.jsonl.gz") if p.name.split(".")[0] not in ("disasm", "libid"))


def _run_requests_only(path):
    for vec in iter_vectors([str(path)]):
        if vec["request"].get("op", "run") == "run":
            yield vec


SPEC_SAMPLE = int(os.environ.get("JIT_SPEC_SAMPLE", "8"))


@pytest.mark.parametrize("path", _vector_files(), ids=lambda p: p.name.split(".")[0])
def test_vectors_through_the_jit(path) -> None:
    """Every run vector passes with the JIT runner, as it does with the interpreter
    (tests/test_vectors.py); and under the ``spec`` profile, for which the vectors have no
    expectations, a sample of the same requests leaves identical states in both tiers."""
    supports = codegen.make_supports(interp.REFERENCE)
    entered: list[bool] = []          # per vector whose entry instruction compiles: ran natively

    def runner(lib, regs, entry, profile):
        ins = decode(lib.code, entry, lib.data, lib.libs)
        outcome = jit_runner(lib, regs, entry, profile)
        if ins is not None and supports(ins):
            entered.append(last_stats()["native_calls"] > 0)
        return outcome

    jit = run_vectors(_run_requests_only(path), lambda req: handle(req, "reference", runner),
                      strict_panics=True)     # panics: the recorded state must match too
    for name, r in jit.items():
        assert r.failed == 0 and r.flagged_failed == 0, f"{name}: {r.failures[:5]}"
        assert r.passed + r.flagged_passed > 0
    # (eager compilation: a library whose entry instruction compiles is entered natively)
    assert all(entered), f"{entered.count(False)} of {len(entered)} vectors never ran native code"
    for k, vec in enumerate(_run_requests_only(path)):
        if k % SPEC_SAMPLE:
            continue
        req = vec["request"]
        a = handle(req, "spec", interp_runner)
        b = handle(req, "spec", jit_runner)
        assert a == b, vec["id"]
