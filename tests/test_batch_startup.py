"""What ``aluvm batch`` loads: a kernel whose plan and object code are in the disk cache runs
without the interpreter (instruction table, float semantics, gmpy2) and without the code
generator; the public API still offers every name (imported on first use)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

V20 = "18016101180062012000630119012101201023011819240118004101191143012803211a23012a0321"
V20_LINE = ('{"regs":{"a16[0]":"0001","a16[1]":"0001","a16[2]":"0001","a16[3]":"0001",'
            '"a16[4]":"0004","a32[0]":"00000004","a32[1]":"00000000","a32[2]":"00000002",'
            '"a32[3]":"00000002","a64[0]":"0000000000000002","a64[1]":"0000000000000005",'
            '"a64[2]":"0000000000000000","a64[3]":"0000000000000002",'
            '"a64[4]":"0000000000000001"}}')
#: loaded only when a plan is made or an input leaves native code
HEAVY = ("aluvm.machine.interp", "aluvm.isa.table", "aluvm.semantics.floats", "gmpy2",
         "aluvm.jit.codegen", "aluvm.jit.lift")

#: runs ``aluvm batch`` in this process, then prints the heavy modules it loaded
_PROBE = """
import json, sys
from aluvm.tools.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": [m for m in %r if m in sys.modules]}),
      file=sys.stderr)
""" % (HEAVY,)


def probe(tmp_path: Path, *args: str) -> tuple[dict, str]:
    env = {**__import__("os").environ, "ALUVM_JIT_CACHE": str(tmp_path / "cache")}
    p = subprocess.run([sys.executable, "-c", _PROBE, "batch", *args], capture_output=True,
                       text=True, cwd=ROOT, env=env, timeout=120)
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report, p.stdout


def test_cached_kernel_runs_without_interpreter(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(V20_LINE + "\n" + V20_LINE.replace('"0004"', '"0006"') + "\n")
    first, out1 = probe(tmp_path, "--code", V20, str(src))      # compiles: plan + kernel
    assert first["code"] == 0
    assert "aluvm.jit.codegen" in first["loaded"] and "aluvm.machine.interp" in first["loaded"]
    again, out2 = probe(tmp_path, "--code", V20, str(src), "--threads", "2")
    assert again == {"code": 0, "loaded": []}
    assert out2 == out1 and len(out1.splitlines()) == 2
    # the same inputs in the interpreter tier: same lines
    interp, out3 = probe(tmp_path, "--code", V20, str(src), "--tier", "interp")
    assert interp["code"] == 0 and "aluvm.machine.interp" in interp["loaded"]
    assert out3 == out1


def test_fallback_still_loads_interpreter(tmp_path: Path) -> None:
    """Inputs that leave native code (sha2 over an S register) are finished by the fallback,
    which loads the interpreter - from a cached kernel too - with the interpreter's results."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"regs":{"s16[0]":"416c75564d20636f6d6d69746d656e74"}}\n'
                   '{"regs":{"s16[0]":"00"}}\n')
    args = [str(ROOT / "examples" / "sha256_commitment.aluasm"), str(src)]
    first, out1 = probe(tmp_path, *args)
    again, out2 = probe(tmp_path, *args)
    assert first["code"] == again["code"] == 0
    assert "aluvm.machine.interp" in again["loaded"]
    assert out2 == out1 and [json.loads(x)["st0"] for x in out1.splitlines()] == [True, False]
    interp, out3 = probe(tmp_path, *args, "--tier", "interp")
    assert out3 == out1


def test_public_api_lazy_names() -> None:
    code = """
import sys
import aluvm
assert "aluvm.machine.interp" not in sys.modules and "gmpy2" not in sys.modules
assert "numpy" not in sys.modules
names = set(dir(aluvm))
assert {"Registers", "Machine", "PROFILES", "Batch", "load_file"} <= names
from aluvm import Lib, Registers, run, Machine, Outcome, Profile, PROFILES, REFERENCE, SPEC
from aluvm import get_profile, load_file, save_file, Batch, BatchResult
from aluvm.machine import interp
assert Machine is interp.Machine and REFERENCE is interp.PROFILES["reference"]
regs = Registers()
regs.a[3][0] = 3
out = run(Lib.with_("ALU BPDIGEST ED25519 SECP256K", bytes.fromhex("200261020000")), regs)
print(out.st0, regs.a[3][0])
try:
    aluvm.no_such_name
except AttributeError as e:
    print("AttributeError", e)
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == \
        "AttributeError module 'aluvm' has no attribute 'no_such_name'"


def test_builtin_profile_names() -> None:
    """What :data:`BUILTIN_PROFILES` promises: the profiles known by name, each with every
    feature and no host extension (the ISAE and kernel keys of a name rely on it)."""
    from aluvm.errors import InputError
    from aluvm.jit.cache import _extensions_digest
    from aluvm.machine.features import ALL_FEATURES, BUILTIN_PROFILES, default_isae
    from aluvm.machine.interp import PROFILES, get_profile
    assert set(PROFILES) == BUILTIN_PROFILES
    for name in BUILTIN_PROFILES:
        prof = get_profile(name)
        assert prof.features == ALL_FEATURES and not prof.extensions
        assert _extensions_digest(prof) == "-"
        assert default_isae(name) == default_isae(prof) == "ALU BPDIGEST ED25519 SECP256K"
    with pytest.raises(InputError, match="unknown profile"):
        default_isae("nope")
    from aluvm import Batch, Lib
    with pytest.raises(InputError, match="unknown profile"):
        Batch(Lib.with_("ALU", b"\x00"), profile="nope")
    assert Batch(Lib.with_("ALU", b"\x00"), profile="spec").profile is PROFILES["spec"]


def test_output_opened_beside_startup(tmp_path: Path) -> None:
    """The output file opens on a thread while the pipeline loads: its errors are still one
    line (exit 2); a bad input never creates it; an output that is the input is truncated
    before the input is read (as before the input was memory-mapped: no crash, no inputs)."""
    src = tmp_path / "in.jsonl"
    src.write_text(V20_LINE + "\n")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code", V20,
                               *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    p = cli(str(src), "--out", str(tmp_path))
    assert p.returncode == 2 and p.stderr.startswith("aluvm: error: [Errno 21] Is a directory")
    assert len(p.stderr.splitlines()) == 1
    p = cli(str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl"))
    assert p.returncode == 2 and "no such file" in p.stderr
    assert not (tmp_path / "o.jsonl").exists()
    p = cli(str(src), "--out", str(src))
    assert p.returncode == 0 and "aluvm batch: 0 inputs" in p.stderr
    assert src.read_bytes() == b""
    src.write_text(V20_LINE + "\n")
    p = cli(str(src), "--out", str(tmp_path / "o.jsonl"))
    assert p.returncode == 0 and json.loads((tmp_path / "o.jsonl").read_text())["st0"] is False


def test_existing_output_replaced_like_truncated(tmp_path: Path) -> None:
    """An existing output file of ours is replaced by a new one (same permission bits), not
    truncated; symlinks, hard-linked files and special files are written through as before."""
    import os
    import stat
    src = tmp_path / "in.jsonl"
    src.write_text(V20_LINE + "\n")

    def cli(out: Path) -> str:
        p = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "batch", "--code", V20,
                            str(src), "--out", str(out)], capture_output=True, text=True,
                           cwd=ROOT, timeout=120)
        assert p.returncode == 0, p.stderr
        return out.read_text()
    fresh = tmp_path / "fresh.jsonl"
    want = cli(fresh)
    assert json.loads(want)["st0"] is False
    old = tmp_path / "old.jsonl"
    old.write_text("x" * 5000 + "\n")
    old.chmod(0o640)
    with open(old) as before:           # (a reader of the old file keeps the old file)
        assert cli(old) == want
        assert before.read() == "x" * 5000 + "\n"
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    target = tmp_path / "target.jsonl"
    target.write_text("y" * 5000)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert cli(link) == want and link.is_symlink() and target.read_text() == want
    hard = tmp_path / "hard.jsonl"
    os.link(target, hard)
    target.write_text("z" * 5000)
    assert cli(hard) == want and target.read_text() == want      # (the same file)
    assert cli(Path(os.devnull)) == ""
