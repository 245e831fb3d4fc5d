"""The command line: results, JSON output, and one-line errors for bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT


def aluvm(*args: str, stdin: str | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_run_code_json() -> None:
    r = aluvm("run", "--code", "0b0300000b0b0800200061", "--data",
              "05000000000000000700000000000000", "--json")
    assert r.returncode == 0, r.stderr
    state = json.loads(r.stdout)
    assert state["regs"]["a64[1]"] == "000000000000000c" and state["ca0"] == 5


def test_run_with_registers_and_limit() -> None:
    r = aluvm("run", "--code", "200261020000", "--reg", "a64[0]=3", "--reg", "a64[1]=0x05",
              "--cl0", "10", "--json")
    state = json.loads(r.stdout)
    assert state["st0"] is False and state["ca0"] == 10 and state["cl0"] == 10


@pytest.mark.parametrize("args", [
    ("run", "--code", "zz"),
    ("run", "/nonexistent/aluvm-no-such.alu"),
    ("run", "--code", "00", "--reg", "a64[0]"),
    ("run", "--code", "00", "--reg", "a64[40]=1"),
    ("run", "--code", "00", "--reg", "a8[0]=300"),
    ("frobnicate",),
    (),
    ("run", "--code", "00", "--cl0", "many"),
    ("conform", "/nonexistent/aluvm-no-such-dir"),
    ("run", "--code", "01", "--entry", "70000"),
    ("run", "--code", "01", "--cl0", "-5"),
    ("run", "--code", "01", "--profile", "fast"),
])
def test_bad_arguments_are_one_line_errors(args: tuple[str, ...]) -> None:
    r = aluvm(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr


def test_garbage_library_file(tmp_path) -> None:
    bad = tmp_path / "bad.alu"
    bad.write_bytes(b"\x07garbage\xff\xff\x00")
    r = aluvm("run", str(bad))
    assert r.returncode == 2 and r.stderr.startswith("aluvm: error:") and "Traceback" not in r.stderr


def test_exec_answers_every_line_in_order() -> None:
    lines = [
        json.dumps({"op": "run", "code": "020000"}),
        "not json",
        json.dumps({"op": "run", "code": "0x"}),
        json.dumps({"op": "teleport"}),
        json.dumps({"op": "info", "code": "", "data": ""}),
        json.dumps({"op": "run", "code": "01", "regs": {"a8[0]": "0102"}}),
    ]
    r = aluvm("exec", "-", stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["cy0"] == 65535 and out[0]["st0"] is False
    assert [o["ok"] for o in out[1:5]] == [False, False, False, True]
    assert out[4]["lib_id"] == "1b55133e316398679ef78008bee77bdde65067c1c2ee8b4f6fa125d28e2d0315"
    assert out[5]["ok"] is False and "a8[0]" in out[5]["error"]


def test_exec_garbage_never_crashes() -> None:
    junk = ["[]", "{}", '{"op": "run", "regs": []}', '{"op": "run", "cy0": 70000}',
            '{"op": "run", "code": "ff", "cl0": -1}', '{"op": "disasm", "code": 5}',
            '{"op": "run", "regs": {"q1[0]": "00"}}']
    r = aluvm("exec", stdin="\n".join(junk) + "\n")
    assert r.returncode == 0
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == len(junk)
    assert all(o["ok"] is False for o in out[2:])


def test_conform_reports_per_family() -> None:
    r = aluvm("conform", str(ROOT / "tests" / "vectors" / "ctrl.jsonl.gz"), "--json")
    assert r.returncode == 0, r.stdout[-2000:]
    s = json.loads(r.stdout)
    assert s["families"]["ctrl"]["failed"] == 0 and s["families"]["ctrl"]["passed"] > 50


def test_info_and_disasm_of_code() -> None:
    r = aluvm("info", "--code", "", "--json")
    assert json.loads(r.stdout)["id"].startswith("alu:G1UTPjFj-mGee94A")


def test_conform_in_parallel_matches_serial() -> None:
    vectors = str(ROOT / "tests" / "vectors")
    serial = json.loads(aluvm("conform", vectors, "--json", timeout=300).stdout)
    parallel = json.loads(aluvm("conform", vectors, "--json", "-j", "2", timeout=300).stdout)
    assert serial["ok"] and serial == parallel
    assert len(serial["families"]) >= 16
