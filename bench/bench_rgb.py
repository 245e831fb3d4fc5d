"""RGB 0.11 host: validations per second of the example NIA/UDA scripts, and the cost of the
Pedersen pieces, in one process (interp and JIT interleaved, medians over rounds).

Ratios, not absolute times, are what to compare across machines.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from aluvm.asm import assemble_file
from aluvm.host.rgb import load_context, pedersen, profile, validate

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples" / "rgb"
ROUNDS = 5


def _rate(fn, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def main() -> None:
    prof = profile()
    nia = assemble_file(EX / "nia.aluasm", profile=prof)
    uda = assemble_file(EX / "uda.aluasm", profile=prof)
    cases = {
        "NIA genesis (pcas)": (nia, "nia_genesis.json", 0, 30),
        "NIA transfer (pcvs)": (nia, "nia_transfer.json", 24, 30),
        "UDA transfer (ldp/lds/extr)": (uda, "uda_transfer.json", 11, 2000),
    }
    for name, (lib, ctx_file, entry, n) in cases.items():
        ctx = load_context(json.loads((EX / ctx_file).read_text()))
        rates: dict[str, list[float]] = {"interp": [], "jit": []}
        for _ in range(ROUNDS):
            for tier in rates:
                assert validate(lib, ctx, entry, tier=tier).valid
                rates[tier].append(_rate(lambda: validate(lib, ctx, entry, tier=tier), n))
        i, j = statistics.median(rates["interp"]), statistics.median(rates["jit"])
        print(f"{name:<30} interp {i:>9,.0f}/s   jit {j:>9,.0f}/s   jit/interp {j / i:.2f}")
    tag = bytes(range(32))
    c = pedersen.commit(5, (7).to_bytes(32, "big"), tag)
    gen = statistics.median(_rate(lambda: pedersen.generator.__wrapped__(tag), 200)   # uncached
                            for _ in range(ROUNDS))
    com = statistics.median(_rate(lambda: pedersen.commit(5, (7).to_bytes(32, "big"), tag), 30)
                            for _ in range(ROUNDS))
    tally = statistics.median(_rate(lambda: pedersen.sums_equal([c, c], [c, c]), 200)
                              for _ in range(ROUNDS))
    print(f"Pedersen: generator {gen:,.0f}/s, commit {com:,.0f}/s, 2+2 tally {tally:,.0f}/s")


if __name__ == "__main__":
    main()
