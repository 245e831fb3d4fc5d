"""Diagnostics: what the JIT made of a library, as IR, optimised IR or assembly."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.interp import REFERENCE, Program
from aluvm.machine.registers import Registers
from aluvm.jit import engine
from aluvm.jit.cache import CodeCache, use_code_cache
from aluvm.jit.settings import JitSettings, parse_dump

from conftest import ROOT

LOOP = "200261020000"       # add.sw a64[0],a64[1]; jmp 0


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, env={**os.environ, **(env or {})})


def test_emit_kinds() -> None:
    prog = Program(bytes.fromhex(LOOP), b"", (), bytes(32), REFERENCE)
    ir = engine.emit(prog, "llvm")
    assert "define i32 @aluvm_" in ir and "add i64" in ir and "alloca" in ir
    opt = engine.emit(prog, "opt")
    assert "phi i64" in opt and "alloca" not in opt          # registers became SSA values
    asm = engine.emit(prog, "asm")
    assert "aluvm_" in asm and ("ret" in asm or "jmp" in asm)
    with pytest.raises(ValueError):
        engine.emit(prog, "bogus")


def test_cli_emit_and_bad_dump_switch() -> None:
    r = _cli("jit", "--code", LOOP, "--emit", "opt")
    assert r.returncode == 0 and "phi i64" in r.stdout, r.stderr
    r = _cli("jit", "--code", LOOP, "--reg", "a64[0]=3", env={"ALUVM_JIT_DUMP": "nonsense"})
    assert r.returncode == 2 and "ALUVM_JIT_DUMP" in r.stderr and "Traceback" not in r.stderr


def test_dump_switch_prints_while_compiling(tmp_path, capsys) -> None:
    assert parse_dump(" IR, asm ") == {"ir", "asm"}
    prev = use_code_cache(CodeCache(JitSettings(eager=True, cache_dir=tmp_path,
                                                dump=frozenset({"ir", "opt", "asm"}))))
    try:
        lib = Lib.with_(DEFAULT_ISAE, bytes.fromhex("200261" "200261" "020000"), b"")
        regs = Registers()
        regs.a[3][0], regs.a[3][1] = 1, 2
        engine.jit_runner(lib, regs, 0, "reference")
    finally:
        use_code_cache(prev)
    err = capsys.readouterr().err
    assert "LLVM IR of" in err and "optimised IR" in err and "assembly" in err
    assert lib.id.hex() in err
    assert regs.a[3][1] == 2 + 2 * 65536     # and it still ran


def test_dump_to_a_stream() -> None:
    out = io.StringIO()
    prog = Program(bytes.fromhex(LOOP), b"", (), bytes(32), REFERENCE)
    engine.dump(engine.emit(prog, "llvm"), 2, {"opt"}, "probe", out)
    assert "optimised IR (level 2) of probe" in out.getvalue()
