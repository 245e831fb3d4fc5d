"""``aluvm batch`` of this checkout against another one (e.g. an older commit), interleaved.

    git worktree add --detach /tmp/old <commit> && make -C /tmp/old .venv/.installed
    .venv/bin/python bench/bench_batch_ab.py --other /tmp/old --n 1000000 --rounds 3

Both run as subprocesses on the same validate20 JSONL file (file to file, 2 threads),
alternating, medians over rounds: CPU microseconds per line (user + system of the process,
start-up included; both checkouts' bytecode compiled first, see
``bench_batch.compile_bytecode``), runs per CPU-second, the summary rate and the whole-process rate (median,
and the best round: on a shared machine the closest to what an idle one gives).  The outputs
are compared byte for byte.
"""
from __future__ import annotations

import argparse
import filecmp
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import ROOT, cli_run, compile_bytecode, write_inputs  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other", required=True, help="checkout with its own .venv")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-precompile", action="store_true",
                    help="do not compile both checkouts' bytecode first (see compile_bytecode)")
    args = ap.parse_args(argv)
    other = Path(args.other).resolve()
    sides = {"other": (str(other / ".venv/bin/python"), other),
             "this": (sys.executable, ROOT)}
    if not args.no_precompile:
        for py, cwd in sides.values():
            compile_bytecode(py, cwd)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src, _ = write_inputs(args.n, tmp)
        got: dict[str, list[tuple[float, float, float]]] = {k: [] for k in sides}
        for name, (py, cwd) in sides.items():       # warm-up: kernels in the disk cache
            cli_run(src, tmp / f"{name}.jsonl", args.threads, python=py, cwd=cwd)
        assert filecmp.cmp(tmp / "other.jsonl", tmp / "this.jsonl", shallow=False), \
            "outputs differ"
        for _ in range(args.rounds):
            for name, (py, cwd) in sides.items():
                got[name].append(cli_run(src, tmp / f"{name}.jsonl", args.threads,
                                         python=py, cwd=cwd))
    print(f"aluvm batch, {args.n:,} validate20 lines, {args.threads} threads, "
          f"medians of {args.rounds} interleaved rounds (outputs identical; bytecode "
          f"{'as found' if args.no_precompile else 'compiled first'})")
    for name, v in got.items():
        cpu = statistics.median(x[2] for x in v)
        print(f"  {name:5s}: {1e6 / cpu:5.2f} us CPU per line, {cpu:>11,.0f} runs per "
              f"CPU-second, summary {statistics.median(x[0] for x in v):>11,.0f} runs/s, "
              f"whole process {statistics.median(x[1] for x in v):>11,.0f} runs/s "
              f"(best round {max(x[1] for x in v):>11,.0f})")
    ratio = statistics.median(x[2] for x in got["this"]) / \
        statistics.median(x[2] for x in got["other"])
    print(f"  this/other runs per CPU-second: {ratio:.2f}x")


if __name__ == "__main__":
    main()
