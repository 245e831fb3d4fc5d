"""Batch validation throughput: one script, many inputs (the product's main workload).

Everything is measured in this one process, interleaved round by round, medians reported:

* the native batch kernel (``aluvm.Batch``, numpy columns) at 1 and 2 threads, against the
  interpreter's batch path and the old per-input path (a ``Registers`` per input through
  ``jit_runner``), for validate20 (20 straight-line instructions over 14 registers) and a
  fallback-heavy script (sha256 over an S register);
* the ``aluvm batch`` pipeline end to end (JSON lines in, JSON lines out; and Parquet in),
  in process, at 1 and 2 threads;
* with ``--ray``: the Ray engine on a local 2-worker instance against local threads.

    python bench/bench_batch.py                # quick (N = 200,000)
    python bench/bench_batch.py --n 1000000 --ray
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VALIDATE20 = bytes.fromhex(
    "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321")
#: the reference's quoted batch rate (it allocates a 2 MB call stack per VM)
REFERENCE_RUNS_PER_S = 8_400


def v20_columns(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Inputs that satisfy most of validate20's conditions (a mix of verdicts)."""
    rng = np.random.default_rng(seed)
    c: dict[str, np.ndarray] = {}
    for bank, count, dt in (("a16", 5, np.uint16), ("a32", 4, np.uint32), ("a64", 5, np.uint64)):
        for i in range(count):
            c[f"{bank}[{i}]"] = rng.integers(0, 3, n, dtype=dt)
    c["a64[1]"] += 3
    c["a64[2]"][:] = 0
    c["a16[1]"] = c["a16[0]"].copy()
    c["a16[4]"] += 4
    c["a32[0]"] += 2
    c["a32[3]"] = c["a32[2]"].copy()
    c["a64[4]"] = np.where(rng.random(n) < 0.8, 0, c["a64[4]"]).astype(np.uint64)
    return c


def rate(fn: Callable[[], Any], n: int, rounds: int) -> float:
    """Median runs/s of ``fn`` (processing ``n`` inputs) over ``rounds``."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def interleaved(cases: dict[str, tuple[Callable[[], Any], int]], rounds: int) -> dict[str, float]:
    """Each case once per round, round after round; median runs/s per case."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, (fn, _) in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: cases[k][1] / statistics.median(v) for k, v in times.items()}


def old_path(lib: Any, cols: dict[str, np.ndarray], n: int) -> Callable[[], None]:
    """The per-input path before the kernel: a Registers per input through jit_runner."""
    from aluvm.jit.engine import jit_runner
    from aluvm.machine.registers import Registers, parse_name
    regs_of = [(parse_name(k), v[:n].tolist()) for k, v in cols.items()]

    def go() -> None:
        for j in range(n):
            regs = Registers()
            for (fam, code, idx), vals in regs_of:
                if fam == "a":
                    regs.a[code][idx] = vals[j]
                else:
                    regs.s[idx] = vals[j]
            jit_runner(lib, regs, 0, "reference")
    return go


def bench_api(n: int, rounds: int) -> list[tuple[str, float]]:
    from aluvm import DEFAULT_ISAE, Batch, Lib
    from aluvm.asm import assemble_file
    rows: list[tuple[str, float]] = []
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    cols = v20_columns(n)
    small = max(1000, n // 50)          # the slow paths run on fewer inputs
    cols_small = {k: v[:small] for k, v in cols.items()}
    b1, b2 = Batch(lib, threads=1), Batch(lib, threads=2)
    bi = Batch(lib, tier="interp", threads=1)
    b1.run(cols_small)                  # compile the kernel once
    old = old_path(lib, cols, small)
    old()
    r = interleaved({"kernel 1 thread": (lambda: b1.run(cols), n),
                     "kernel 2 threads": (lambda: b2.run(cols), n),
                     "interpreter batch": (lambda: bi.run(cols_small), small),
                     "old per-input path (jit_runner)": (old, small)}, rounds)
    for k, v in r.items():
        rows.append((f"validate20 API, {k}", v))
    for size in (10_000, 100_000):
        if size < n:
            part = {k: v[:size] for k, v in cols.items()}
            rows.append((f"validate20 API, kernel 2 threads, {size:,} inputs",
                         rate(lambda: b2.run(part), size, rounds)))
    sha = assemble_file(ROOT / "examples" / "sha256_commitment.aluasm")
    m = max(500, n // 400)
    msgs = [b"AluVM commitment" if k % 2 else bytes([k % 251]) * (k % 60) for k in range(m)]
    s_in = {"s16[0]": msgs}
    sb, si = Batch(sha, threads=2), Batch(sha, tier="interp")
    sb.run(s_in)
    s_old = old_path(sha, {"s16[0]": np.array(msgs + [None], dtype=object)[:-1]}, m)
    r = interleaved({"kernel + fallback": (lambda: sb.run(s_in), m),
                     "interpreter batch": (lambda: si.run(s_in), m),
                     "old per-input path (jit_runner)": (s_old, m)}, rounds)
    for k, v in r.items():
        rows.append((f"sha256 (fallback-heavy) API, {k}", v))
    return rows


def v20_jsonl(n: int) -> bytes:
    cols = v20_columns(n, seed=2)
    parts = []
    widths = {k: int(k[1:k.index("[")]) // 4 for k in cols}
    lists = {k: v.tolist() for k, v in cols.items()}
    for j in range(n):
        parts.append('{"regs":{' + ",".join(f'"{k}":"{lists[k][j]:0{widths[k]}x}"'
                                            for k in cols) + "}}\n")
    return "".join(parts).encode()


def bench_cli(n: int, rounds: int) -> list[tuple[str, float]]:
    """The ``aluvm batch`` pipeline in process (stream in, stream out)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from aluvm import DEFAULT_ISAE, Batch, Lib
    from aluvm.tools.jsonl import chunks, read_columnar
    from aluvm.tools.pipeline import run_stream
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    batch = Batch(lib, threads=1)
    data = v20_jsonl(n)
    tmp = Path(tempfile.mkdtemp())
    cols = v20_columns(n, seed=2)
    pq.write_table(pa.table({k: pa.array(v) for k, v in cols.items()}), tmp / "in.parquet")

    def jsonl(workers: int) -> Callable[[], None]:
        return lambda: run_stream(batch, chunks(io.BytesIO(data)), io.BytesIO(), workers)

    def parquet(workers: int) -> Callable[[], None]:
        return lambda: run_stream(batch, read_columnar(str(tmp / "in.parquet")), io.BytesIO(),
                                  workers)
    jsonl(1)()
    r = interleaved({"JSONL, 1 thread": (jsonl(1), n), "JSONL, 2 threads": (jsonl(2), n),
                     "Parquet in, 1 thread": (parquet(1), n),
                     "Parquet in, 2 threads": (parquet(2), n)}, rounds)
    return [(f"validate20 CLI pipeline, {k}", v) for k, v in r.items()]


def bench_ray(n: int, rounds: int) -> list[tuple[str, float]]:
    import ray
    from aluvm import DEFAULT_ISAE, Batch, Lib
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    lib = Lib.with_(DEFAULT_ISAE, VALIDATE20)
    cols = v20_columns(n)
    br, bt = Batch(lib, engine="ray", threads=2), Batch(lib, threads=2)
    br.run(cols)
    bt.run(cols)
    r = interleaved({"Ray, 2 local workers": (lambda: br.run(cols), n),
                     "local, 2 threads": (lambda: bt.run(cols), n)}, rounds)
    ray.shutdown()
    return [(f"validate20 API, {k}", v) for k, v in r.items()]


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000, help="inputs (kernel, CLI, Ray)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ray", action="store_true", help="also the Ray engine (starts Ray)")
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])
    rows = bench_api(args.n, args.rounds)
    if not args.no_cli:
        rows += bench_cli(args.n, args.rounds)
    if args.ray:
        rows += bench_ray(args.n, args.rounds)
    base = dict(rows)
    print(f"batch validation, N = {args.n:,}, medians of {args.rounds} interleaved rounds")
    print(f"  {'measure':<68}{'runs/s':>14}{'x reference':>13}")
    for name, v in rows:
        print(f"  {name:<68}{v:>14,.0f}{v / REFERENCE_RUNS_PER_S:>12,.1f}x")
    k1 = base["validate20 API, kernel 1 thread"]
    k2 = base["validate20 API, kernel 2 threads"]
    print(f"  ratios: kernel 2 threads / 1 thread {k2 / k1:.2f}; kernel / interpreter "
          f"{k1 / base['validate20 API, interpreter batch']:,.0f}; kernel / old path "
          f"{k1 / base['validate20 API, old per-input path (jit_runner)']:,.0f}")
    if args.ray:
        ray_r = base["validate20 API, Ray, 2 local workers"]
        print(f"  Ray / local threads: {ray_r / base['validate20 API, local, 2 threads']:.2f}")
    return base


if __name__ == "__main__":
    main()
