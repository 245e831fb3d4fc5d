"""Robustness contract: four honest outcomes, validated register files, bounded inputs, and the
CLI's one-line errors / exit codes / quiet broken pipes (issue 13; issue 8 point 4)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import aluvm
from aluvm import Lib, Registers, RegisterError
from aluvm.host.extensions import ExtOp, Extension, extend
from aluvm.machine import interp
from aluvm.machine.interp import REFERENCE, SPEC, Machine
from aluvm.machine.registers import LibSite
from aluvm.tools import service

from conftest import ROOT


def aluvm_cli(*args: str, stdin: bytes | None = None, timeout: int = 120
              ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aluvm.tools.cli", *args], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=timeout)


# ---- four outcomes ------------------------------------------------------------------------

def _boom(regs, *args):
    raise KeyError("bug")


@pytest.fixture
def lenient(monkeypatch):
    """Outside tests an unexpected exception becomes the ``internal`` outcome."""
    monkeypatch.setattr(interp, "STRICT", False)
    monkeypatch.setattr(service, "STRICT", False)


def test_internal_error_is_its_own_outcome(lenient) -> None:
    lib = Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("200261020000"))
    ops = dict(REFERENCE.ops)
    ops["add_a"] = _boom
    from dataclasses import replace
    prof = replace(REFERENCE, name="buggy", ops=ops)
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 2
    out = aluvm.run(lib, regs, profile=prof)
    assert out.kind == "internal" and out.internal and not out.panicked
    assert out.reason.startswith("internal error: KeyError") and regs.st0 is False
    state = service.state_dict(regs, out, lib)
    assert "internal_error" in state and "panic" not in state and "aborted" not in state


def test_internal_error_raises_under_strict() -> None:
    lib = Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("200261020000"))
    ops = dict(REFERENCE.ops)
    ops["add_a"] = _boom
    from dataclasses import replace
    prof = replace(REFERENCE, name="buggy", ops=ops)
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 1, 2
    with pytest.raises(KeyError):
        aluvm.run(lib, regs, profile=prof)


def test_reference_panic_and_hang_stay_reference_outcomes() -> None:
    regs = Registers()   # nop never advances in the reference: a hang
    out = aluvm.run(Lib.with_(aluvm.DEFAULT_ISAE, b"\xff"), regs)
    assert out.kind == "hang" and out.panicked and out.hang and not out.internal
    out = aluvm.run(Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("3dd4ff")), Registers())
    assert out.kind == "panic" and out.panicked and not out.hang and not out.internal


def _raising(regs, host, reg, idx, dst):
    raise ZeroDivisionError("host bug")


RAISER = Extension("HOSTX", (ExtOp(0x90, "hx", "reg:3 idx:5 dst:8", 1, _raising),))


@pytest.mark.parametrize("tier", ["interp", "jit"])
@pytest.mark.parametrize("base", [REFERENCE, SPEC])
def test_host_extension_error_is_its_own_outcome(tier, base, jit_eager) -> None:
    prof = extend(base, RAISER)
    lib = Lib.with_("ALU HOSTX", bytes([0x90, 0x03, 0x02]))
    out = aluvm.run(lib, Registers(), profile=prof, tier=tier)
    assert out.kind == "host" and out.host_error and not out.panicked and not out.internal
    assert "_raising: ZeroDivisionError: host bug" in out.reason
    state = service.state_dict(Registers(), out, lib)
    assert "host_error" in state and "panic" not in state


def test_service_internal_error_is_not_a_bad_request(lenient, monkeypatch) -> None:
    def broken(req, profile, runner):
        raise TypeError("oops")
    monkeypatch.setattr(service, "do_run", broken)
    out = service.handle({"op": "run"})
    assert out["ok"] is False and "internal_error" in out and "error" not in out


# ---- registers handed to a run -----------------------------------------------------------

LIB = Lib.with_(aluvm.DEFAULT_ISAE, bytes.fromhex("200261020000"))


@pytest.mark.parametrize("poke", [
    lambda r: r.a[3].__setitem__(0, -1),
    lambda r: r.a[3].__setitem__(0, 2**64),
    lambda r: r.a[3].__setitem__(0, 1.5),
    lambda r: r.a[3].__setitem__(0, "5"),
    lambda r: r.a[0].__setitem__(0, True),
    lambda r: r.r[0].__setitem__(1, 2**128),
    lambda r: r.f[2].__setitem__(1, 2**32),
    lambda r: r.s.__setitem__(0, "text"),
    lambda r: r.s.__setitem__(1, bytes(0x10000)),
    lambda r: setattr(r, "cp0", 2**32),
    lambda r: setattr(r, "cy0", 70000),
    lambda r: setattr(r, "ca0", -1),
    lambda r: setattr(r, "cl0", 2**64),
    lambda r: setattr(r, "st0", 1),
    lambda r: r.cs0.__setitem__(0, LibSite(bytes(32), 65536)),
    lambda r: r.cs0.__setitem__(70000, LibSite(bytes(32), 0)),
    lambda r: r.a.append([None] * 32),
])
@pytest.mark.parametrize("tier", ["interp", "jit"])
def test_bad_register_values_are_rejected_before_running(poke, tier) -> None:
    regs = Registers()
    poke(regs)
    with pytest.raises(RegisterError):
        aluvm.run(LIB, regs, tier=tier)
    with pytest.raises(RegisterError):
        Machine(REFERENCE).run(LIB.id, 0, regs)


@pytest.mark.parametrize("entry", [-1, 70000, "0", 1.0, None])
def test_bad_entry_is_rejected(entry) -> None:
    with pytest.raises(RegisterError):
        aluvm.run(LIB, Registers(), entry=entry)


def test_valid_extreme_registers_run() -> None:
    regs = Registers()
    regs.a[7][31] = 2**1024 - 1
    regs.r[7][0] = 2**8192 - 1
    regs.s[15] = bytes(0xFFFF)
    regs.cp0, regs.cy0, regs.ca0, regs.cl0 = 0xFFFF, 0xFFFF, 2**64 - 1, 2**64 - 1
    regs.cs0[0xFFFF] = LibSite(bytes(32), 0xFFFF)
    aluvm.run(LIB, regs)


# ---- service input ----------------------------------------------------------------------

@pytest.mark.parametrize("req", [
    {"op": "run", "ca0": None}, {"op": "run", "cy0": None}, {"op": "run", "st0": None},
    {"op": "run", "isae": 5}, {"op": "run", "isae": ""}, {"op": "run", "entry": "0"},
    {"op": "run", "entry": -1}, {"op": "run", "entry": 70000}, {"op": "run", "regs": {"a8[0]": "zz"}},
])
def test_malformed_request_fields_are_request_errors(req) -> None:
    out = service.handle(req)
    assert out["ok"] is False and "error" in out and "internal_error" not in out


@pytest.mark.parametrize("line", [
    b"[" * 5000, b"{\"a\":" * 3000, b"\xff\xfe", b"[" * 17 + b"]" * 17, b"not json",
    b"\"" + b"a" * 10,
])
def test_bad_lines_are_request_errors(line) -> None:
    with pytest.raises(service.RequestError):
        service.parse_line(line)


def test_json_lines_bounds_long_lines(monkeypatch) -> None:
    import io
    from aluvm import limits
    monkeypatch.setattr(limits, "REQUEST_LINE_MAX", 100)
    stream = io.BytesIO(b'{"op":"run"}\n' + b"x" * 1000 + b"\n\n" + b'{"op":"info"}\n')
    got = list(service.json_lines(stream))
    assert got[0] == {"op": "run"} and isinstance(got[1], service.RequestError)
    assert got[2] == {"op": "info"} and len(got) == 3


# ---- CLI contract -----------------------------------------------------------------------

def test_exec_survives_every_bad_line_and_answers_in_order(tmp_path) -> None:
    lines = [b'{"op":"run","code":"00"}', b"[" * 3000, b"\xff\xfe not utf-8",
             b'{"op":"run","ca0":null}', b'{"op":"run","cy0":null}', b'{"op":"info"}']
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    for args, stdin in ((("exec", str(f)), None), (("exec", "-"), f.read_bytes())):
        r = aluvm_cli(*args, stdin=stdin)
        assert r.returncode == 0, r.stderr
        out = [json.loads(x) for x in r.stdout.splitlines()]
        assert [o["ok"] for o in out] == [True, False, False, False, False, True]
        assert all("error" in o for o in out[1:5])


def test_broken_pipe_ends_quietly(tmp_path) -> None:
    src = tmp_path / "many.aluasm"
    src.write_text("\n".join(["nop"] * 20000) + "\n")
    r = subprocess.run(f"{sys.executable} -m aluvm.tools.cli disasm {src} --raw | head -1",
                       shell=True, capture_output=True, cwd=ROOT, timeout=120,
                       executable="/bin/bash")
    assert r.stderr == b"", r.stderr
    r = subprocess.run(f"{sys.executable} -m aluvm.tools.cli disasm {src} --raw | head -1; "
                       "exit ${PIPESTATUS[0]}", shell=True, capture_output=True, cwd=ROOT,
                       timeout=120, executable="/bin/bash")
    assert r.returncode == 0 and r.stderr == b""


def test_asm_never_overwrites_its_source(tmp_path) -> None:
    src = tmp_path / "self.alu"
    text = (ROOT / "examples" / "counter.aluasm").read_bytes()
    src.write_bytes(text)
    r = aluvm_cli("asm", str(src))
    assert r.returncode == 2 and b"overwrite" in r.stderr and src.read_bytes() == text
    r = aluvm_cli("asm", str(src), "-o", str(src))
    assert r.returncode == 2 and src.read_bytes() == text


def test_dash_is_stdin_and_stdout() -> None:
    text = (ROOT / "examples" / "counter.aluasm").read_bytes()
    binary = aluvm_cli("asm", "-", "-o", "-", stdin=text)
    assert binary.returncode == 0 and Lib.deserialize(binary.stdout)
    ran_bin = aluvm_cli("run", "-", "--json", stdin=binary.stdout)
    ran_src = aluvm_cli("run", "-", "--json", stdin=text)
    ran_file = aluvm_cli("run", "examples/counter.aluasm", "--json")
    assert ran_bin.returncode == ran_src.returncode == 0
    assert json.loads(ran_bin.stdout) == json.loads(ran_src.stdout) == json.loads(ran_file.stdout)


def test_version() -> None:
    r = aluvm_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith(b"aluvm ") and b"v0.11.0-beta.6" in r.stdout


def test_conform_on_nothing_fails(tmp_path) -> None:
    r = aluvm_cli("conform", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1


def test_reg_float_literal_means_what_put_means() -> None:
    value = aluvm_cli("run", "--code", "00", "--reg", "f32[1]=1", "--json")
    bits = aluvm_cli("run", "--code", "00", "--reg", "f32[1]=0x00000001", "--json")
    assert json.loads(value.stdout)["regs"]["f32[1]"] == "3f800000"
    assert json.loads(bits.stdout)["regs"]["f32[1]"] == "00000001"
    bad = aluvm_cli("run", "--code", "00", "--reg", "f32[1]=one")
    assert bad.returncode == 2 and bad.stderr.count(b"\n") == 1


def test_oversized_library_file_is_rejected_unread(tmp_path) -> None:
    big = tmp_path / "big.alu"
    big.write_bytes(b"\x00" * (2 << 20))
    r = aluvm_cli("info", str(big))
    assert r.returncode == 2 and b"larger than" in r.stderr


def test_jit_compile_budget_leaves_huge_libraries_to_the_interpreter(monkeypatch, jit_eager) -> None:
    from aluvm import limits
    from aluvm.jit import engine
    monkeypatch.setattr(limits, "JIT_COMPILE_MAX_INSTRS", 3)
    code = bytes.fromhex("200261" * 5 + "020000")   # 5 adds and a loop back: 6 compilable
    lib = Lib.with_(aluvm.DEFAULT_ISAE, code)
    regs, again = Registers(), Registers()
    for r in (regs, again):
        r.a[3][0], r.a[3][1] = 1, 2
    out = aluvm.run(lib, regs, tier="jit")
    stats = engine.last_stats()
    assert stats["over_budget"] == 6 and stats["native_calls"] == 0
    assert service.state_dict(regs, out, lib) == service.state_dict(again, aluvm.run(lib, again), lib)
    engine.clear_memory_cache()


def test_jit_compile_cost_budget_counts_wide_registers(monkeypatch, jit_eager) -> None:
    from aluvm import limits
    from aluvm.jit import codegen, engine
    from aluvm.jit.lift import lift
    from aluvm.machine.interp import REFERENCE, Program

    def cost(code: bytes) -> int:
        prog = Program(code, b"", (), bytes(32), REFERENCE)
        gen = codegen.LibraryFunction(lift(prog, (0,), codegen.make_supports(REFERENCE)),
                                      prog, "f", True)
        gen.generate()
        return gen.cost

    from aluvm.isa import table as isa
    from aluvm.isa.codec import encode
    # add.uc a64[0],a64[1] vs the same on a1024: one IR shape, but 20 x 3 accesses of 16 words
    narrow, wide = (encode(isa.BY_KEY["add_a"], [0, 0, 1, reg]) * 20 + b"\x01" for reg in (3, 7))
    assert cost(wide) - cost(narrow) >= 4 * 20 * 3 * 15
    monkeypatch.setattr(limits, "JIT_COMPILE_MAX_COST", cost(wide) - 1)
    lib = Lib.with_(aluvm.DEFAULT_ISAE, wide)
    regs, again = Registers(), Registers()
    for r in (regs, again):
        r.a[7][0], r.a[7][1] = 1, 2
    out = aluvm.run(lib, regs, tier="jit")
    stats = engine.last_stats()
    assert stats["over_budget"] == 21 and stats["native_calls"] == 0
    assert service.state_dict(regs, out, lib) == service.state_dict(again, aluvm.run(lib, again), lib)
    engine.clear_memory_cache()


# ---- spec call stack at the end of the code segment ------------------------------------------

def _both_tiers(code: bytes, entry: int, profile: str) -> dict:
    from aluvm.jit.engine import jit_runner
    req = {"op": "run", "code": code.hex(), "entry": entry}
    a = service.handle(req, profile, service.interp_runner)
    b = service.handle(req, profile, jit_runner)
    assert a == b
    return a


@pytest.mark.parametrize("code,entry", [
    # routine 0x0000 as the last 3 bytes (return address 0x10000), ret at 0
    (b"\x07" + bytes(65534 - 2) + b"\x04", 65533),
    (bytes.fromhex("03fdff00001f07") + bytes(65535 - 9) + b"\x04\x05", 0),
    (b"\x07" + bytes(65535 - 4) + b"\x04\x00\x00", 65532),   # return address 0xFFFF: fits
    (b"\x07" + bytes(65535 - 5) + b"\x04\x00\x00\x00", 65531),
    (b"\x07" + bytes(65535 - 5) + b"\x05\x00\x00\x00", 65531),   # call: 4 bytes
])
def test_spec_calls_at_the_end_of_code_agree_and_stay_u16(code, entry, jit_eager) -> None:
    out = _both_tiers(code, entry, "spec")
    assert all(0 <= site["pos"] <= 0xFFFF for site in out["cs0"])
    if entry + 3 + (code[entry] == 5) > 0xFFFF:
        assert out["st0"] is False and out["reason"] == "failed"


# ---- batch input lines (found by the batch-lines fuzz target) -------------------------------

def _batch_lines(data: bytes, lines: int) -> list[bytes]:
    import io
    from aluvm.tools.batch import Batch
    from aluvm.tools.jsonl import chunks
    from aluvm.tools.pipeline import run_stream
    out = io.BytesIO()
    run_stream(Batch(LIB, tier="interp", threads=1), chunks(io.BytesIO(data), lines), out, 1)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("line,error", [
    (b'{"regs": {"a8[0]": "0\xc0"}}', b"not UTF-8"),
    (b'{"id": "\xf1x", "regs": {}}', b"not UTF-8"),
    (b'{"regs": {"f80[0]": "zz"}}', b"must be a hex string"),
    (b'{"regs": {"a64[0]": "0g"}}', b"must be a hex string"),
    (b'{"regs": {"a64[0]": "00"}}', b"expected 8 bytes, got 1"),
])
def test_batch_line_errors_do_not_depend_on_chunking(line: bytes, error: bytes) -> None:
    data = b'{"regs": {}}\n' + line + b'\n{"regs": {"a8[0]": "05"}}\n'
    whole, single = _batch_lines(data, 1024), _batch_lines(data, 1)
    assert whole == single and len(whole) == 3
    assert error in whole[1] and b"error" in whole[1] and b"error" not in whole[2]


def test_batch_line_over_the_size_limit_is_an_error_line(monkeypatch) -> None:
    from aluvm import limits
    monkeypatch.setattr(limits, "REQUEST_LINE_MAX", 64)
    data = b'{"regs": {}}\n{"regs": {"s16[0]": "' + b"00" * 100 + b'"}}\n{"regs": {}}\n'
    out = _batch_lines(data, 1024)
    assert len(out) == 3 and b"longer than 64 bytes" in out[1] and b"error" not in out[2]


# ---- the CLI's exit codes: user errors 2, bugs 3 (issue 13) ----------------------------------

def test_a_plain_value_error_from_a_bug_is_an_internal_error(monkeypatch, capsys) -> None:
    """A ValueError that is not a documented input error is a bug: exit 3 and 'internal
    error', never reported as bad input (exit 2)."""
    from aluvm.machine import interp
    from aluvm.tools import cli
    monkeypatch.setattr(interp, "STRICT", False)

    def broken(*a, **k):
        raise ValueError("unpacking went wrong")
    monkeypatch.setattr(cli, "cmd_info", broken)
    monkeypatch.setattr(cli, "make_parser", _parser_with(cli, "info", broken))
    assert cli.main(["info", "--code", "00"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("aluvm: internal error") and "unpacking went wrong" in err and err.count("\n") == 1


def _parser_with(cli, name, func):
    make = cli.make_parser

    def parser():
        p = make()
        for action in p._subparsers._group_actions:      # route the subcommand to ``func``
            action.choices[name].set_defaults(func=func)
        return p
    return parser


def test_recursion_error_from_a_bug_is_an_internal_error(monkeypatch, capsys) -> None:
    from aluvm.machine import interp
    from aluvm.tools import cli
    monkeypatch.setattr(interp, "STRICT", False)

    def broken(*a, **k):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(cli, "make_parser", _parser_with(cli, "info", broken))
    assert cli.main(["info", "--code", "00"]) == 3
    assert "internal error" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["run", "--code", "00", "--profile", "nope"], "invalid choice"),
    (["run", "--code", "00", "--ext", "nope"], "unknown extension"),
    (["exec", "--tier", "jit", "--ext", "nope", "-"], "unknown extension"),
    (["run", "--code", "00", "--features", "warp"], "unknown ISA feature"),
    (["run", "--code", "zz"], "hex"),
    (["run", "--code", "00", "--reg", "a8[0]=zz"], "--reg"),
    (["run", "--code", "00", "--context", "/nonexistent.json", "--ext", "rgb"], "no such file"),
    (["run", "--code", "00", "--context", "x.json"], "--context needs an --ext"),
    (["batch", "--code", "00", "-", "--outputs", "q[0]"], ""),
])
def test_user_errors_are_exit_2_with_one_line(argv, message, capsys) -> None:
    """Bad input handled as InputError/AluError: one line, exit 2 (under ALUVM_STRICT too,
    which re-raises anything else)."""
    from aluvm.tools import cli
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aluvm: error: ") and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("body, message", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 5000, "nested deeper"),
    (b"{" + b'"a":{' * 40 + b"}" * 41, "nested deeper"),
    (b'{"op_type": 70000}', "not a u16"),
    (b"{", "bad JSON"),
])
def test_bad_context_files_are_user_errors(tmp_path, body, message, capsys) -> None:
    from aluvm.tools import cli
    p = tmp_path / "ctx.json"
    p.write_bytes(body)
    assert cli.main(["run", "--code", "00", "--ext", "rgb", "--context", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_user_input_errors_are_value_errors_for_api_callers() -> None:
    """InputError is still a ValueError: API callers that caught ValueError keep working."""
    from aluvm.errors import AluError, InputError
    from aluvm.host.rgb import ContextError
    from aluvm.machine.interp import get_profile
    with pytest.raises(InputError):
        get_profile("nope")
    assert issubclass(InputError, ValueError) and issubclass(InputError, AluError)
    assert issubclass(ContextError, InputError)


@pytest.mark.parametrize("body, message", [
    (b"nop\n", "bad JSON"),                       # fuzz finding: a source file given to conform
    (b'{"request": 5}\n', "not a vector"),
    (b"[" * 3000 + b"\n", "nested deeper"),
    (b'{"request": {"op": "disasm", "code": "00"}, "expect": {"instrs": 1}}\n', "malformed"),
])
def test_conform_on_files_that_are_not_vectors_is_a_user_error(tmp_path, body, message, capsys) -> None:
    from aluvm.tools import cli
    p = tmp_path / "v.jsonl"
    p.write_bytes(body)
    assert cli.main(["conform", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_conform_on_a_truncated_gzip_is_a_user_error(tmp_path, capsys) -> None:
    from aluvm.tools import cli
    p = tmp_path / "v.jsonl.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00")
    assert cli.main(["conform", str(p)]) == 2
    assert "aluvm: error:" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", [["fmt"], ["debug"], ["info"], ["run"], ["disasm"]])
def test_a_source_that_is_not_utf8_is_a_user_error(tmp_path, cmd, capsys) -> None:
    """Found auditing the exit codes: a UnicodeDecodeError (a ValueError) from reading a source
    ended as exit 2 by accident before, and would have been an internal error after."""
    from aluvm.tools import cli
    p = tmp_path / "bad.aluasm"
    p.write_bytes(b"\xff\xfenop\n")
    assert cli.main(cmd + [str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.aluasm: not UTF-8" in err, err


def test_a_malformed_ray_address_is_a_user_error(tmp_path, capsys) -> None:
    pytest.importorskip("ray")
    from aluvm.tools import cli
    p = tmp_path / "in.jsonl"
    p.write_text('{"regs": {}}\n')
    assert cli.main(["batch", "--code", "00", str(p), "--engine", "ray", "--ray-address", "x"]) == 2
    assert "--ray-address x" in capsys.readouterr().err


# ---- batch input: a line's verdict never depends on its chunk (make fuzz, batch-lines) -------

def _errors_by_path(data: bytes) -> tuple[dict, dict, dict]:
    from aluvm.tools.jsonl import parse_chunk, parse_lines
    whole = parse_chunk(data).errors
    single = {}
    for k, line in enumerate(data.splitlines()):
        single.update({k: v for v in parse_chunk(line + b"\n").errors.values()})
    return whole, single, parse_lines(data).errors


def test_an_s_register_value_with_a_blank_is_an_error_on_every_path() -> None:
    """bytes.fromhex skips blanks: the columnar path took "77 66" as two bytes while the
    line-by-line path rejected it."""
    data = b'{"regs": {"a8[0]": "01", "s16[2]": "77 66"}}\n{"regs": {"a8[0]": "02"}}\n'
    whole, single, exact = _errors_by_path(data)
    assert whole == single == exact == {0: "register s16[2]: value must be a hex string"}


def test_a_line_with_two_bad_registers_reports_the_same_one_in_any_chunk() -> None:
    """The first bad register in register order - the columnar path saw the chunk's registers
    in the order they first appear in the chunk (here a1024[2] via line 0)."""
    data = (b'{"regs": {"a1024[2]": "' + b"00" * 128 + b'", "a8[0]": "01"}}\n'
            b'{"regs": {"a256[3]": "zz' + b"00" * 31 + b'", "a1024[2]": "00"}}\n')
    whole, single, exact = _errors_by_path(data)
    assert whole == single == exact == {1: "register a256[3]: value must be a hex string"}


def test_two_json_documents_on_one_line_are_one_error_line() -> None:
    """make fuzz (batch-lines seed 43412): pyarrow reads `{}{"regs": {}}` as two rows - two
    output lines for one input, every later line shifted; the exact path says why it is bad."""
    from aluvm.tools.jsonl import parse_chunk, parse_lines
    data = b'{"regs": {"a8[0]": "01"}}\n{}{"regs": {}}\n{"regs": {"a8[0]": "02"}}\n'
    for chunk in (data, b'{}{"regs": {}}\n'):
        got, exact = parse_chunk(chunk), parse_lines(chunk)
        assert got.n == exact.n == chunk.count(b"\n")
        assert got.errors == exact.errors and "after document" in next(iter(got.errors.values()))
