"""Batch validation (aluvm.Batch, the native batch kernel): results equal single runs.

The backbone is differential: the native kernel over >= 100,000 generated inputs against the
interpreter's batch path (a loop of single interpreter runs) over the same inputs, and both
against separate :func:`aluvm.run` calls, on a sample, in both tiers and profiles.
"""
from __future__ import annotations


import numpy as np
import pytest

import aluvm
from aluvm import Batch, Lib, Registers, DEFAULT_ISAE
from aluvm.asm import assemble, assemble_file

from conftest import ROOT

VALIDATE20 = bytes.fromhex(
    "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321")
V20_REGS = ([f"a16[{i}]" for i in range(5)] + [f"a32[{i}]" for i in range(4)]
            + [f"a64[{i}]" for i in range(5)])

#: a loop whose complexity grows with the input: with cl0 the limit is reached inside a block
LOOP = """
.MAIN
        put     a64[1],1
        put     a64[3],0
loop:   add.uc  a64[1],a64[3]
        lt.u    a64[3],a64[0]
        jif     loop
        eq.n    a64[3],a64[0]
"""

#: wide A registers through the kernel
WIDE = """
.MAIN
        add.uc  a128[0],a128[1]
        test
        gt.u    a128[1],a128[2]
"""


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(test_jit_cache):
    yield


def v20_inputs(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Inputs near validate20's conditions (a mix of verdicts), ~5% of them undefined."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for name in V20_REGS:
        w = int(name[1:name.index("[")])
        cols[name] = rng.integers(0, 3, n, dtype=f"u{w // 8}")
    cols["a64[1]"] += 3                     # a64[0] < a64[1] mostly
    cols["a64[2]"][:] = 0
    cols["a16[1]"] = cols["a16[0]"].copy()
    cols["a16[4]"] += 4
    cols["a32[0]"] += 2
    cols["a32[3]"] = np.where(rng.random(n) < 0.9, cols["a32[2]"], cols["a32[3]"])
    cols["a64[4]"] = np.where(rng.random(n) < 0.8, 0, cols["a64[4]"]).astype(np.uint64)
    cols["a64[3]"][rng.random(n) < 0.02] = np.uint64(2**64 - 1)     # add overflow
    out: dict[str, np.ndarray] = {}
    for name, arr in cols.items():
        out[name] = np.ma.masked_array(arr, mask=rng.random(n) < 0.005)
    return out


def single(lib: Lib, inputs: dict, i: int, *, tier: str, profile: str = "reference",
           cl0=None, entry: int = 0) -> Registers:
    regs = Registers()
    for name, col in inputs.items():
        v = col[i]
        if v is np.ma.masked or v is None:
            continue
        if isinstance(v, (bytes, bytearray)):
            regs.set_named(name, bytes(v))
        else:
            key = aluvm.tools.columns.reg_key(name)
            regs.set_named(name, int(v).to_bytes(key.width, "big"))
    regs.cl0 = cl0
    aluvm.run(lib, regs, entry=entry, profile=profile, tier=tier)
    return regs


def assert_same(a, b) -> None:
    """Two batch results agree on everything."""
    assert a.n == b.n
    assert np.array_equal(a.st0, b.st0)
    assert np.array_equal(a.cy0, b.cy0)
    assert np.array_equal(a.ca0, b.ca0)
    assert a.names == b.names
    assert a.outcomes == b.outcomes
    for name in a.names:
        x, y = a[name], b[name]
        assert np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y)), name
        assert list(x.compressed()) == list(y.compressed()), name


def assert_rows_match(res, lib: Lib, inputs: dict, rows, **kw) -> None:
    for i in rows:
        for tier in ("interp", "jit"):
            regs = single(lib, inputs, int(i), tier=tier, **kw)
            assert (bool(res.st0[i]), int(res.cy0[i]), int(res.ca0[i])) == \
                (regs.st0, regs.cy0, regs.ca0), (i, tier)
            assert res.defined(int(i)) == regs.defined(), (i, tier)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_validate20_100k_inputs_equal_single_runs(profile: str) -> None:
    # in the spec profile running off the end executes `fail`, and spec and/xor are not
    # compiled: there validate20 stops before its and/xor, with `ret` (all native both ways;
    # fallbacks in spec are covered below)
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20 if profile == "reference" else VALIDATE20[:32] + b"\x07")
    n = 100_000
    inputs = v20_inputs(n, seed=3 if profile == "spec" else 1)
    jit = Batch(lib, tier="jit", threads=2, profile=profile).run(inputs)
    interp = Batch(lib, tier="interp", profile=profile).run(inputs)
    assert_same(jit, interp)
    assert not jit.fallback.any()                   # all native
    valid = int(jit.st0.sum())
    assert 1000 < valid < n - 1000                  # a real mix of verdicts
    sample = np.random.default_rng(7).choice(n, 150, replace=False)
    assert_rows_match(jit, lib, inputs, sample, profile=profile)


def test_validate20_known_verdicts() -> None:
    """Hand-checked inputs: every condition of validate20 holds, then each one broken."""
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    good = {"a64[0]": 5, "a64[1]": 9, "a64[2]": 1, "a64[3]": 2, "a64[4]": 0, "a16[0]": 7,
            "a16[1]": 7, "a16[2]": 1, "a16[3]": 2, "a16[4]": 4, "a32[0]": 3, "a32[1]": 1,
            "a32[2]": 6, "a32[3]": 6}
    broken = [("a64[1]", 5), ("a64[2]", 5), ("a16[1]", 8), ("a16[4]", 3), ("a32[1]", 3),
              ("a32[3]", 7), ("a64[4]", 1)]
    n = 1 + len(broken)
    cols = {k: np.full(n, v, dtype=f"u{int(k[1:k.index('[')]) // 8}") for k, v in good.items()}
    for row, (k, v) in enumerate(broken, 1):
        cols[k][row] = v
    for tier in ("jit", "interp"):
        res = Batch(lib, tier=tier, threads=1).run(cols)
        assert res.st0.tolist() == [True] + [False] * len(broken)
        assert int(res["a64[3]"][0]) == 7 and int(res["a16[3]"][0]) == 3   # the two sums
        assert int(res["a64[2]"][0]) == 5 ^ 9 and int(res["a64[0]"][0]) == 5  # xor -> a64[2]
        assert int(res.ca0[0]) == 29 and int(res.cy0[0]) == 0


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_cl0_reached_inside_a_block(profile: str) -> None:
    """Complexity limit hit mid-loop for the larger inputs: the kernel marks them, the
    single-run path finishes them; everything equals single runs."""
    lib = assemble(LOOP)
    n = 4000
    rng = np.random.default_rng(5)
    inputs = {"a64[0]": np.ma.masked_array(rng.integers(0, 40, n, dtype=np.uint64),
                                           mask=rng.random(n) < 0.05)}
    cl0 = 100
    jit = Batch(lib, tier="jit", threads=2, profile=profile, cl0=cl0, chunk=1000).run(inputs)
    interp = Batch(lib, tier="interp", profile=profile, cl0=cl0).run(inputs)
    assert_same(jit, interp)
    assert jit.fallback.any() and not jit.fallback.all()
    assert (jit.ca0 >= cl0).any() and (jit.ca0 < cl0).any()
    rows = list(np.flatnonzero(jit.fallback)[:40]) + list(np.flatnonzero(~jit.fallback)[:40])
    assert_rows_match(jit, lib, inputs, rows, profile=profile, cl0=cl0)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_fallback_heavy_sha256(profile: str) -> None:
    """Every run leaves native code (sha2 over an S register): all finished by the fallback
    path, S inputs passed through, R registers written."""
    lib = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm", profile=profile)
    n = 600
    msgs: list = [b"AluVM commitment" if k % 3 == 0 else bytes([k % 251]) * (k % 70)
                  for k in range(n)]
    msgs[5] = None
    inputs = {"s16[0]": msgs}
    jit = Batch(lib, tier="jit", profile=profile).run(inputs)
    interp = Batch(lib, tier="interp", profile=profile).run(inputs)
    assert_same(jit, interp)
    assert jit.fallback.all()
    if profile == "reference":      # (spec: running off the end executes `fail`)
        assert jit.st0[0] and not jit.st0[1] and not jit.st0[5]
    assert jit["r256[1]"].count() == n - 1          # the digest of every present message
    assert_rows_match(jit, lib, inputs, range(0, n, 37), profile=profile)


def test_wide_registers_and_outputs() -> None:
    lib = assemble(WIDE)
    n = 500
    rng = np.random.default_rng(9)
    vals = [[int(x) << 64 | int(y) for x, y in rng.integers(0, 2**63, (n, 2), dtype=np.uint64)]
            for _ in range(3)]
    vals[0][3] = 2**128 - 1                          # overflow
    vals[1][4] = None
    inputs = {f"a128[{k}]": v for k, v in enumerate(vals)}
    jit = Batch(lib, tier="jit", threads=1).run(inputs)
    interp = Batch(lib, tier="interp").run(inputs)
    assert_same(jit, interp)
    assert_rows_match(jit, lib, inputs, range(0, n, 25))
    only = Batch(lib, tier="jit", outputs=["a128[1]"]).run(inputs)
    assert only.names == ["a128[1]"]
    assert list(only["a128[1]"].compressed()) == list(jit["a128[1]"].compressed())
    assert only["a128[0]"].mask.all()


def test_dict_inputs_equal_columns() -> None:
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    inputs = v20_inputs(300, seed=11)
    rows = []
    for i in range(300):
        regs = {}
        for name, col in inputs.items():
            if col[i] is not np.ma.masked:
                w = int(name[1:name.index("[")]) // 8
                regs[name] = int(col[i]).to_bytes(w, "big").hex()
        rows.append({"regs": regs})
    assert_same(Batch(lib).run(rows), Batch(lib).run(inputs))


def test_bad_api_inputs() -> None:
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    b = Batch(lib)
    with pytest.raises(ValueError):
        b.run({"a64[40]": np.zeros(3, np.uint64)})
    with pytest.raises(ValueError):
        b.run({"a16[0]": np.array([70000, 1])})
    with pytest.raises(ValueError):
        b.run({"a16[0]": np.zeros(3, np.uint16), "a16[1]": np.zeros(4, np.uint16)})
    with pytest.raises(ValueError):
        Batch(lib, tier="fast")
    with pytest.raises(ValueError):
        Batch(lib, entry=70000)
    assert len(b.run({})) == 0


def test_single_run_api_reuses_the_decoded_library() -> None:
    from aluvm.tools import service
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    service._MACHINES.pop((lib.id, "reference"), None)
    aluvm.run(lib, Registers())
    machine = service._MACHINES[(lib.id, "reference")]
    prog = machine.programs[lib.id]
    decoded = dict(prog.entries)
    assert decoded                                  # the run decoded into the cached program
    aluvm.run(lib, Registers())
    assert service._MACHINES[(lib.id, "reference")] is machine
    assert all(prog.entries[k] is v for k, v in decoded.items())


def test_kept_results_are_never_overwritten_by_later_runs() -> None:
    """Output buffers are reused between runs only when no result still uses them."""
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    b = Batch(lib, threads=2, chunk=500)
    first_in, second_in = v20_inputs(3000, seed=3), v20_inputs(3000, seed=4)
    kept = b.run(first_in)
    st0, ca0, a64 = kept.st0.copy(), kept.ca0.copy(), kept["a64[3]"].copy()
    for _ in range(3):
        b.run(second_in)                # results dropped: their buffer is reused
    other = b.run(second_in)
    assert (kept.st0 == st0).all() and (kept.ca0 == ca0).all()
    assert (kept["a64[3]"] == a64).all() and (kept["a64[3]"].mask == a64.mask).all()
    fresh = Batch(lib, threads=1).run(second_in)
    assert_same(other, fresh)
    assert not (st0 == other.st0).all()         # (the two input sets differ in verdicts)


@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_fallback_rows_with_changing_register_patterns(tier: str) -> None:
    """The fallback path reuses one register file and gathers outputs by the places the
    previous rows used; rows that leave other registers defined (a missing message: no
    digest) in irregular places are still exactly what single runs leave."""
    lib = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    n = 160
    msgs: list = [bytes([k % 7]) * (k % 40) for k in range(n)]
    for k in (0, 5, 6, 50, 51, 52, 99, 159):
        msgs[k] = None
    inputs = {"s16[0]": msgs}
    res = Batch(lib, tier=tier).run(inputs)
    assert res["r256[1]"].count() == n - 8
    assert_rows_match(res, lib, inputs, range(n))


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_r_registers_in_and_out(profile: str) -> None:
    """R registers are inputs and outputs of a batch although the kernel's columns are A
    registers only: instructions on R registers leave native code (the JIT compiles them for
    single runs), so R inputs are read and R results kept - equal to single runs."""
    lib = assemble("""
.MAIN
        put     a16[1],5
        eq.n    r256[0],r256[1]
        put     a16[2],7
        xor     r128[0],r128[1],r128[2]
        mov     r256[1],r256[3]
""", profile=profile)
    rng = np.random.default_rng(12)
    n = 300
    small = [int(x) for x in rng.integers(0, 4, n)]
    def r(v: int, w: int) -> bytes:             # (vector format: R bytes little-endian)
        return v.to_bytes(w, "little")
    inputs = {"r256[0]": [r(v, 32) for v in small],
              "r256[1]": [r(v, 32) if k % 3 else None for k, v in enumerate(small[::-1])],
              "r128[0]": [r(k * 7, 16) for k in range(n)], "r128[1]": [r(k, 16) for k in range(n)]}
    jit = Batch(lib, tier="jit", profile=profile).run(inputs)
    interp = Batch(lib, tier="interp", profile=profile).run(inputs)
    assert_same(jit, interp)
    assert jit["r128[2]"].count() > 0
    if profile == "reference":      # (spec: running off the end executes `fail`)
        assert 0 < jit.st0.sum() < n
    assert_rows_match(jit, lib, inputs, range(0, n, 7), profile=profile)


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_f_registers_in_and_out(profile: str) -> None:
    """F registers as inputs and outputs (float instructions compile for single runs, not in
    the kernel, whose columns are A registers): equal to single runs."""
    lib = assemble("""
.MAIN
        put     a16[1],5
        add.n   f32[0],f32[1]
        put     a16[2],7
        mov     f64[2],f64[3]
        neg     f64[2]
        abs     f32[0]
        spy     a64[0],r128[1]
        clr     f32[2]
""", profile=profile)
    rng = np.random.default_rng(13)
    n = 200
    f32 = [int(x) for x in rng.integers(0, 2**32, n, dtype=np.uint64)]
    f32[3] = 0x3F800000                                   # 1.0
    inputs = {"f32[0]": f32, "f32[1]": [0x3F800000 if k % 4 else None for k in range(n)],
              "f64[3]": [k << 40 for k in range(n)], "f32[2]": [k for k in range(n)],
              "a64[0]": [k * 3 for k in range(n)]}
    jit = Batch(lib, tier="jit", profile=profile).run(inputs)
    interp = Batch(lib, tier="interp", profile=profile).run(inputs)
    assert_same(jit, interp)
    assert jit["f32[1]"].count() > n // 2 and jit["f32[2]"].count() == 0   # (sum; cleared)
    assert_rows_match(jit, lib, inputs, range(0, n, 9), profile=profile)


@pytest.mark.parametrize("values", [np.array([1.5, 2.0]), [1.5, 2], np.array([True, False]),
                                    [True, 1], ["5", "6"], np.array(["5", "6"])])
def test_narrow_inputs_that_are_not_integers_are_refused(values) -> None:
    """a8..a64 columns take unsigned integers: floats, booleans and strings were converted
    with int() - 1.5 ran as 1, "5" as 5, True as 1 - a silently different input."""
    batch = Batch(Lib.with_(DEFAULT_ISAE, VALIDATE20), threads=1)
    with pytest.raises(TypeError, match=r"^a64\[0\]: expected unsigned integers"):
        batch.run({"a64[0]": values})
    got = batch.run({"a64[0]": [np.uint8(3), None, 2**63]})["a64[0]"]
    assert got.tolist() == [3, None, 2**63]


@pytest.mark.parametrize("values", [np.zeros((2, 2), np.uint64), 5, b"\x01\x02", "12"])
def test_a_column_is_one_value_per_input(values) -> None:
    """A 2-D array, a scalar, bytes or a string is not a column (a 2-D array was reported as
    "got uint64 values", a scalar as "'int' object is not iterable", bytes ran as integers)."""
    batch = Batch(Lib.with_(DEFAULT_ISAE, VALIDATE20), threads=1)
    for name in ("a64[0]", "a128[0]"):
        with pytest.raises(TypeError, match=r"^a(64|128)\[0\]: expected one value per input"):
            batch.run({name: values})
