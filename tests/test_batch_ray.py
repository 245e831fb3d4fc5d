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
    _cli_joins_the_cluster(cluster, tmp_path)
    _cli_ray_ranges_equal_local(cluster, tmp_path)


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
    ranged = b"".join(text for text, _, _ in jsonl_on_ray(
        Batch(lib, engine="ray"), file_ranges(str(src), 50_000), lines[0].encode() + b"\n"))
    local = io.BytesIO()
    with open(src, "rb") as fh:
        s = run_stream(Batch(lib), chunks(fh), local, 2)
    assert ranged == local.getvalue() and s.errors == 1 and s.inputs == 4000
