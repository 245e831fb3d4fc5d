"""Batch runs say why a run did not end normally (``BatchResult.outcomes``, the ``"panic"``
and ``"aborted"`` fields and error lines of ``aluvm batch``): a reference panic or hang is not an invalid verdict,
an internal error is not a verdict at all.  Each row's outcome is what a single
:func:`aluvm.run` says for it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import aluvm
from aluvm import Batch, Registers
from aluvm.asm import assemble

from test_batch import assert_same

#: a64[0] picks the ending: 1 byte-string splt (todo! in the reference), 2 edgen (ed25519 ops
#: panic in the reference), 3 a nop (the reference's never advances: a hang without cl0),
#: anything else a verdict (a64[0] == a64[1])
SRC = """
.MAIN
        put     a64[5],1
        eq.n    a64[0],a64[5]
        jif     p1
        put     a64[5],2
        eq.n    a64[0],a64[5]
        jif     p2
        put     a64[5],3
        eq.n    a64[0],a64[5]
        jif     p3
        eq.n    a64[0],a64[1]
        jmp     end
p1:     splt.n  s16[0],a16[0],s16[1],s16[2]
        jmp     end
p2:     edgen   r256[0],r256[1]
        jmp     end
p3:     nop
end:    ret
"""

N = 40


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


@pytest.fixture(scope="module")
def lib():
    return assemble(SRC)


def inputs(n: int = N) -> dict[str, np.ndarray]:
    a0 = np.arange(n, dtype=np.uint64) % 6                      # 0..5: every ending
    a1 = np.where(np.arange(n) % 12 < 6, a0, a0 + 1).astype(np.uint64)
    return {"a64[0]": a0, "a64[1]": a1}


def single_outcomes(lib, cols: dict, tier: str, profile: str) -> dict[int, tuple[str, str]]:
    """Per row, the Outcome of a separate aluvm.run (rows that ended normally left out)."""
    out = {}
    for i in range(len(cols["a64[0]"])):
        regs = Registers()
        for name, col in cols.items():
            regs.set_named(name, int(col[i]).to_bytes(8, "big"))
        o = aluvm.run(lib, regs, profile=profile, tier=tier)
        if o.kind != "finished":
            out[i] = (o.kind, o.reason)
    return out


@pytest.mark.parametrize("profile", ["reference", "spec"])
@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_outcomes_equal_single_runs(lib, tier: str, profile: str) -> None:
    cols = inputs()
    res = Batch(lib, tier=tier, profile=profile, threads=2, chunk=7).run(cols)
    assert res.outcomes == single_outcomes(lib, cols, tier, profile)
    kinds = {i: res.outcomes.get(i, ("finished", ""))[0] for i in range(N)}
    if profile == "reference":
        for i in range(N):
            want = {1: "panic", 2: "panic", 3: "hang"}.get(i % 6, "finished")
            assert kinds[i] == want, i
        assert "splt" in res.outcomes[1][1] and "Curve256" in res.outcomes[2][1]
        assert res.outcomes[3][1].startswith("aborted: nop")
        assert not res.st0[[i for i in range(N) if i % 6 in (1, 2, 3)]].any()
    else:       # the spec profile fixes these defects: no panic, no hang
        assert res.outcomes == {}
    # every ending shows up the same way whichever tier ran it
    other = Batch(lib, tier="interp" if tier == "jit" else "jit", profile=profile).run(cols)
    assert_same(res, other)


def test_concat_shifts_rows(lib) -> None:
    cols = inputs(12)
    whole = Batch(lib).run(cols)
    parts = [Batch(lib).run({k: v[a:b] for k, v in cols.items()}) for a, b in ((0, 5), (5, 12))]
    assert aluvm.BatchResult.concat(parts).outcomes == whole.outcomes
    assert sorted(whole.outcomes) == [1, 2, 3, 7, 8, 9]


def test_all_native_has_no_outcomes(lib) -> None:
    cols = {"a64[0]": np.array([0, 4, 5], np.uint64), "a64[1]": np.array([0, 5, 5], np.uint64)}
    res = Batch(lib).run(cols)
    assert res.outcomes == {} and not res.fallback.any() and res.st0.tolist() == [True, False, True]


def broken_on(monkeypatch, value: int = 4) -> None:
    """Make the interpreter fail like a bug in aluvm would, on inputs with a64[0] == value."""
    from aluvm.machine import interp
    monkeypatch.setattr(interp, "STRICT", False)
    run = interp.Program.run

    def broken(self, regs, pos, *a, **kw):
        if regs.a[3][0] == value:
            raise ZeroDivisionError("boom")
        return run(self, regs, pos, *a, **kw)
    monkeypatch.setattr(interp.Program, "run", broken)


def test_internal_error_is_reported(lib, monkeypatch) -> None:
    """A bug in aluvm is an ``internal`` outcome, not an invalid verdict."""
    broken_on(monkeypatch)
    res = Batch(lib, tier="interp").run(inputs(12))
    assert res.outcomes[4] == res.outcomes[10] == (
        "internal", "internal error: ZeroDivisionError: boom")
    assert sorted(res.outcomes) == [1, 2, 3, 4, 7, 8, 9, 10]


def test_internal_error_on_the_jit_fallback_path(lib, monkeypatch) -> None:
    """The JIT tier's fallback rows (the splt inputs leave the kernel) run through the same
    interpreter: a bug there is an ``internal`` outcome too, native rows are untouched."""
    broken_on(monkeypatch, value=1)
    res = Batch(lib, tier="jit").run(inputs(12))
    assert res.fallback[[1, 7]].all()
    assert res.outcomes[1] == res.outcomes[7] == (
        "internal", "internal error: ZeroDivisionError: boom")
    assert res.outcomes[2][0] == "panic" and res.outcomes[3][0] == "hang"
    assert not res.fallback[[0, 4, 5, 6]].any() and 4 not in res.outcomes


# -- aluvm batch ------------------------------------------------------------------------------

def jsonl(cols: dict) -> str:
    n = len(cols["a64[0]"])
    return "".join(json.dumps({"id": i, "regs": {k: f"{int(v[i]):016x}" for k, v in cols.items()}})
                   + "\n" for i in range(n))


def run_cli(capsys, tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    from aluvm.tools.cli import main
    src = tmp_path / "in.jsonl"
    src.write_text(text)
    lib = assemble(SRC)
    code = main(["batch", "--code", lib.code.hex(), "--data", lib.data.hex(), str(src), *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    summary = out.err.strip().splitlines()[-1]
    return out.out, summary[:summary.index(" errors") + 7]      # (not the timings)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_cli_panic_field(capsys, tmp_path: Path, monkeypatch, profile: str) -> None:
    cols = inputs()
    monkeypatch.setattr("aluvm.tools.jsonl.CHUNK_LINES", 16)     # several chunks
    text = jsonl(cols)
    nolid = "".join(line.replace('"id": %d, ' % i, "")
                    for i, line in enumerate(text.splitlines(keepends=True)))
    seen = set()
    for body in (text, nolid):          # (without ids: the fast formatter's chunks)
        outs = {}
        for tier in ("jit", "interp"):
            for threads in ("1", "2"):
                outs[tier, threads] = run_cli(capsys, tmp_path, body, "--tier", tier,
                                              "--threads", threads, "--profile", profile)
        assert len(set(outs.values())) == 1, outs
        out, summary = outs["jit", "1"]
        seen.add(out.replace('"id":', "").count('"panic"') + out.count('"aborted"'))
        got = [json.loads(x) for x in out.splitlines()]
        want = single_outcomes(assemble(SRC), cols, "interp", profile)
        why = ("panic", "aborted")          # (the shared vectors' fields: a panic, a hang)
        assert {i: (k, g[k]) for i, g in enumerate(got) for k in why if k in g} == \
            {i: ("aborted" if kind == "hang" else "panic", reason)
             for i, (kind, reason) in want.items()}
        for g in got:
            assert not set(why) & set(g) or g["st0"] is False
        assert all(list(g)[-1] in why for g in got if set(why) & set(g))
        assert f"{N} inputs" in summary and "0 errors" in summary
    assert len(seen) == 1


def test_cli_internal_error_is_an_error_line(capsys, tmp_path: Path, monkeypatch) -> None:
    broken_on(monkeypatch)
    out, summary = run_cli(capsys, tmp_path, jsonl(inputs(12)), "--tier", "interp")
    got = [json.loads(x) for x in out.splitlines()]
    assert got[4] == {"id": 4, "error": "internal error: ZeroDivisionError: boom"}
    assert got[10] == {"id": 10, "error": "internal error: ZeroDivisionError: boom"}
    assert summary.endswith("12 inputs, 2 valid, 8 invalid, 2 errors")


@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_host_extension_error(tier: str) -> None:
    """A host extension's exception is a ``host`` outcome and an error line, not a verdict."""
    from aluvm import Lib
    from aluvm.tools.jsonl import counts, format_lines
    from test_host import PROFILE
    lib = Lib.with_("ALU HOSTX", bytes.fromhex("9100" "94"))    # hck a64[0]; hboom
    cols = {"a64[0]": np.array([0, 1, 0, 1], np.uint64)}
    res = Batch(lib, tier=tier, profile=PROFILE, host=lambda i: {"value": 1}).run(cols)
    want = {}
    for i in range(4):
        regs = Registers()
        regs.set_named("a64[0]", int(cols["a64[0]"][i]).to_bytes(8, "big"))
        o = aluvm.run(lib, regs, profile=PROFILE, tier=tier, host={"value": 1})
        if o.kind != "finished":
            want[i] = (o.kind, o.reason)
    assert res.outcomes == want and sorted(want) == [1, 3] and want[1][0] == "host"
    lines = [json.loads(x) for x in format_lines(res).splitlines()]
    assert lines[1] == lines[3] == {"error": want[1][1]} and lines[0]["st0"] is False
    assert counts(res, {}) == (0, 2, 2)
