"""The Ray engine: a local Ray instance started here; results identical to the local engine,
in input order; the CLI joins the same instance with --ray-address."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aluvm import DEFAULT_ISAE, Batch, Lib
from aluvm.asm import assemble, assemble_file

from conftest import ROOT, use_test_jit_cache
from test_batch import LOOP, VALIDATE20, assert_same, v20_inputs

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    with pytest.MonkeyPatch.context() as mp:
        use_test_jit_cache(mp)
        started = not ray.is_initialized()
        if started:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield ray.get_runtime_context().gcs_address
        if started:
            ray.shutdown()


def test_ray_engine(cluster, tmp_path: Path) -> None:
    """One test (one Ray instance, whatever pytest-xdist does): validate20, fallbacks and cl0,
    the interpreter tier, and the CLI joining the instance."""
    _validate20()
    _fallbacks_and_cl0()
    _panics_and_hangs(tmp_path)
    _put_once_run_many()
    _chunks_made_by_ray_tasks()
    _ray_inputs_bad_arguments()
    _cli_joins_the_cluster(cluster, tmp_path)
    _cli_ray_ranges_equal_local(cluster, tmp_path)
    _cli_ray_columnar_equal_local(cluster, tmp_path)
    _corrupt_parquet_is_an_input_error(tmp_path)


def _validate20() -> None:
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    inputs = v20_inputs(60_000, seed=21)
    remote = Batch(lib, engine="ray", threads=2).run(inputs)
    local = Batch(lib, threads=2).run(inputs)
    assert_same(remote, local)
    assert 0 < remote.st0.sum() < len(remote)


def _fallbacks_and_cl0() -> None:
    """Inputs that leave native code are finished on the workers, identically."""
    lib = assemble(LOOP)
    rng = np.random.default_rng(4)
    inputs = {"a64[0]": np.ma.masked_array(rng.integers(0, 40, 5000, dtype=np.uint64),
                                           mask=rng.random(5000) < 0.05)}
    remote = Batch(lib, engine="ray", cl0=100).run(inputs)
    local = Batch(lib, cl0=100).run(inputs)
    assert_same(remote, local)
    assert remote.fallback.any()
    sha = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    msgs = [b"AluVM commitment" if k % 2 else bytes(k % 9) for k in range(300)]
    assert_same(Batch(sha, engine="ray", tier="interp").run({"s16[0]": msgs}),
                Batch(sha).run({"s16[0]": msgs}))


def _panics_and_hangs(tmp_path: Path) -> None:
    """Rows the reference panics or hangs on carry their outcome (row numbers of the whole
    batch) through packed results, shared memory and the CLI's Ray tasks, as locally."""
    from test_batch_outcomes import SRC, inputs, jsonl
    from aluvm.tools.batch_ray import file_ranges, jsonl_on_ray
    from aluvm.tools.jsonl import chunks
    from aluvm.tools.pipeline import run_stream
    import io
    lib = assemble(SRC)
    cols = inputs(3000)
    local = Batch(lib).run(cols)
    assert len(local.outcomes) == 1500
    remote = Batch(lib, engine="ray")
    for chunk in (None, 777):
        _same(remote.run(remote.put(cols, chunk=chunk)), local)
    _same(remote.submit(remote.put(cols, chunk=1000)).result(), local)
    _same(remote.run(cols), local)                  # (inputs lent, not put)
    assert_same(Batch(lib, engine="ray", tier="interp").run(cols), local)
    src = tmp_path / "panics.jsonl"
    text = jsonl(cols)
    src.write_text(text)
    ranged = b"".join(bytes(p) for out, _, _ in jsonl_on_ray(
        remote, file_ranges(str(src), 40_000), text.split("\n")[0].encode() + b"\n")
        for p in out)
    here = io.BytesIO()
    with open(src, "rb") as fh:
        run_stream(Batch(lib), chunks(fh), here, 2)
    assert ranged == here.getvalue() and ranged.count(b'"panic"') + ranged.count(b'"aborted"') == 1500


def _same(a, b) -> None:
    """Identical results, the fallback marks included."""
    assert_same(a, b)
    assert np.array_equal(a.fallback, b.fallback)
    assert sorted(k.name for k in a.columns) == sorted(k.name for k in b.columns)


def _put_once_run_many() -> None:
    """Batch.put stores the inputs once; every run on the handle (and submit) equals the
    local engine - masked inputs, restricted outputs, fallback-heavy inputs, chunk sizes that
    do not divide the inputs."""
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    inputs = v20_inputs(50_000, seed=23)
    local = Batch(lib, threads=2).run(inputs)
    remote = Batch(lib, engine="ray", threads=2)
    for chunk in (None, 7_777):
        handle = remote.put(inputs, chunk=chunk)
        assert handle.n == 50_000 and len(handle) == 50_000
        for _ in range(2):
            _same(remote.run(handle), local)
        run = remote.submit(handle)
        assert run.counts() == (50_000, int(local.st0.sum()), 0)
        _same(run.result(), local)
        assert run.result() is run.result()
    # results written in place into shared memory are never overwritten by later runs
    other = v20_inputs(50_000, seed=24)
    kept = [remote.run(remote.put(inputs)), remote.run(remote.put(other)),
            remote.run(inputs), remote.run(other)]         # (and inputs lent, not put)
    for k in range(4):
        _same(kept[k], local if k % 2 == 0 else Batch(lib).run(other))
    run = remote.submit(remote.put(inputs))
    from aluvm.tools import shm
    # (this node's actor wrote in place, where /dev/shm exists)
    assert _ray_get_first(run).complete is not shm.available()
    _same(run.result(), local)
    outs = ["a64[3]", "a16[0]", "a128[0]"]
    _same(Batch(lib, engine="ray", outputs=outs).run(Batch(lib, engine="ray").put(inputs)),
          Batch(lib, outputs=outs).run(inputs))
    # fallback-heavy: cl0 reached inside the loop for most inputs, some undefined
    loop = assemble(LOOP)
    rng = np.random.default_rng(8)
    lin = {"a64[0]": np.ma.masked_array(rng.integers(0, 60, 9000, dtype=np.uint64),
                                        mask=rng.random(9000) < 0.1)}
    rb = Batch(loop, engine="ray", cl0=120)
    got = rb.run(rb.put(lin, chunk=2000))
    want = Batch(loop, cl0=120).run(lin)
    _same(got, want)
    assert 0 < want.fallback.sum() < 9000
    assert rb.submit(rb.put(lin)).counts() == (9000, int(want.st0.sum()), int(want.fallback.sum()))
    # an empty batch
    empty = {"a64[0]": np.zeros(0, np.uint64)}
    assert Batch(loop, engine="ray").run(Batch(loop, engine="ray").put(empty)).n == 0


def _chunks_made_by_ray_tasks() -> None:
    """Inputs produced by other Ray tasks stay in the object store: RayInputs.from_refs (or
    a plain list of refs) runs them in order; registers the run passes through come from
    the chunks themselves."""
    from aluvm.tools.batch_ray import RayInputs
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    whole = v20_inputs(12_000, seed=31)

    @ray.remote
    def produce(start: int, end: int) -> dict:
        return {k: v[start:end] for k, v in whole.items()}
    spans = [(0, 5000), (5000, 5001), (5001, 12_000)]
    refs = [produce.remote(s, e) for s, e in spans]
    local = Batch(lib).run(whole)
    remote = Batch(lib, engine="ray")
    _same(remote.run(refs), local)
    _same(remote.run(RayInputs.from_refs(refs, sizes=[e - s for s, e in spans])), local)
    # without sizes the results travel packed: each chunk's ref unpacks on its own
    run = remote.submit(refs)
    part = _ray_get_first(run).unpack()
    assert part.n == 5000 and np.array_equal(part.st0, local.st0[:5000])
    assert np.array_equal(part["a64[3]"], local["a64[3]"][:5000])
    _same(Batch(lib, engine="ray", outputs=["a16[0]", "a64[2]"]).run(refs),
          Batch(lib, outputs=["a16[0]", "a64[2]"]).run(whole))
    # S registers through the fallback path, chunks made elsewhere
    sha = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    msgs = [b"AluVM commitment" if k % 3 else bytes(k % 7) for k in range(200)]
    mrefs = [ray.put({"s16[0]": msgs[:80]}), ray.put({"s16[0]": msgs[80:]})]
    _same(Batch(sha, engine="ray").run(mrefs), Batch(sha).run({"s16[0]": msgs}))


def _ray_get_first(run):
    return ray.get(run.refs[0])


def _ray_inputs_bad_arguments() -> None:
    from aluvm.errors import InputError
    from aluvm.tools.batch_ray import RayInputs
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    remote = Batch(lib, engine="ray")
    handle = remote.put({"a64[0]": np.arange(10, dtype=np.uint64)})
    with pytest.raises(InputError, match="engine='ray'"):
        Batch(lib).run(handle)
    with pytest.raises(InputError, match="engine='ray'"):
        Batch(lib).put({"a64[0]": np.arange(3, dtype=np.uint64)})
    with pytest.raises(InputError, match="engine='ray'"):
        Batch(lib).submit(handle)
    with pytest.raises(InputError, match="ObjectRef"):
        RayInputs.from_refs([handle.refs[0], 5])
    with pytest.raises(InputError, match="sizes"):
        RayInputs.from_refs(handle.refs, sizes=[1, 2, 3])
    with pytest.raises(InputError, match="positive"):
        remote.put({"a64[0]": np.arange(3, dtype=np.uint64)}, chunk=0)
    with pytest.raises(InputError, match="mapping"):
        remote.run([ray.put(b"not columns")])
    with pytest.raises(InputError, match="fit in 16"):   # raised in the worker, one line
        remote.run([ray.put({"a16[0]": np.array([70_000], np.int64)})])
    with pytest.raises(InputError, match="sizes"):
        Batch(lib, engine="ray", host=[None] * 10).run(RayInputs.from_refs(handle.refs))


def _cli_joins_the_cluster(cluster: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": k, "regs": {"a64[0]": f"{int(rng.integers(0, 5)):016x}",
                                           "a64[1]": f"{int(rng.integers(0, 5)):016x}"}})
             for k in range(3000)]
    src.write_text("\n".join(lines + ['{"entry":1}']) + "\n")
    outs = []
    for extra in (["--engine", "ray", "--ray-address", cluster], []):
        r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code",
                            VALIDATE20.hex(), str(src), *extra], capture_output=True, text=True,
                           cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
        assert "3001 inputs" in r.stderr and "1 errors" in r.stderr
    assert outs[0] == outs[1]
    # stdin: the chunks travel with the tasks (no file for the workers to read)
    r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code",
                        VALIDATE20.hex(), "-", "--engine", "ray", "--ray-address", cluster],
                       input=src.read_text(), capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == outs[1] and "3001 inputs" in r.stderr
    # /dev/stdin on a pipe (a FIFO, <(...)): read as a stream, not as byte ranges of a file
    r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code",
                        VALIDATE20.hex(), "/dev/stdin", "--engine", "ray", "--ray-address",
                        cluster], input=src.read_text(), capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == outs[1] and "3001 inputs" in r.stderr


@pytest.mark.parametrize("seed", range(4))
def test_packed_arrays_round_trip(seed: int) -> None:
    """Results travel packed (constant, bits, narrowed, raw); unpacking gives the array back,
    exactly, whatever its values (no Ray needed)."""
    from aluvm.tools.packed import Packed
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    cases = [np.zeros(n, bool), np.ones(n, bool), rng.random(n) < 0.3,
             np.zeros(n, np.uint64), np.full(n, 7, np.uint16),
             rng.integers(0, 256, n, dtype=np.uint64), rng.integers(0, 70_000, n).astype(np.uint32),
             rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
             np.full(n, 2**64 - 1, np.uint64), rng.integers(0, 2, n, dtype=np.uint8),
             np.array([None, 2**300, 5] * n, object)[:n]]
    kinds = set()
    for a in cases:
        p = Packed.of(a)
        kinds.add(p.kind)
        back = p.unpack()
        assert back.dtype == a.dtype and back.tolist() == a.tolist()
        out = np.full(n + 4, 9, a.dtype) if a.dtype != object else np.empty(n + 4, object)
        p.into(out[2:n + 2])
        assert out[2:n + 2].tolist() == a.tolist()
    assert kinds == {"const", "bits", "raw"}
    assert Packed.of(rng.integers(0, 200, n, dtype=np.uint64)).data.dtype == np.uint8


@pytest.mark.parametrize("size", [1, 7, 64, 1000, 10**6])
def test_file_ranges_give_every_line_once(tmp_path: Path, size: int) -> None:
    """``--engine ray`` on a file: each task reads the lines that start in its byte range;
    together they are the file, in order, whatever the range size (no Ray needed)."""
    from aluvm.tools.batch_ray import file_ranges, read_range
    lines = [b'{"regs":{"a64[0]":"%016x"}}' % k for k in range(300)] + [b"x" * 5000, b"",
                                                                        b"last-no-newline"]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines))
    got = b"".join(read_range(*r) for r in file_ranges(str(src), size))
    assert got == src.read_bytes()


def _cli_ray_ranges_equal_local(cluster: str, tmp_path: Path) -> None:
    """A file on this machine: Ray tasks read byte ranges of it themselves (parse, run and
    format on the workers); the output equals the local engine's, errors included."""
    from aluvm.tools.batch_ray import jsonl_on_ray, file_ranges
    from aluvm.tools.jsonl import chunks
    from aluvm.tools.pipeline import run_stream
    import io
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    rng = np.random.default_rng(5)
    names = [f"a16[{i}]" for i in range(5)] + [f"a64[{i}]" for i in range(5)]
    lines = [json.dumps({"regs": {n: f"{int(rng.integers(0, 4)):0{4 if n[1] == '1' else 16}x}"
                                  for n in names}}) for _ in range(4000)]
    lines[1234] = '{"regs":{},"cl0":3}'
    src = tmp_path / "ranges.jsonl"
    src.write_text("\n".join(lines) + "\n")
    ranged = b"".join(bytes(p) for text, _, _ in jsonl_on_ray(
        Batch(lib, engine="ray"), file_ranges(str(src), 50_000), lines[0].encode() + b"\n")
        for p in text)
    local = io.BytesIO()
    with open(src, "rb") as fh:
        s = run_stream(Batch(lib), chunks(fh), local, 2)
    assert ranged == local.getvalue() and s.errors == 1 and s.inputs == 4000


def _v20_table(n: int, seed: int):
    """validate20 inputs as an Arrow table: integer and hex columns, nulls, ids, bad hex."""
    import pyarrow as pa
    rng = np.random.default_rng(seed)
    cols = v20_inputs(n, seed=seed)
    data = {k: pa.array(v.data, mask=np.ma.getmaskarray(v)) for k, v in cols.items()}
    data["a64[1]"] = pa.array([None if v is np.ma.masked else f"{int(v):016x}"
                               for v in cols["a64[1]"]])
    hexes = data["a64[1]"].to_pylist()
    hexes[n // 3] = "zz" * 8                        # one error line
    data["a64[1]"] = pa.array(hexes)
    data["id"] = pa.array([int(i) for i in rng.permutation(n)])
    return pa.table(data)


def _cli_ray_columnar_equal_local(cluster: str, tmp_path: Path) -> None:
    """Parquet (row groups small, large and one) and Arrow IPC through Ray: tasks read their
    own pieces of the file; the output equals the local engine's, errors included."""
    import io
    import pyarrow.feather as feather
    import pyarrow.parquet as pq
    from aluvm.tools.batch_ray import columnar_on_ray
    from aluvm.tools.jsonl import read_columnar
    from aluvm.tools.pipeline import run_stream
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    table = _v20_table(9000, seed=41)
    files = []
    for k, group in enumerate((700, 4000, 20_000)):
        files.append(tmp_path / f"in{k}.parquet")
        pq.write_table(table, files[-1], row_group_size=group)
    files.append(tmp_path / "in.arrow")
    feather.write_feather(table, files[-1], compression="uncompressed")
    for path in files:
        local = io.BytesIO()
        s = run_stream(Batch(lib), read_columnar(str(path)), local, 2)
        ranged = b"".join(bytes(p) for text, _, _ in
                          columnar_on_ray(Batch(lib, engine="ray"), str(path), 2500)
                          for p in text)
        assert ranged == local.getvalue(), path.name
        assert s.errors == 1 and s.inputs == 9000
    # the command itself: aluvm batch on Parquet with --engine ray == local
    outs = []
    for extra in (["--engine", "ray", "--ray-address", cluster], []):
        r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code",
                            VALIDATE20.hex(), str(files[0]), *extra], capture_output=True,
                           text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "9000 inputs" in r.stderr and "1 errors" in r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]


def _corrupt_parquet_is_an_input_error(tmp_path: Path) -> None:
    """A row group the workers cannot decode is the driver's one-line input error (it was the
    worker's whole traceback, as an OSError)."""
    from aluvm.errors import InputError
    from aluvm.tools.batch_ray import columnar_on_ray
    from test_batch_cli import _corrupt_page_parquet
    path = tmp_path / "corrupt.parquet"
    _corrupt_page_parquet(path)
    with pytest.raises(InputError, match=r"^\S+corrupt.parquet: not a readable Parquet file \("):
        for _ in columnar_on_ray(Batch(Lib.with_(DEFAULT_ISAE, VALIDATE20), engine="ray"),
                                 str(path), 2500):
            pass


@pytest.mark.parametrize("groups", [[5], [1000], [300, 300, 300, 100], [10, 2600, 10, 10]])
def test_columnar_pieces_cover_every_row_once(tmp_path: Path, groups: list[int]) -> None:
    """``--engine ray`` on Parquet: small row groups go together, a large one is cut into
    row ranges; together the pieces are the file's rows, in order (no Ray needed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from aluvm.tools.batch_ray import columnar_pieces, read_piece
    path = tmp_path / "rows.parquet"
    with pq.ParquetWriter(path, pa.schema([("a64[0]", pa.uint64())])) as w:
        at = 0
        for g in groups:
            w.write_table(pa.table({"a64[0]": pa.array(np.arange(at, at + g, dtype=np.uint64))}))
            at += g
    pieces = columnar_pieces(str(path), 1000)
    got = np.concatenate([read_piece(*p).column(0).to_numpy() for p in pieces])
    assert got.tolist() == list(range(sum(groups)))
    assert all(p[4] - p[3] <= 1000 for p in pieces)
