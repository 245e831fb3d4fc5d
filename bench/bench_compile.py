"""Cold compile time of a large straight-line validation library (16 KiB of code).

The library is drawn from the instruction table: A-register puts, compares, arithmetic and
bitwise instructions with a ``test`` after every few (so each check stops a failing input), no
jumps - the shape of a generated validation script.  Timed: lift + codegen + LLVM + load, with
no disk cache (a fresh cache directory per round), medians over rounds in one process: wall time
and this process's CPU time (on a machine shared with other jobs the wall time includes the
time the process waited for a core; the CPU time is what compiling costs).

    python bench/bench_compile.py [rounds]
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aluvm.isa import table as isa  # noqa: E402
from aluvm.isa.codec import encode  # noqa: E402
from aluvm.library.lib import DEFAULT_ISAE, Lib  # noqa: E402
from aluvm.machine.interp import REFERENCE, Program  # noqa: E402

SIZE = 16 * 1024
#: the instruction kinds of a validation script (all compiled by the JIT)
KEYS = ("put_a", "gt_a", "lt_a", "eq_a", "ifz_a", "add_a", "sub_a", "mul_a", "and", "or",
        "xor", "not", "mov_a", "dup_a", "cpy_a", "shr_a", "st", "ifn_a")


def _field(rng: random.Random, f: isa.Field) -> int:
    if f.name == "reg" and f.bits >= 3:
        return rng.randrange(4)                    # a8..a64
    if f.name in ("reg1", "reg2"):
        return rng.randrange(4)
    if f.name == "flags":
        return rng.randrange(2)
    if f.name == "off":
        return rng.randrange(0, 64, 8)
    if f.bits >= 5:
        return rng.randrange(8)
    return rng.randrange(1 << f.bits)


def validation_library(size: int = SIZE, seed: int = 1) -> Lib:
    rng = random.Random(seed)
    forms = [f for f in isa.FORMS if f.key in KEYS]
    test = encode(isa.BY_KEY["test"], [])
    code = bytearray()
    while len(code) < size - 8:
        for _ in range(3):
            form = rng.choice(forms)
            code += encode(form, [_field(rng, f) for f in form.fields if f.name in form.args])
        code += test
    code += encode(isa.BY_KEY["ret"], [])
    data = bytes(rng.randrange(256) for _ in range(128))
    return Lib.with_(DEFAULT_ISAE, bytes(code), data)


def compile_once(lib: Lib) -> tuple[float, float, dict]:
    from aluvm.jit.cache import CodeCache
    from aluvm.jit.engine import compile_program
    from aluvm.jit.settings import JitSettings
    with tempfile.TemporaryDirectory(prefix="aluvm-jit-compile-") as d:
        cache = CodeCache(JitSettings(eager=True, cache_dir=Path(d)))
        prog = Program(lib.code, lib.data, lib.libs, lib.id, REFERENCE, lib.isae)
        t, c = time.perf_counter(), time.process_time()
        unit, how = compile_program(prog, (0,), cache=cache)
        dt, dc = time.perf_counter() - t, time.process_time() - c
    assert how == "compiled" and "compile_error" not in unit.meta, unit.meta
    assert unit.meta["tier"] == "native", unit.meta     # compiled, not left to the interpreter
    return dt, dc, unit.meta


def main(rounds: int = 5) -> dict:
    from aluvm.jit.backend import backend
    from aluvm.jit.cache import code_cache
    from aluvm.jit.loader import loader
    backend()
    loader().load_runtime(code_cache())             # one-time per process, not measured
    times, cpu, meta = [], [], {}
    for k in range(rounds):
        lib = validation_library(seed=k + 1)       # a new library each round: nothing cached
        dt, dc, meta = compile_once(lib)
        times.append(dt)
        cpu.append(dc)
    med, med_cpu = statistics.median(times), statistics.median(cpu)
    print(f"16 KiB straight-line validation library, cold compile (median of {rounds}): "
          f"{med * 1e3:.1f} ms wall, {med_cpu * 1e3:.1f} ms CPU  [{meta['compiled_instrs']} "
          f"instructions, {meta['blocks']} blocks, {meta['ir_lines']} IR lines, "
          f"{meta['object_bytes']} B object, opt {meta['opt_level']}]")
    out = {"compile_s": med, "compile_cpu_s": med_cpu}
    out.update(stages(rounds))
    return out


def stages(rounds: int) -> dict:
    """Where the CPU time goes, step by step (minimum over rounds of each step): lift, IR
    generation, LLVM parse, verify, object emission, load."""
    import llvmlite.binding as llvm
    from aluvm.jit import codegen
    from aluvm.jit.backend import backend
    from aluvm.jit.cache import code_cache
    from aluvm.jit.lift import lift
    from aluvm.jit.loader import loader
    best: dict[str, float] = {}
    for k in range(rounds):
        lib = validation_library(seed=100 + k)
        prog = Program(lib.code, lib.data, lib.libs, lib.id, REFERENCE, lib.isae)
        name = f"aluvm_bench_stage_{lib.id.hex()[:16]}"
        clock = time.process_time
        marks = [clock()]
        cfg = lift(prog, (0,), codegen.make_supports(prog.profile))
        marks.append(clock())
        ir, _ = codegen.generate(cfg, prog, name, cold=True)
        marks.append(clock())
        with backend().lock:
            module = llvm.parse_assembly(ir)
            marks.append(clock())
            module.verify()
            marks.append(clock())
            obj = backend().machines[0].emit_object(module)
            marks.append(clock())
        loader().load(obj, name, code_cache())
        marks.append(clock())
        for i, step in enumerate(("lift", "generate", "parse", "verify", "emit", "load")):
            best[step] = min(best.get(step, 1e9), marks[i + 1] - marks[i])
    print("  CPU by step (min of rounds): " + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in best.items())
          + f" ms; sum {sum(best.values()) * 1e3:.1f} ms")
    return {f"{k}_cpu_s": v for k, v in best.items()}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
