"""JSON lines input of ``aluvm batch``: a memory-mapped file (``jsonl.chunk_maps``, what the
CLI uses for a regular file) against reads into reused buffers (``jsonl.chunk_views``, what it
uses for a pipe) - the price of the read path, which a file truncated while it is read cannot
crash (a truncated map raises SIGBUS: the process dies, exit 135).

    .venv/bin/python bench/bench_input_map.py --n 1000000 --rounds 6

One process, the two interleaved (order alternating per round), the whole pipeline (parse,
kernel, format, 2 threads) to /dev/null: medians of process CPU seconds and wall seconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import write_inputs  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args(argv)
    from aluvm import DEFAULT_ISAE, Lib
    from aluvm.tools.batch import Batch
    from aluvm.tools.jsonl import CHUNK_LINES, chunk_maps, chunk_views
    from aluvm.tools.pipeline import run_stream
    v20 = "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321"
    batch = Batch(Lib.with_(DEFAULT_ISAE, bytes.fromhex(v20)), threads=1)
    ways = {"map": chunk_maps, "read": chunk_views}
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "wb") as out:
        src, _ = write_inputs(args.n, Path(tmp))
        for r in range(args.rounds):
            for name in (("map", "read") if r % 2 == 0 else ("read", "map")):
                with open(src, "rb") as fh:
                    c0, w0 = time.process_time(), time.perf_counter()
                    s = run_stream(batch, ways[name](fh, CHUNK_LINES), out, 2)
                    got[name].append((time.process_time() - c0, time.perf_counter() - w0))
                assert s.inputs == args.n
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
           for k, v in got.items()}
    for k, (c, w) in med.items():
        print(f"{k:5} CPU {c:.3f} s  wall {w:.3f} s  ({args.n / c:,.0f} runs per CPU-second)")
    print(f"read / map: CPU {med['read'][0] / med['map'][0]:.3f}x, "
          f"wall {med['read'][1] / med['map'][1]:.3f}x")


if __name__ == "__main__":
    main()
