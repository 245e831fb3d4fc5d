"""`aluvm analyze`: the graph, and the ca0/cy0 bounds - never exceeded by a run in either
tier, and reached on loop-free programs whose branches the inputs decide.

The property test runs ``ALUVM_BOUND_PROGRAMS`` random programs (default 400 in the suite;
``make fuzz`` runs 10,000)."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from itertools import product

from conftest import ROOT

from aluvm.asm import assemble
from aluvm.isa import table as isa
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import U64_MAX, Registers
from aluvm.tools.analyze import analyze, to_dot
from aluvm.tools.service import interp_runner

N_PROGRAMS = int(os.environ.get("ALUVM_BOUND_PROGRAMS", "400"))
DATA = bytes(range(1, 129))
CTRL = {"jmp", "jif", "routine"}


def _encode(form: isa.Form, rnd: random.Random, target: int | None = None) -> bytes:
    args = []
    for f in form.fields:
        if f.fixed is not None or f.kind == "pad":
            continue
        if f.name == "pos" and target is not None:
            args.append(target)
        elif f.name == "off" and form.special == isa.PUT:
            args.append(rnd.randrange(0, len(DATA) - 8))
        elif f.kind == "i8":
            args.append(rnd.randint(-128, 127))
        elif f.kind == "s8":
            args.append(rnd.randrange(16))
        else:
            args.append(rnd.randrange(f.mask + 1))
    word = form.pack(tuple(args))
    return bytes([form.opcode]) + word.to_bytes(form.arg_bits // 8, "little")


_ALL = [f for f in isa.FORMS if f.key not in ("call", "exec")]
_BY_KEY = isa.BY_KEY


def random_program(rnd: random.Random) -> bytes:
    """Any instructions (reserved opcodes, byte strings, digests, curves included), with jumps
    that mostly land inside the code (forwards and backwards)."""
    n = rnd.randint(1, 12)
    forms = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.25:
            forms.append(_BY_KEY[rnd.choice(["jmp", "jif", "jif", "routine", "test", "ret"])])
        elif r < 0.3:
            forms.append(None)                       # a reserved opcode
        else:
            forms.append(rnd.choice(_ALL))
    sizes = [1 if f is None else f.size or 1 for f in forms]
    starts = [sum(sizes[:k]) for k in range(n)]
    end = sum(sizes)
    code = b""
    for f in forms:
        if f is None:
            code += bytes([rnd.choice([0x40, 0x7F, 0x90, 0xC3, 0xFE])])
        elif f.key in CTRL:
            target = rnd.choice(starts + [end, rnd.randrange(end + 2)])
            code += _encode(f, rnd, target)
        else:
            code += _encode(f, rnd)
    return code


def random_registers(rnd: random.Random) -> Registers:
    regs = Registers()
    for code in range(4):
        for idx in range(4):
            if rnd.random() < 0.7:
                regs.a[code][idx] = rnd.choice([0, 1, 2, rnd.randrange(1 << (8 << code))])
    for idx in range(3):
        if rnd.random() < 0.5:
            regs.s[idx] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(6)))
    regs.st0 = rnd.random() < 0.8
    # most runs start close to the jump limit, so loops end quickly; some start at 0
    regs.cy0 = 0 if rnd.random() < 0.05 else 0xFFFF - rnd.randrange(300)
    regs.ca0 = rnd.choice([0, 0, 7, U64_MAX - 10])
    return regs


def _check(lib: Lib, regs: Registers, tiers, profile: str = "reference") -> None:
    a = analyze(lib, 0, profile, cy0=regs.cy0)
    for tier, run in tiers:
        r = regs.copy()
        run(lib, r, 0, profile)
        added = r.ca0 - regs.ca0
        assert added <= a.ca0.value or r.ca0 == U64_MAX, (tier, lib.code.hex(), added, a.ca0)
        assert r.cy0 - regs.cy0 <= a.cy0.value, (tier, lib.code.hex(), r.cy0 - regs.cy0, a.cy0)


def test_bounds_hold_on_random_programs_in_both_tiers(jit_eager) -> None:
    from aluvm.jit.engine import jit_runner
    rnd = random.Random(12)
    tiers = [("interp", interp_runner), ("jit", jit_runner)]
    cyclic = 0
    for k in range(N_PROGRAMS):
        lib = Lib.with_(DEFAULT_ISAE, random_program(rnd), DATA)
        profile = "spec" if k % 4 == 3 else "reference"
        regs = random_registers(rnd)
        _check(lib, regs, tiers, profile)
        cyclic += analyze(lib, 0, profile).has_cycle
    assert cyclic > N_PROGRAMS // 20          # the sample has loops, not only straight code


# ---- tightness ------------------------------------------------------------------------------

_SAFE = ["put_a", "add_a", "sub_a", "mul_a", "mov_a", "dup_a", "and", "or", "xor", "not",
         "eq_a", "gt_a", "lt_a", "clr_a", "cpy_a"]


def loop_free_program(rnd: random.Random) -> tuple[bytes, int]:
    """Straight code on A registers with forward branches, each `jif` right after an
    `ifz a8[k]` on its own input register: the inputs choose every branch, so every path of
    the graph is feasible.  Returns the code and the number of branch inputs."""
    items: list[tuple[str, int]] = []          # (kind, input index)
    branches = rnd.randint(0, 4)
    for b in range(branches):
        items += [("data", 0)] * rnd.randint(0, 3) + [("branch", b)]
    items += [("data", 0)] * rnd.randint(0, 3)
    items.append((rnd.choice(["end", "fail", "ret", "jmp"]), 0))
    # sizes first (ifz 2 bytes + jif 3 bytes), then targets forward only
    forms = []
    for kind, _ in items:
        if kind == "data":
            form = _BY_KEY[rnd.choice(_SAFE)]
            forms.append(("data", form))
        else:
            forms.append((kind, None))
    size = {"data": None, "branch": 5, "end": 0, "fail": 1, "ret": 1, "jmp": 3}
    starts, pos = [], 0
    for kind, form in forms:
        starts.append(pos)
        pos += form.size if kind == "data" else size[kind]
    end = pos
    code = b""
    for (kind, form), (_, b), at in zip(forms, items, starts):
        if kind == "data":
            code += _safe_encode(form, rnd)
        elif kind == "branch":
            code += bytes([0x1A, 0 | (20 + b) << 3])              # ifz a8[20+b]
            later = [s for s in starts if s > at + 5] + [end]
            code += _encode(_BY_KEY["jif"], rnd, rnd.choice(later))
        elif kind == "jmp":
            code += _encode(_BY_KEY["jmp"], rnd, end)
        elif kind == "fail":
            code += b"\x00"
        elif kind == "ret":
            code += b"\x07"
    return code, branches


def _safe_encode(form: isa.Form, rnd: random.Random) -> bytes:
    """A data instruction on a8..a64 registers 0..3 (never the branch inputs a8[20..])."""
    while True:
        raw = _encode(form, rnd)
        ins_fields = dict(zip(form.args, isa.Form.extract(form, int.from_bytes(raw[1:], "little"))))
        regs_ok = all(v < 4 for k, v in ins_fields.items() if k in ("reg", "reg1", "reg2"))
        idx_ok = all(v < 4 for k, v in ins_fields.items()
                     if k in ("idx", "idx1", "idx2", "src1", "src2", "dst"))
        if regs_ok and idx_ok:
            return raw


def test_bounds_are_reached_on_loop_free_programs() -> None:
    rnd = random.Random(5)
    checked = 0
    for _ in range(max(60, N_PROGRAMS // 8)):
        code, branches = loop_free_program(rnd)
        lib = Lib.with_(DEFAULT_ISAE, code, DATA)
        a = analyze(lib)
        assert not a.has_cycle and a.ca0.exact and a.cy0.exact
        best_ca = best_cy = 0
        for bits in product((0, 1), repeat=branches):
            regs = Registers()
            for code_idx in range(4):
                for idx in range(4):
                    regs.a[code_idx][idx] = rnd.randrange(1 << (8 << code_idx))
            for b, bit in enumerate(bits):
                regs.a[0][20 + b] = bit
            interp_runner(lib, regs, 0, "reference")
            best_ca, best_cy = max(best_ca, regs.ca0), max(best_cy, regs.cy0)
        assert (best_ca, best_cy) == (a.ca0.value, a.cy0.value), (code.hex(), a.ca0, a.cy0)
        checked += 1
    assert checked >= 60


# ---- the graph and the CLI ------------------------------------------------------------------

def test_graph_dead_code_certain_failures_and_jit_coverage() -> None:
    lib = assemble("""
.MAIN
        put     a64[0],1
        jif     skip
        fail
        put     s16[0],"abc"
skip:   rsrv:40
        ret
""")
    a = analyze(lib)
    assert sorted(a.nodes) == [0x00, 0x04, 0x07, 0x0E]
    assert a.unreachable == [(0x08, 'put     s16[0],"abc"'), (0x0F, "ret")]
    assert [(p, w.split(":")[0]) for p, _, w in a.never_succeed] == [(0x0E, "reserved opcode")]
    assert a.nodes[0x04].edges == [(0x0E, "jump"), (0x07, "fall")]
    # a reserved opcode costs 2^64-1: the counter saturates on the path through it
    assert a.ca0.value == U64_MAX and a.ca0.path == [0x00, 0x04, 0x0E] and a.cy0.value == 1
    # the JIT compiles put/jif/fail/reserved; nothing here needs the interpreter
    assert a.interpreted == [] and a.compiled == [0x00, 0x04, 0x07, 0x0E]
    dot = to_dot(a)
    assert dot.startswith("digraph aluvm {") and "[style=dashed]" in dot


def test_certain_reference_panic_is_reported() -> None:
    lib = assemble(".MAIN\n        splt.n  s16[0],a16[0],s16[1],s16[2]\n        ret\n")
    a = analyze(lib)
    assert [w for _, _, w in a.never_succeed] == ["the reference panics here whatever the registers"]
    assert a.ca0.value == 0                  # a panic aborts without charging
    assert analyze(lib, profile="spec").never_succeed == []


def test_analyze_cli_text_json_dot() -> None:
    def run(*args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "analyze", *args],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout
    text = run("examples/validate.aluasm")
    assert "ca0 bound: +18 (exact" in text and "0020  reject:" in text
    data = json.loads(run("--json", "examples/counter.aluasm"))
    assert data["has_cycle"] and data["bounds"]["cy0"]["value"] == 65535
    assert data["labels"]["loop"] == 0x10
    assert run("--dot", "examples/counter.aluasm").startswith("digraph")
