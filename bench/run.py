"""Run every benchmark in one process so the ratios come from one machine state."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

for name in ("bench_interp", "bench_jit", "bench_native", "bench_fallback", "bench_coverage", "bench_compile",
             "bench_batch", "bench_float", "bench_crypto", "bench_rgb", "bench_asm"):
    try:
        mod = importlib.import_module(name)
    except ImportError as e:
        print(f"== {name}: not available ({e})")
        continue
    print(f"== {name}")
    mod.main()
    print()
