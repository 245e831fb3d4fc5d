"""The batch fallback path on random programs: batch results equal single runs.

Random programs from the instruction table (``test_jit_diff``: every family, jumps into
instructions, reserved opcodes, loops) run as batches over random inputs of every register
family (A of every width, F, R, S; about a fifth undefined), in both tiers and both profiles,
with complexity limits that stop runs anywhere.  Every row must equal :func:`aluvm.run` on the
same input: st0, cy0, ca0 and every defined register.  In the JIT tier the rows are a mix of
native kernel rows and fallback rows, so this also checks how the two are merged; the fallback
path keeps only the banks :mod:`aluvm.isa.effects` says the library can write, which this
checks end to end.
"""
from __future__ import annotations

import random

import pytest

import aluvm
from aluvm import Batch, Registers
from aluvm.asm import assemble
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import A_NAMES, F_BYTES, F_NAMES, R_NAMES, reg_bytes
from aluvm.tools.columns import reg_key

from test_jit_diff import random_program

N_ROWS = 24


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


def random_input_regs(rng: random.Random) -> list[str]:
    names = set()
    for _ in range(rng.randint(1, 6)):
        fam = rng.choice("aaaafrs")
        idx = rng.choice([0, 1, 2, 3, rng.randrange(32)])
        if fam == "a":
            names.add(f"{rng.choice(A_NAMES)}[{idx}]")
        elif fam == "f":
            names.add(f"{rng.choice(F_NAMES)}[{idx}]")
        elif fam == "r":
            names.add(f"{rng.choice(R_NAMES[:5])}[{idx}]")
        else:
            names.add(f"s16[{idx % 16}]")
    return sorted(names)


def random_raw(rng: random.Random, name: str) -> bytes | None:
    if rng.random() < 0.2:
        return None
    key = reg_key(name)
    if key.fam == "s":
        return rng.randbytes(rng.choice([0, 1, 3, 8, 33]))
    width = F_BYTES[key.code] if key.fam == "f" else reg_bytes(key.fam, key.code)
    return rng.choice([bytes(width), b"\xff" * width, rng.randbytes(width),
                       bytes(width - 1) + bytes([rng.randrange(4)])])


def batch_column(name: str, raws: list[bytes | None]) -> list:
    """Vector bytes -> what ``Batch.run`` takes (ints for a8..a64, vector bytes otherwise)."""
    key = reg_key(name)
    if key.narrow:
        return [None if r is None else int.from_bytes(r, "big") for r in raws]
    return raws


@pytest.mark.parametrize("tier", ["jit", "interp"])
@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_random_programs_batch_equals_single_runs(tier: str, profile: str) -> None:
    rng = random.Random(f"batch-fallback-{tier}-{profile}")
    fell_back = native = 0
    for case in range(100 if tier == "jit" else 250):
        code = random_program(rng)
        data = rng.randbytes(rng.choice([0, 16, 64, 200]))
        lib = Lib.with_(DEFAULT_ISAE, code, data)
        names = random_input_regs(rng)
        raws = {n: [random_raw(rng, n) for _ in range(N_ROWS)] for n in names}
        cl0 = rng.choice([None, rng.randrange(1, 40), rng.randrange(40, 3000)])
        if cl0 is None and any(b in (2, 3, 4) for b in code):
            cl0 = rng.randrange(40, 3000)               # loops: stop them early
        entry = 0 if rng.random() < 0.85 else rng.randrange(len(code) + 2)
        batch = Batch(lib, tier=tier, profile=profile, cl0=cl0, entry=entry, threads=1,
                      chunk=7)
        res = batch.run({n: batch_column(n, v) for n, v in raws.items()})
        fell_back += int(res.fallback.sum())
        native += int((~res.fallback).sum())
        for i in range(N_ROWS):
            regs = Registers()
            for n in names:
                if raws[n][i] is not None:
                    regs.set_named(n, raws[n][i])
            regs.cl0 = cl0
            aluvm.run(lib, regs, entry=entry, profile=profile, tier="interp")
            got = (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i]), res.defined(i))
            want = (regs.st0, regs.cy0, regs.ca0, regs.defined())
            assert got == want, (f"case {case} row {i}: code={code.hex()} data={data.hex()} "
                                 f"entry={entry} cl0={cl0} inputs={names}")
    assert fell_back > 100
    if tier == "jit":
        assert native > 100             # both paths, merged, in the same results


def test_outputs_subset_and_unwritten_inputs() -> None:
    """``outputs=`` keeps only the registers asked for; inputs no instruction writes come back
    unchanged from the fallback path (their bank is kept because it is an input bank)."""
    lib = assemble("""
.MAIN
        put     a16[0],3
        sha2    s16[0],r256[1]
        mov     r128[2],r128[3]
""")
    msgs = [bytes([k]) * k for k in range(20)] + [None]
    r1024 = [None if k % 3 else (k * 977).to_bytes(128, "little") for k in range(21)]
    inputs = {"s16[0]": msgs, "r1024[4]": r1024, "a64[7]": list(range(21))}
    full = Batch(lib, tier="interp").run(inputs)
    assert full.fallback.all()
    assert full["r1024[4]"].count() == 7 and full["a64[7]"].count() == 21
    assert full["r256[1]"].count() == 20 and full["a16[0]"].count() == 21
    for i in range(21):
        regs = Registers()
        for name, col in inputs.items():
            v = col[i]
            if v is not None:
                regs.set_named(name, v if isinstance(v, bytes) else v.to_bytes(8, "big"))
        aluvm.run(lib, regs)
        assert full.defined(i) == regs.defined()
    only = Batch(lib, tier="jit", outputs=["r256[1]", "a64[7]"]).run(inputs)
    assert only.names == ["a64[7]", "r256[1]"]
    assert list(only["r256[1]"].compressed()) == list(full["r256[1]"].compressed())


def test_s_inputs_checked() -> None:
    """S columns: bytes (or None) pass as they are; bytearray/memoryview are copied to bytes;
    too long or not bytes is a clear error."""
    from aluvm.machine.registers import S_MAX
    from aluvm.tools.columns import column_from_array
    col = column_from_array("s16[3]", [b"ab", None, b"", bytearray(b"xy"), memoryview(b"z")])
    assert col.values.tolist() == [b"ab", None, b"", b"xy", b"z"]
    assert [type(v) for v in col.values.tolist()] == [bytes, type(None), bytes, bytes, bytes]
    assert col.defined.tolist() == [True, False, True, True, True]
    assert column_from_array("s16[3]", [b"\0" * S_MAX]).defined.tolist() == [True]
    with pytest.raises(ValueError, match="longer than"):
        column_from_array("s16[3]", [b"ok", b"\0" * (S_MAX + 1)])
    with pytest.raises(TypeError, match="expected bytes"):
        column_from_array("s16[3]", [b"ok", "text"])


@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_caller_input_arrays_never_written(tier: str) -> None:
    """The fallback path writes results into columns the result owns (the kernel's outputs)
    and copies the others first: the caller's input arrays stay as they were."""
    import numpy as np
    lib = assemble("""
.MAIN
        put     a64[0],5
        lt.u    a64[1],a64[2]
        sha2    s16[0],r256[1]
        put     a64[1],9
""")
    n = 50
    a0 = np.arange(n, dtype=np.uint64)
    a1 = np.ma.masked_array(np.arange(n, dtype=np.uint64) * 3, mask=np.arange(n) % 4 == 0)
    msgs = [bytes([k]) * k if k % 5 else None for k in range(n)]
    before = (a0.copy(), a1.data.copy(), a1.mask.copy(), list(msgs))
    res = Batch(lib, tier=tier).run({"a64[0]": a0, "a64[1]": a1, "s16[0]": msgs})
    assert res.fallback.all()
    assert (res["a64[0]"] == 5).all() and (res["a64[1]"] == 9).all()
    assert (a0 == before[0]).all() and (a1.data == before[1]).all()
    assert (a1.mask == before[2]).all() and msgs == before[3]


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_fallback_heavy_100k_inputs_equal_single_runs(profile: str) -> None:
    """sha256 over an S register (no input runs natively) on 100,000 generated inputs, both
    tiers: every row's st0, cy0, ca0 and the registers the script can define equal a single
    :func:`aluvm.run` of that input; the full register files agree on a sample."""
    import numpy as np
    from conftest import ROOT
    from aluvm.asm import assemble_file
    lib = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm", profile=profile)
    n = 100_000
    rng = random.Random(f"fallback-100k-{profile}")
    msgs: list = []
    for k in range(n):
        r = rng.random()
        msgs.append(None if r < 0.01 else b"AluVM commitment" if r < 0.3
                    else rng.randbytes(rng.choice([0, 1, 15, 16, 17, 32, 64, 255])))
    names = ["a16[0]", "r256[0]", "r256[1]", "s16[0]", "s16[1]"]
    want: dict[str, list] = {nm: [] for nm in names}
    st0, cy0, ca0 = [], [], []
    for k, m in enumerate(msgs):
        regs = Registers()
        regs.s[0] = m
        aluvm.run(lib, regs, profile=profile)
        st0.append(regs.st0)
        cy0.append(regs.cy0)
        ca0.append(regs.ca0)
        for nm in names:
            want[nm].append(regs.get_named(nm))
        if k % 997 == 0:
            assert len(regs.defined()) <= len(names) and set(regs.defined()) <= set(names)
    for tier in ("jit", "interp"):
        res = Batch(lib, tier=tier, profile=profile, threads=2).run({"s16[0]": msgs})
        assert res.fallback.all()
        assert res.st0.tolist() == st0 and res.cy0.tolist() == cy0
        assert res.ca0.tolist() == ca0
        assert set(res.names) <= set(names)
        for nm in names:
            col = res.column(nm)
            got = [col.key.to_vector(v) if d else None
                   for v, d in zip(col.values.tolist(), col.defined.tolist())]
            assert got == want[nm], (tier, nm)
        if profile == "reference":
            assert 0.2 < float(np.mean(res.st0)) < 0.4       # a real mix of verdicts


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_rows_resume_where_the_kernel_left_them(profile: str) -> None:
    """A native prefix (a loop), an instruction the kernel does not run (sha2 over S), more
    native work: fallback rows go on from the kernel's exit state (the kernel is resumable),
    with and without a complexity limit that stops some of them inside the loop; equal to
    single runs, and to the same batch with restricted outputs (which re-runs from the start)."""
    import numpy as np
    from aluvm.tools.batch import to_columns
    lib = assemble("""
.MAIN
        put     a64[2],3
        put     a64[4],0
loop:   add.uc  a64[2],a64[0]
        add.uc  a64[1],a64[0]
        add.uc  a64[2],a64[4]
        lt.u    a64[4],a64[3]
        jif     loop
        sha2    s16[0],r256[0]
        put     a64[5],1
        add.uc  a64[5],a64[0]
        gt.u    a64[0],a64[5]
""", profile=profile)
    rng = np.random.default_rng(21)
    n = 300
    inputs = {"a64[0]": np.ma.masked_array(rng.integers(0, 1 << 62, n, dtype=np.uint64),
                                           mask=rng.random(n) < 0.05),
              "a64[1]": rng.integers(0, 4, n, dtype=np.uint64),
              "a64[3]": rng.integers(0, 60, n, dtype=np.uint64),
              "s16[0]": [bytes([k % 7]) * (k % 9) if k % 11 else None for k in range(n)]}
    for cl0 in (None, 150, 400):
        batch = Batch(lib, profile=profile, cl0=cl0, threads=1)
        assert batch.kernel(to_columns(inputs)[1]).resumable
        res = batch.run(inputs)
        assert res.fallback.sum() > n // 2
        for i in range(n):
            regs = Registers()
            for name, col in inputs.items():
                v = col[i]
                if v is np.ma.masked or v is None:
                    continue
                regs.set_named(name, v if isinstance(v, bytes) else int(v).to_bytes(8, "big"))
            regs.cl0 = cl0
            aluvm.run(lib, regs, profile=profile)
            assert (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i]), res.defined(i)) == \
                (regs.st0, regs.cy0, regs.ca0, regs.defined()), (cl0, i)
        names = ["a64[0]", "a64[5]", "r256[0]"]
        some = Batch(lib, profile=profile, cl0=cl0, threads=1, outputs=names).run(inputs)
        for name in names:
            x, y = some[name], res[name]
            assert (x.mask == y.mask).all() and list(x.compressed()) == list(y.compressed())


def test_no_resume_when_native_code_uses_the_call_stack() -> None:
    """A routine whose body leaves native code (sha2) and returns: the call stack lives in the
    native register file, so such a kernel is not resumable and its fallback rows re-run from
    the start (resuming would lose the return address: the run would stop at ``ret``)."""
    import numpy as np
    from aluvm.tools.batch import to_columns
    lib = assemble("""
.MAIN
        put     a64[1],1
        routine sub
        put     a64[2],7
        add.uc  a64[2],a64[1]
        ret
sub:    add.uc  a64[1],a64[1]
        sha2    s16[0],r256[0]
        add.uc  a64[1],a64[1]
        ret
""", profile="spec")
    n = 40
    inputs = {"s16[0]": [bytes([k]) * k for k in range(n)],
              "a64[3]": np.arange(n, dtype=np.uint64)}
    batch = Batch(lib, profile="spec", threads=1)
    assert not batch.kernel(to_columns(inputs)[1]).resumable
    res = batch.run(inputs)
    assert res.fallback.all()
    regs = Registers()
    regs.s[0] = b""
    regs.a[3][0] = 0
    aluvm.run(lib, regs, profile="spec")
    assert regs.a[3][1] == 11               # 1, doubled twice in the routine, + 7 after it
    for i in range(n):
        regs = Registers()
        regs.s[0] = inputs["s16[0]"][i]
        regs.a[3][3] = i
        aluvm.run(lib, regs, profile="spec")
        assert (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i]), res.defined(i)) == \
            (regs.st0, regs.cy0, regs.ca0, regs.defined()), i
