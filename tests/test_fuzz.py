"""Robustness: any bytes, any registers, any limits -> a deterministic result, never a crash."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from aluvm.machine.interp import REFERENCE, SPEC, Machine
from aluvm.library.lib import Lib, LibraryError
from aluvm.machine.registers import A_BITS, F_BYTES, R_BITS, Registers
from aluvm.tools.service import handle


LIB = bytes([3]) * 32


@st.composite
def register_files(draw) -> Registers:
    regs = Registers()
    for _ in range(draw(st.integers(0, 12))):
        fam = draw(st.sampled_from("afrs"))
        code, idx = draw(st.integers(0, 7)), draw(st.integers(0, 31))
        if fam == "a":
            regs.a[code][idx] = draw(st.integers(0, (1 << A_BITS[code]) - 1))
        elif fam == "f":
            regs.set_named(f"{['f16b','f16','f32','f64','f80','f128','f256','f512'][code]}[{idx}]",
                           draw(st.binary(min_size=F_BYTES[code], max_size=F_BYTES[code])))
        elif fam == "r":
            regs.r[code][idx] = draw(st.integers(0, (1 << R_BITS[code]) - 1))
        else:
            regs.s[idx % 16] = draw(st.binary(max_size=40))
    regs.st0 = draw(st.booleans())
    regs.cy0 = draw(st.sampled_from([0, 0, 65530, 65535]))
    regs.cl0 = draw(st.one_of(st.none(), st.integers(0, 5000)))
    return regs


def _run(profile, code: bytes, data: bytes, regs: Registers):
    m = Machine(profile)
    m.add(code, data, (), LIB)
    return m.run(LIB, 0, regs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=48), st.binary(max_size=80), register_files(), st.booleans())
def test_random_programs_terminate_deterministically(code, data, regs, spec) -> None:
    profile = SPEC if spec else REFERENCE
    again = regs.copy()
    out = _run(profile, code, data, regs)
    assert not out.reason.startswith("internal error"), out.reason
    out2 = _run(profile, code, data, again)
    assert out == out2
    assert regs.defined() == again.defined()
    assert (regs.st0, regs.cy0, regs.ca0) == (again.st0, again.cy0, again.ca0)
    if out.panicked:
        assert regs.st0 is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_library_blobs_raise_library_error(blob: bytes) -> None:
    try:
        Lib.deserialize(blob)
    except LibraryError as e:
        assert "\n" not in str(e)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["op", "code", "data", "regs", "st0", "cy0", "ca0", "cl0",
                                        "entry", "isae"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-5, 2**70), st.text(max_size=8),
                                 st.lists(st.integers(), max_size=2),
                                 st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2))))
def test_malformed_requests_get_an_error_reply(req: dict) -> None:
    """Any JSON object gets a reply: a result, or exactly ``{"ok": false, "error": ...}`` with a
    one-line message (never an exception, never an empty or multi-line error)."""
    out = handle(req)
    assert isinstance(out, dict) and out.get("ok") in (True, False), out
    if out["ok"] is False:
        assert set(out) == {"ok", "error"}, out
        assert isinstance(out["error"], str) and out["error"].strip() and "\n" not in out["error"], out
    else:
        assert req.get("op", "run") in ("run", "disasm", "reencode", "info"), out


# ---- the fuzz targets of ``make fuzz`` (fuzz/targets.py), a few hundred cases each -------------

import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from conftest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
from fuzz.targets import TARGETS, Finding  # noqa: E402

_CASES = {"decoder": 150, "library-binary": 300, "library-armored": 200, "assembler": 200,
          "exec-requests": 300, "cli": 60, "tiers": 30, "ext-contexts": 150,
          "batch-cuts": 300, "batch-shapes": 250}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_fuzz_target(name: str, jit_eager) -> None:
    target = TARGETS[name]

    @settings(max_examples=_CASES[name], deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.integers(0, 2**32 - 1))
    def check(seed: int) -> None:
        rng = random.Random(f"{name}:{seed}")
        try:
            first = target(rng)
        except Finding as e:
            raise AssertionError(f"{name} seed {seed}: {e}") from None
        if name in ("decoder", "library-binary", "assembler", "tiers", "ext-contexts",
                    "batch-cuts", "batch-shapes"):
            assert target(random.Random(f"{name}:{seed}")) == first   # deterministic
    check()


@pytest.mark.parametrize("mode", ["start", "end"])
def test_tiers_with_the_register_file_against_a_guard_page(mode: str) -> None:
    """Any access outside the native register file faults the worker (SIGSEGV)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), ALUVM_JIT_EAGER="1", ALUVM_JIT_GUARD=mode,
               ALUVM_JIT_CACHE="off")
    env.pop("ALUVM_STRICT", None)
    r = subprocess.run([sys.executable, "-m", "fuzz.worker", "tiers", "0", "12"], env=env,
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["findings"] == {}, out["examples"]


def test_guard_page_faults_outside_the_register_file() -> None:
    """The mode is real: a read just outside the buffer kills the process."""
    code = ("from aluvm.jit import compiled; import ctypes; v, rf, a = compiled._new_buffer(); "
            "ctypes.c_char.from_address(a + {off}).value")
    for mode, off in (("start", -1), ("end", "len(v)")):
        env = dict(os.environ, ALUVM_JIT_GUARD=mode)
        r = subprocess.run([sys.executable, "-c", code.format(off=off)], env=env,
                           capture_output=True, timeout=120)
        assert r.returncode == -11, (mode, r.returncode, r.stderr[-500:])


@pytest.mark.parametrize("target", ["decoder", "library-binary", "library-armored"])
def test_coverage_guided_harnesses_run_clean(target: str) -> None:
    """The atheris harnesses (optional extra 'fuzz') run a few hundred inputs cleanly."""
    pytest.importorskip("atheris")
    import os
    import subprocess
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "fuzz.libfuzzer", target, "300"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Done 300 runs" in r.stderr
