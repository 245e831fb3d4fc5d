"""Traces: both tiers agree instruction by instruction; `compare --trace` finds an injected
difference in the JIT at the instruction that has it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import LOCAL_VECTORS, ROOT

from aluvm.asm import assemble
from aluvm.machine.registers import Registers
from aluvm.tools import cli
from aluvm.tools.trace import first_difference, traced_run

LOOP = """
.MAIN
        put     a64[0],5
        put     a64[1],3
loop:   add.uc  a64[1],a64[0]
        sub.uc  a64[1],a64[2]
        lt.u    a64[0],a64[3]
        jif     loop
        ret
"""


def _run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loop_file(tmp_path):
    path = tmp_path / "loop.aluasm"
    path.write_text(LOOP)
    return str(path)


def test_text_trace_lists_every_instruction_with_its_writes(loop_file, capsys) -> None:
    code, out, err = _run_cli(capsys, "run", "--trace", loop_file, "--reg", "a64[2]=0x40",
                              "--reg", "a64[3]=20")
    assert code == 0
    lines = err.splitlines()
    assert lines[0].startswith("0000  put     a64[0],5") and "a64[0]: ~ -> 0x0000000000000005" in lines[0]
    # add.uc a64[1],a64[0] writes a64[0] <- 3 + 5
    assert lines[2].startswith("0008  add.uc") and "0x0000000000000005 -> 0x0000000000000008" in lines[2]
    assert "st0=true cy0=0 ca0=5" in lines[2]
    # sub.uc a64[1],a64[2] writes a64[2] <- 3 - 0x40: overflow, undefined, st0 false
    assert "a64[2]: 0x0000000000000040 -> ~" in lines[3] and "st0=false" in lines[3]
    # a64[0] goes 5, 8, ... 20: 5 rounds of 4 instructions, the 2 puts and the ret
    assert len(lines) == 2 + 5 * 4 + 1


def test_jsonl_trace_is_the_same_run_in_both_tiers(loop_file) -> None:
    def trace(tier: str) -> list[dict]:
        r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", tier, "--trace",
                            "--trace-format", "jsonl", "--json", loop_file, "--reg", "a64[3]=9",
                            "--reg", "a64[2]=1"], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        return [json.loads(x) for x in r.stderr.splitlines()]
    a, b = trace("run"), trace("jit")
    assert [x["tier"] for x in a] == ["interp"] * len(a)
    assert all(x["tier"] == "native" for x in b)           # every instruction here compiles
    assert set(a[0]) == {"n", "lib", "pos", "ins", "writes", "st0", "cy0", "ca0", "cp0", "tier"}
    strip = [{k: v for k, v in x.items() if k != "tier"} for x in a]
    assert strip == [{k: v for k, v in x.items() if k != "tier"} for x in b]
    # sub.uc a64[1],a64[2]: a64[2] <- 3 - 1
    assert a[3]["writes"] == {"a64[2]": ["0000000000000001", "0000000000000002"]}


def test_jit_trace_says_how_it_ran_in_stats(loop_file, capsys) -> None:
    code, out, err = _run_cli(capsys, "jit", "--trace", "--stats", loop_file, "--reg", "a64[3]=2",
                              "--reg", "a64[2]=0")
    assert code == 0
    assert "trace_path: jit single-step" in out and "trace_native_steps: 7" in out


def test_compare_trace_identical(loop_file, capsys) -> None:
    code, out, _ = _run_cli(capsys, "compare", "--trace", "--json", loop_file, "--reg", "a64[3]=30",
                            "--reg", "a64[2]=1")
    report = json.loads(out)
    assert code == 0 and report["identical"] and report["trace"]["identical"]
    assert report["trace"]["steps"][0] == report["trace"]["steps"][1] > 20


def test_compare_trace_finds_an_injected_jit_difference(loop_file, capsys, monkeypatch, tmp_path) -> None:
    """The JIT's `sub` is patched to compute an addition: the traces part at the first `sub`,
    offset 0x000b, step 3, in the register it writes."""
    from aluvm.jit import cache, codegen
    monkeypatch.setenv("ALUVM_JIT_CACHE", "off")
    prev = cache.use_code_cache(None)       # a fresh code cache, without the disk
    monkeypatch.setattr(codegen.LibraryFunction, "op_sub_a", codegen.LibraryFunction.op_add_a)
    try:
        code, out, _ = _run_cli(capsys, "compare", "--trace", "--json", loop_file,
                                "--reg", "a64[3]=30", "--reg", "a64[2]=1")
    finally:
        monkeypatch.undo()
        cache.use_code_cache(prev)
    report = json.loads(out)
    assert code == 1 and not report["identical"]
    first = report["trace"]["first_difference"]
    assert (first["step"], first["pos"]) == (3, 0x0B) and first["instruction"].startswith("sub.uc")
    assert first["fields"] == ["writes"]
    assert first["interp"]["writes"]["a64[2]"][1] == "0000000000000002"   # 3 - 1
    assert first["jit"]["writes"]["a64[2]"][1] == "0000000000000004"      # 3 + 1


def test_compare_trace_text_names_the_instruction(loop_file, capsys, monkeypatch) -> None:
    from aluvm.jit import cache, codegen
    monkeypatch.setenv("ALUVM_JIT_CACHE", "off")
    prev = cache.use_code_cache(None)       # a fresh code cache, without the disk
    monkeypatch.setattr(codegen.LibraryFunction, "op_lt_a", codegen.LibraryFunction.op_gt_a)
    try:
        code, out, _ = _run_cli(capsys, "compare", "--trace", loop_file, "--reg", "a64[3]=30",
                                "--reg", "a64[2]=1")
    finally:
        monkeypatch.undo()
        cache.use_code_cache(prev)
    assert code == 1
    assert "traces differ at step 4: 000e  lt.u    a64[0],a64[3]  (st0)" in out


def test_vector_slice_traces_identical_in_both_tiers() -> None:
    """The first programs of each family of the committed vector slice, long loops included,
    traced up to a small cap (so that loops run past it, then on untraced): identical records
    and final states in both tiers, and the vectors' final states (the whole shared set:
    `make trace-vectors`)."""
    from aluvm.tools.trace_vectors import compare_vectors, run_vectors
    vectors = run_vectors([str(LOCAL_VECTORS)], per_family=24)
    results = compare_vectors(vectors, limit=2000)
    assert len(results) == len(vectors) >= 12 * 24
    assert len({v["family"] for v in vectors}) >= 12
    long = [r for r in results if r.truncated]
    assert len(long) >= 5 and all(r.records == 2000 for r in long)
    bad = [r for r in results if not r.identical or r.off_vector]
    assert not bad, "\n".join(f"{r.id}: {r.difference} {r.off_vector}" for r in bad[:5])


def test_first_difference_of_different_lengths() -> None:
    lib = assemble(".MAIN\n put a8[0],1\n put a8[1],2\n")
    a = traced_run(lib, Registers(), 0, "reference").steps
    assert first_difference(a, a) is None
    d = first_difference(a, a[:1])
    assert d is not None and d.index == 1 and d.b is None and d.fields() == ["length"]


def test_jit_trace_mixes_native_and_interpreted_steps_spec_routine() -> None:
    """subroutine.aluasm in the spec profile: `routine` runs natively (call stack window), as
    does `inc` (the spec override's checked step), a `ret` in the interpreter; the records
    still equal the interpreter's."""
    from aluvm.asm import assemble_file
    lib = assemble_file(ROOT / "examples" / "subroutine.aluasm", profile="spec")

    def regs() -> Registers:
        r = Registers()
        r.a[3][2] = 3
        return r
    a = traced_run(lib, regs(), 0, "spec", "interp")
    b = traced_run(lib, regs(), 0, "spec", "jit")
    assert first_difference(a.steps, b.steps) is None and len(a.steps) == 30   # 3 rounds
    tiers: dict[str, set] = {}
    for s in b.steps:
        tiers.setdefault(s.text.split()[0], set()).add(s.tier)
    assert tiers["routine"] == tiers["inc"] == {"native"} and "interp" in tiers["ret"]
    assert b.stats["trace_native_steps"] + b.stats["trace_interp_steps"] == len(b.steps)
    assert a.outcome.st0 and b.outcome.st0


def test_trace_is_bounded_and_the_run_goes_on_untraced() -> None:
    """A long run records ``limit`` steps, then goes on untraced in its tier - the interpreter
    loop, or native code for the JIT tier - to the same end as an untraced run."""
    from aluvm.library.lib import Lib, DEFAULT_ISAE
    from aluvm.tools.jitstep import JitStepper
    from aluvm.tools.service import interp_runner
    lib = Lib.with_(DEFAULT_ISAE, bytes.fromhex("200261020000"))  # add.sw a64[0],a64[1]; jmp 0
    full = traced_run(lib, _counting_regs(), 0, "reference", "interp", limit=1000)
    plain = _counting_regs()
    interp_runner(lib, plain, 0, "reference")
    for tier in ("interp", "jit"):
        regs = _counting_regs()
        stepper = JitStepper()
        run = traced_run(lib, regs, 0, "reference", tier, limit=50, stepper=stepper)
        assert len(run.steps) == 50 and run.truncated
        assert [s.key() for s in run.steps] == [s.key() for s in full.steps[:50]]
        assert run.stats["trace_untraced_from"] == {"step": 50, "pos": 0}   # 25 rounds of 2
        # 65,535 counted jumps: 65,536 adds (a64[1] = 65,536) and 65,536 jmps (the last fails)
        assert regs.cy0 == 65535 and not run.outcome.st0
        assert regs.a[3][1] == 65536 and (regs.ca0, regs.cy0) == (plain.ca0, plain.cy0)
        if tier == "jit":
            assert stepper.native_steps == 50 and run.stats["trace_resumed"] == 1
            assert run.stats["trace_resumed_native_calls"] >= 1     # the loop ran natively
    exact = traced_run(lib, _counting_regs(), 0, "reference", "interp", limit=2 * 65536)
    assert len(exact.steps) == 2 * 65536 and not exact.truncated     # exactly at the cap


def _counting_regs() -> Registers:
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 0      # add.sw a64[0],a64[1]: a64[1] += a64[0]
    return regs


def test_trace_vectors_summary_line(capsys) -> None:
    """`make trace-vectors` in small: the ctrl slice (loops past a small cap) in one process."""
    from aluvm.tools.trace_vectors import main
    code = main([str(LOCAL_VECTORS / "ctrl.jsonl.gz"), "--per-family", "30", "--jobs", "1",
                 "--limit", "300"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[-1].startswith("trace-vectors: 30 programs (reference), 30 identical, "
                              "0 differing, 0 off the vectors, ")
    assert "1 jobs; " in out[-1] and " traced up to the cap, then untraced)" in out[-1]
    assert not out[-1].endswith("; 0 traced up to the cap, then untraced)")


def test_trace_vectors_names_the_wrong_tier(capsys, monkeypatch) -> None:
    """The JIT's `add` is patched to subtract: the arith programs that add differ, and the
    vectors (the ground truth) say the JIT tier is the wrong one."""
    from aluvm.jit import cache, codegen
    from aluvm.tools.trace_vectors import main
    monkeypatch.setenv("ALUVM_JIT_CACHE", "off")
    prev = cache.use_code_cache(None)       # a fresh code cache, without the disk
    monkeypatch.setattr(codegen.LibraryFunction, "op_add_a", codegen.LibraryFunction.op_sub_a)
    try:
        code = main([str(LOCAL_VECTORS / "arith.jsonl.gz"), "--per-family", "60", "--jobs", "1",
                     "--json", "--show", "100"])
    finally:
        monkeypatch.undo()
        cache.use_code_cache(prev)
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 1 and report["programs"] == 60
    assert report["differing"] >= 1 and report["identical"] == 60 - report["differing"]
    wrong = report["failures"]
    assert all(f["difference"].startswith("traces differ at step ") for f in wrong)
    assert any(" add" in f["difference"].splitlines()[0] for f in wrong)
    assert {line.split(":")[0] for f in wrong for line in f["off_vector"]} == {"jit"}


def test_trace_vectors_in_worker_processes(capsys) -> None:
    from aluvm.tools.trace_vectors import main
    files = [str(LOCAL_VECTORS / f"{f}.jsonl.gz") for f in ("mixed", "move")]
    code = main(files + ["--per-family", "4", "--jobs", "2", "--limit", "100",
                         "--profile", "reference", "--profile", "spec", "--json"])
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and report["programs"] == 16 and report["identical"] == 16
    assert report["jobs"] == 2 and report["profiles"] == ["reference", "spec"]


@pytest.mark.parametrize("args", [["/nonexistent/vectors"], [str(ROOT / "README.md")],
                                  [str(LOCAL_VECTORS), "--jobs", "0"]])
def test_trace_vectors_bad_input_is_one_line(args) -> None:
    r = subprocess.run([sys.executable, "-m", "aluvm.tools.trace_vectors", *args],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
