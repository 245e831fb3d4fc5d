"""The JIT tier: lifting, codegen per instruction family, counters, fallback, caches, threads.

Every check compares against the interpreter (the reference tier) on the same input."""
from __future__ import annotations

import itertools
import threading

import pytest

from aluvm.isa import table as isa
from aluvm.isa.codec import encode
from aluvm.machine.interp import SPEC, REFERENCE, Program
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import A_BITS, U64_MAX, Registers
from aluvm.tools.service import interp_runner, state_dict

from aluvm.jit import codegen
from aluvm.jit import engine
from aluvm.jit import layout
from aluvm.jit.cache import CodeCache, use_code_cache
from aluvm.jit.engine import jit_runner, last_stats
from aluvm.jit.settings import JitSettings
from aluvm.jit.lift import lift

PROFILES = ("reference", "spec")


pytestmark = pytest.mark.usefixtures("jit_eager")
LOOP = bytes.fromhex("200261020000")   # add.sw a64[0],a64[1]; jmp 0


def _lib(code: bytes | str, data: bytes = b"") -> Lib:
    return Lib.with_(DEFAULT_ISAE, bytes.fromhex(code) if isinstance(code, str) else code, data)


def both(lib: Lib, regs: Registers, profile: str = "reference", entry: int = 0):
    r1, r2 = regs.copy(), regs.copy()
    o1 = interp_runner(lib, r1, entry, profile)
    o2 = jit_runner(lib, r2, entry, profile)
    assert "compile_error" not in last_stats(), last_stats()["compile_error"]
    s1, s2 = state_dict(r1, o1, lib), state_dict(r2, o2, lib)
    assert s1 == s2
    assert r1.cs0 == r2.cs0
    return s2, r2


def ins(key: str, **fields: int) -> bytes:
    form = isa.BY_KEY[key]
    return encode(form, [fields[n] for n in form.args])


# ---- the loop of the issue ------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_issue_loop(profile: str) -> None:
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 5
    state, out = both(_lib(LOOP), regs, profile)
    assert (state["st0"], state["cy0"], state["ca0"]) == (False, 65535, 196608)
    assert out.a[3][1] == 5 + 3 * 65536
    stats = last_stats()
    assert stats["compiled_instrs"] == 2 and stats["fallback_instrs"] == 0
    assert stats["native_calls"] == 1 and stats["interp_steps"] == 0


def test_stats_and_memory_cache() -> None:
    lib = _lib("200261" "0200" "00" + "1f" * 3)   # distinct library
    jit_runner(lib, Registers(), 0, "reference")
    first = last_stats()
    jit_runner(lib, Registers(), 0, "reference")
    second = last_stats()
    assert first["cache"] in ("compiled", "disk") and second["cache"] == "memory"
    for key in ("compiled_instrs", "fallback_instrs", "compile_ms", "cache", "native_calls",
                "interp_steps", "blocks"):
        assert key in second


# ---- lifting --------------------------------------------------------------------------------

def test_lift_blocks_and_leaders() -> None:
    # 0: add.sw | 3: jif 9 | 6: stinv | 7: jmp 0 | 10: ... jif target 9 is inside jmp 0 ("00" fail)
    code = bytes.fromhex("200261" "030900" "1f" "020000" "01")
    prog = Program(code, b"", (), bytes(32), REFERENCE)
    cfg = lift(prog, (0,), codegen.make_supports(REFERENCE))
    assert sorted(cfg.blocks) == [0, 6, 9]
    assert cfg.blocks[0].ctrl.key == "jif" and [li.key for li in cfg.blocks[0].body] == ["add_a"]
    assert cfg.blocks[9].ctrl.key == "fail"       # decoded from the middle of `jmp 0`
    assert cfg.has_loop


def test_lift_keeps_test_inside_its_block() -> None:
    # add.sw | test | add.sw | test | jmp 0: a test only may stop, so it starts no block
    code = bytes.fromhex("200261" "01" "200261" "01" "020000")
    prog = Program(code, b"", (), bytes(32), REFERENCE)
    cfg = lift(prog, (0,), codegen.make_supports(REFERENCE))
    assert sorted(cfg.blocks) == [0]
    assert [li.key for li in cfg.blocks[0].body] == ["add_a", "test", "add_a", "test"]
    assert cfg.blocks[0].ctrl.key == "jmp" and cfg.n_compiled == 5


def test_lift_splits_at_fallbacks() -> None:
    # add | sha2 (fallback) | add | jmp 0
    code = bytes.fromhex("200261" "8100" "200261" "020000")
    prog = Program(code, b"", (), bytes(32), REFERENCE)
    cfg = lift(prog, (0,), codegen.make_supports(REFERENCE))
    assert cfg.blocks[0].term == "exit" and cfg.blocks[0].target == 3
    assert 5 in cfg.blocks and cfg.n_fallback == 1 and cfg.fallback_keys == {"sha256": 1}


def test_supports_follows_the_profile_op_table() -> None:
    sup = codegen.make_supports(REFERENCE)
    prog = Program(ins("add_a", flags=0, src1=0, src2=1, reg=3) + ins("and", reg=13, src1=0, src2=1, dst=2)
                   + ins("and", reg=12, src1=0, src2=1, dst=2), b"", (), bytes(32), REFERENCE)
    # and on r2048: interpreter; on r1024: compiled
    assert sup(prog.decode_at(0)) and not sup(prog.decode_at(3)) and sup(prog.decode_at(6))
    spec = codegen.make_supports(SPEC)

    def decoded(code: bytes):
        return Program(code, b"", (), bytes(32), SPEC).decode_at(0)
    # stp differs from the reference only where the reference panics: compiled under spec
    assert spec(decoded(b"\x24\x00\x01"))
    # div.sw a1024 differs without a panic (MIN operands): interpreter; div.sw a64 compiles
    assert not spec(decoded(ins("div_a", flags=1, src1=0, src2=1, reg=7)))
    assert spec(decoded(ins("div_a", flags=1, src1=0, src2=1, reg=3)))


# ---- instruction families, table-driven ------------------------------------------------------

def _edge(w: int) -> list[int]:
    m, top = (1 << w) - 1, 1 << (w - 1)
    return [0, 1, 2, 5, top - 1, top, top + 1, m - 1, m, 0x5A5A5A5A5A5A5A5A5A5A5A & m]


def _forms_for(key: str):
    form = isa.BY_KEY[key]
    names = form.args
    if key in ("add_a", "sub_a", "mul_a", "div_a"):
        for reg, flags in itertools.product(range(8), (0, 3)):
            yield dict(flags=flags, src1=0, src2=1, reg=reg)
    elif key in ("gt_a", "lt_a", "eq_a"):
        for reg, flag in itertools.product(range(8), (0, 1)):
            yield dict(flag=flag, idx1=0, idx2=1, reg=reg)
    elif key in ("and", "or", "xor"):
        for reg in range(8):
            yield dict(reg=reg, src1=0, src2=1, dst=2)
    elif key in ("shl", "scl", "scr"):
        for reg, a2 in itertools.product(range(8), (0, 1)):
            yield dict(a2=a2, shift=1, reg=reg, idx=0)
    elif key == "shr_a":
        for reg, a2, sign in itertools.product(range(8), (0, 1), (0, 1)):
            yield dict(a2=a2, shift=1, sign=sign, reg=reg, idx=0)
    elif key in ("cpy_a", "cnv_a", "rem"):
        for r1, r2 in itertools.product(range(8), range(8)):
            yield dict(reg1=r1, idx1=0, reg2=r2, idx2=1)
    elif key == "stp":
        for reg, step in itertools.product(range(8), (-128, -1, 0, 1, 127)):
            yield dict(reg=reg, idx=0, step=step)
    elif key == "st":
        for flag, reg in itertools.product(range(4), range(8)):
            yield dict(flag=flag, reg=reg, idx=0)
    elif set(names) == {"reg", "idx"}:
        for reg in range(8):
            yield dict(reg=reg, idx=0)
    elif set(names) == {"idx1", "idx2", "reg"}:
        for reg, j in itertools.product(range(8), (0, 1)):
            yield dict(idx1=0, idx2=j, reg=reg)
    elif key in ("put_a", "putif_a"):       # no data segment: the value reads as missing
        for reg in range(8):
            yield dict(reg=reg, idx=0, off=0)
    elif not names:
        yield {}
    else:  # pragma: no cover
        raise AssertionError(key)


#: every straight-line key codegen compiles that the reference decodes (on A registers; the
#: R- and F-register keys, spy included, are tests/test_jit_r.py's and tests/test_jit_f.py's)
FAMILY_KEYS = sorted(k for k in codegen.SUPPORTED
                     if k in isa.BY_KEY and not k.endswith(("_r", "_f")) and k != "spy")


@pytest.mark.parametrize("key", FAMILY_KEYS)
def test_instruction_family_matches_interpreter(key: str) -> None:
    """One library per form; many register files through the same compiled code."""
    for fields in _forms_for(key):
        code = ins(key, **fields) + b"\x1f" + ins(key, **fields)   # op; stinv; op
        lib = _lib(code)
        reg = fields.get("reg", fields.get("reg1", 0))
        w = A_BITS[reg]
        w2 = A_BITS[fields.get("reg2", reg)]
        values = _edge(w)
        shifts = [0, 1, 7, 8, 9, 15, 16, 255, 1000, 1017, 1023, 1024, 65535]
        for x, y in itertools.product(values + [None], values[:6] + [None]):
            for st0 in (True, False):
                regs = Registers()
                regs.a[reg][0], regs.a[reg][1] = x, y
                if "reg2" in fields:
                    regs.a[fields["reg2"]][1] = None if y is None else y & ((1 << w2) - 1)
                if "a2" in fields:
                    s = shifts[(values.index(x) if x in values else 3) % len(shifts)]
                    regs.a[fields["a2"]][1] = s & (0xFF if fields["a2"] == 0 else 0xFFFF)
                regs.st0 = st0
                both(lib, regs)


def test_signed_results_are_stored_truncated() -> None:
    # the spec's [run] examples: add.sw a16 -1 + -1 -> 00fe; mul.sw a64 3 x 0x5555.. -> 0xff
    regs = Registers()
    regs.a[1][0], regs.a[1][1] = 0xFFFF, 0xFFFF
    _, out = both(_lib(ins("add_a", flags=3, src1=0, src2=1, reg=1)), regs)
    assert out.a[1][1] == 0x00FE
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 0x5555555555555555
    _, out = both(_lib(ins("mul_a", flags=3, src1=0, src2=1, reg=3)), regs)
    assert out.a[3][1] == 0xFF


@pytest.mark.parametrize("x,y", [(1, 0xFE), (0xF7, 0x05), (0x31, 0xAB), (0x80, 0xFF)])
def test_div_sw_panics_and_overflow(x: int, y: int) -> None:
    regs = Registers()
    regs.a[0][0], regs.a[0][1] = x, y
    state, _ = both(_lib(ins("div_a", flags=3, src1=0, src2=1, reg=0)), regs)
    if (x, y) in ((1, 0xFE), (0x31, 0xAB)):
        assert state["reason"].startswith("panic") and state["st0"] is False


def test_a1024_corner_cases_match() -> None:
    mn, mx = 1 << 1023, (1 << 1023) - 1
    m = (1 << 1024) - 1
    for key in ("add_a", "sub_a", "mul_a", "div_a"):
        lib = _lib(ins(key, flags=3, src1=0, src2=1, reg=7) + b"\x1f")
        for x, y in itertools.product([mn, mx, m, 1, 2, 0, mn + 1], repeat=2):
            regs = Registers()
            regs.a[7][0], regs.a[7][1] = x, y
            both(lib, regs)


# ---- counters -------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_every_limit_inside_a_block(profile: str) -> None:
    body = (ins("add_a", flags=3, src1=0, src2=1, reg=3) + ins("put_a", reg=0, idx=0, off=0)
            + ins("xor", reg=3, src1=0, src2=1, dst=2) + ins("st", flag=2, reg=0, idx=0)
            + b"\x1f" + ins("jmp", pos=0))
    lib = _lib(body, b"\x07")
    for ca0 in (0, 5, U64_MAX - 3):
        for cl in range(0, 40):
            regs = Registers()
            regs.a[3][0], regs.a[3][1] = 3, 5
            regs.ca0, regs.cl0 = ca0, min(ca0 + cl, U64_MAX)
            both(lib, regs, profile)


def test_reserved_opcode_saturates_ca0() -> None:
    for cl0 in (None, 10, U64_MAX):
        regs = Registers()
        regs.cl0 = cl0
        state, _ = both(_lib("1f" "40" "1f"), regs)
        assert state["ca0"] == U64_MAX and state["st0"] is False


@pytest.mark.parametrize("profile", PROFILES)
def test_cy0_limit(profile: str) -> None:
    for cy0 in (0, 65534, 65535):
        regs = Registers()
        regs.cy0 = cy0
        both(_lib("1f" "1f" "030000"), regs, profile)                # stinv; stinv; jif 0
        both(_lib("040000"), regs, profile)                          # routine 0 forever


def test_spec_deep_recursion_exceeds_the_native_window() -> None:
    # routine 0 forever: cp0 climbs past CS_WINDOW (interpreter pushes) up to the jump limit
    regs = Registers()
    regs.cy0 = 65535 - 3 * layout.CS_WINDOW
    state, out = both(_lib("040000"), regs, "spec")
    assert state["cp0"] == 3 * layout.CS_WINDOW and len(out.cs0) == 3 * layout.CS_WINDOW


def test_spec_routine_ret_pairs() -> None:
    # 0: routine 7 | 3: routine 7 | 6: fail | 7: stinv | 8: ret
    state, out = both(_lib("040700" "040700" "00" "1f" "07"), Registers(), "spec")
    assert state["cy0"] == 2 and state["cp0"] == 0 and out.cs0   # stale slot kept, like interp


def test_entry_points_and_end_of_code() -> None:
    lib = _lib("1f" "200261" "1f")
    for entry in (0, 1, 2, 4, 5, 100):
        both(lib, Registers(), "reference", entry)
        both(lib, Registers(), "spec", entry)


def test_nop_and_truncation() -> None:
    for code in ("ff", "1fff", "2002", "0b03"):
        for cl0 in (None, 7):
            regs = Registers()
            regs.cl0 = cl0
            both(_lib(code), regs)
            both(_lib(code), regs, "spec")


def test_out_of_range_api_registers_behave_like_the_interpreter() -> None:
    for code, setup in ((LOOP, lambda r: r.a[3].__setitem__(0, 1 << 70)),   # wider than a64
                        ("1f00", lambda r: setattr(r, "cl0", 1 << 70))):
        lib = _lib(code)
        r1, r2 = Registers(), Registers()
        setup(r1)
        setup(r2)
        o1, o2 = interp_runner(lib, r1, 0, "reference"), jit_runner(lib, r2, 0, "reference")
        assert o1 == o2 and r1.a == r2.a and (r1.st0, r1.cy0, r1.ca0) == (r2.st0, r2.cy0, r2.ca0)


# ---- engine ---------------------------------------------------------------------------------

def test_disk_cache_roundtrip(tmp_path) -> None:
    prev = use_code_cache(CodeCache(JitSettings(eager=True, cache_dir=tmp_path)))
    try:
        _disk_cache_roundtrip(tmp_path)
    finally:
        use_code_cache(prev)


def _disk_cache_roundtrip(tmp_path) -> None:
    lib = _lib("200261" "200261" "020000" "01")
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 3, 5
    engine.clear_memory_cache()
    both(lib, regs)
    assert last_stats()["cache"] == "compiled"
    assert list(tmp_path.glob("*.o"))
    engine.clear_memory_cache()
    both(lib, regs)
    assert last_stats()["cache"] == "disk"
    # a corrupted file is ignored
    for f in tmp_path.glob("*.o"):
        f.write_bytes(f.read_bytes()[:-3] + b"xyz")
    engine.clear_memory_cache()
    both(lib, regs)
    assert last_stats()["cache"] == "compiled"


def test_cache_keys_differ_by_profile_and_roots() -> None:
    lib = _lib(LOOP)
    keys = {engine.cache_key(lib.id, p, r) for p in (REFERENCE, SPEC) for r in ((0,), (0, 3))}
    assert len(keys) == 4


def test_threads_share_compiled_code() -> None:
    lib = _lib(LOOP)
    jit_runner(lib, Registers(), 0, "reference")      # compile first
    results: dict[int, int] = {}

    def work(k: int) -> None:
        regs = Registers()
        regs.a[3][0], regs.a[3][1] = k, k + 1
        regs.cy0 = 60000
        jit_runner(lib, regs, 0, "reference")
        results[k] = regs.a[3][1]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: (k + 1 + k * 5536) & (2**64 - 1) for k in range(6)}


def test_codegen_refuses_registers_outside_the_file() -> None:
    with pytest.raises(IndexError):
        layout.a_offset(8, 0)
    with pytest.raises(IndexError):
        layout.def_offset(0, 32)
    assert layout.A_OFF[7] + 32 * 128 == layout.A_TOTAL


def test_compiled_code_needs_only_known_symbols() -> None:
    prog = Program(ins("div_a", flags=3, src1=0, src2=1, reg=4) + ins("div_a", flags=0, src1=0, src2=1, reg=4),
                   b"", (), bytes(32), REFERENCE)
    cfg = lift(prog, (0,), codegen.make_supports(REFERENCE))
    ir, _ = codegen.generate(cfg, prog, "probe")
    obj = engine.compile_ir(ir, 0)
    from aluvm.jit import runtime
    assert engine.undefined_symbols(obj) <= set(runtime.symbols()) | set(engine.RESOLVED)


# ---- multi-library programs and host extensions ----------------------------------------------

def _machines(profile, libs):
    from aluvm.machine.interp import Machine
    from aluvm.jit.engine import JitMachine
    out = []
    for cls in (Machine, JitMachine):
        m = cls(profile)
        for lib in libs:
            m.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
        out.append(m)
    return out


@pytest.mark.parametrize("profile", [REFERENCE, SPEC])
def test_jit_machine_runs_multi_library_programs(profile) -> None:
    # callee: 0: stinv; 1: add.sw loop body; 4: jif 1; 7: ret | caller: call 1 @ callee; stinv; jmp 0
    callee = _lib("1f" "200261" "030100" "07")
    caller = Lib.with_(DEFAULT_ISAE, bytes.fromhex("05010000" "1f" "020000"), b"", [callee.id])
    for cy0 in (0, 65000):
        states = []
        for m in _machines(profile, [caller, callee]):
            regs = Registers()
            regs.a[3][0], regs.a[3][1] = 3, 5
            regs.cy0 = cy0
            out = m.run(caller.id, 0, regs)
            states.append((state_dict(regs, out, caller), dict(regs.cs0)))
        assert states[0] == states[1]


def test_jit_machine_with_a_host_extension() -> None:
    from aluvm.host.extensions import ExtOp, Extension, extend

    def popcnt(regs, host, reg, idx, dst):
        x = regs.a[reg][idx]
        regs.a[0][dst] = None if x is None else bin(x).count("1")

    prof = extend(REFERENCE, Extension("POPCNT", (ExtOp(0x90, "popcnt", "reg:3 idx:5 dst:8", 1, popcnt),)))
    # add.sw a64; popcnt a64[1] -> a8[2]; jmp 0
    for isae in ("ALU POPCNT", "ALU"):
        lib = Lib.with_(isae, bytes.fromhex("200261" "902302" "020000"))
        states = []
        for m in _machines(prof, [lib]):
            regs = Registers()
            regs.a[3][0], regs.a[3][1] = 3, 5
            regs.cy0 = 65000
            out = m.run(lib.id, 0, regs)
            states.append(state_dict(regs, out, lib))
        assert states[0] == states[1]


def test_a_failing_compile_falls_back_to_the_interpreter(monkeypatch) -> None:
    def boom(*a, **k):
        raise RuntimeError("injected")
    monkeypatch.setattr(engine, "compile_ir", boom)
    monkeypatch.setattr(engine, "STRICT", False)    # outside the tests' strict mode
    lib = _lib("200261" "1f" "020000" "0000")       # a library nobody compiled yet
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 2
    r1, r2 = regs.copy(), regs.copy()
    o1 = interp_runner(lib, r1, 0, "reference")
    o2 = jit_runner(lib, r2, 0, "reference")
    assert state_dict(r1, o1, lib) == state_dict(r2, o2, lib)
    assert "injected" in last_stats()["compile_error"]
    engine.clear_memory_cache()


def test_a_failing_compile_is_fatal_under_strict_and_a_codegen_bug_always(monkeypatch) -> None:
    def llvm_fails(*a, **k):
        raise RuntimeError("injected")

    def codegen_bug(*a, **k):
        raise KeyError("bug")
    monkeypatch.setattr(engine, "compile_ir", llvm_fails)
    with pytest.raises(RuntimeError):
        jit_runner(_lib("200261" "1f" "020000" "000000"), Registers(), 0, "reference")
    monkeypatch.setattr(engine, "STRICT", False)
    monkeypatch.setattr(engine, "compile_ir", codegen_bug)
    with pytest.raises(KeyError):
        jit_runner(_lib("200261" "1f" "020000" "00000000"), Registers(), 0, "reference")
    engine.clear_memory_cache()


def test_entries_whose_native_runs_end_at_once_go_cold() -> None:
    # 0: ifz r2048[0] (interpreted) | 2: jif 8 | 5: jmp 0 | 8: stinv | 9: jmp 2
    # statically 2 -> 8 -> 2 is a native loop (hot), but st0 is always false at 2: every native
    # run is `jif` + `jmp 0`, then the interpreter again - the engine stops re-entering at 2
    lib = _lib("1b05" "030800" "020000" "1f" "020200")
    regs = Registers()
    regs.cy0 = 60000
    both(lib, regs)
    stats = last_stats()
    assert stats["native_calls"] <= engine.COLD_AFTER + 2 and stats["interp_steps"] > 10000


def test_default_tiering_leaves_tiny_loop_free_libraries_to_the_interpreter(tmp_path) -> None:
    prev = use_code_cache(CodeCache(JitSettings(eager=False, cache_dir=tmp_path)))
    try:
        _tiering_leaves_tiny_libraries()
    finally:
        use_code_cache(prev)


def _tiering_leaves_tiny_libraries() -> None:
    tiny = _lib("0b030000" "200261" "1a03" "01" "1f1f", bytes(8))     # no loop, few instructions
    loop = _lib("0b030000" "200261" "030300" "01", bytes(8))          # jif back: a loop
    for lib, tier in ((tiny, "interpreter"), (loop, "native")):
        regs = Registers()
        regs.a[3][0], regs.a[3][1] = 1, 2
        both(lib, regs)
        assert last_stats()["tier"] == tier
