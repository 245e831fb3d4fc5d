"""The example programs in examples/: each one's result against values derived independently
(plain Python arithmetic, hashlib, a textbook secp256k1), never from the VM itself."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import aluvm
from aluvm.machine.registers import Registers

from aluvm.asm import assemble, assemble_file, assemble_program, disassemble

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
A64, R256, R512 = 3, 2, 3


def _run(name: str, regs: Registers | None = None, profile: str = "reference"):
    lib = assemble_file(EXAMPLES / name)
    regs = regs if regs is not None else Registers()
    outcome = aluvm.run(lib, regs, profile=profile)
    return outcome, regs


def _const(name: str, const: str) -> str:
    m = re.search(rf"^\s*\${const}\s*=\s*(\S+)", (EXAMPLES / name).read_text(), re.M)
    assert m, const
    return m.group(1)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.aluasm")))
def test_examples_disassemble_to_the_same_library(name: str) -> None:
    lib = assemble_file(EXAMPLES / name)
    assert assemble(disassemble(lib)) == lib


# ---- counter -------------------------------------------------------------------------------

def test_counter() -> None:
    outcome, regs = _run("counter.aluasm")
    limit = int(_const("counter.aluasm", "limit"))
    assert outcome.st0 and not outcome.panicked
    assert regs.a[A64][0] == limit
    assert regs.a[A64][3] == sum(range(1, limit + 1)) == 55
    assert regs.cy0 == limit - 1                      # the back jump is taken limit-1 times


def test_counter_cli_prints_final_state(capsys: pytest.CaptureFixture[str]) -> None:
    from aluvm.tools.cli import main
    assert main(["run", str(EXAMPLES / "counter.aluasm")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^st0\s+true", out, re.M)
    assert re.search(r"^a64\[3\]\s+0x0*37$", out, re.M)


# ---- subroutine (spec profile) -------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5, 10, 30])
def test_subroutine_sum_of_squares(n: int) -> None:
    regs = Registers()
    regs.a[A64][2] = n
    outcome, regs = _run("subroutine.aluasm", regs, profile="spec")
    assert outcome.st0
    assert regs.a[A64][3] == sum(i * i for i in range(1, n + 1)) == n * (n + 1) * (2 * n + 1) // 6
    assert regs.cp0 == 0                               # every routine returned


def test_subroutine_default_input() -> None:
    outcome, regs = _run("subroutine.aluasm", profile="spec")
    assert outcome.st0 and regs.a[A64][3] == 1 + 4 + 9 + 16 + 25


def test_subroutine_needs_the_spec_profile() -> None:
    # in the reference profile `inc` on a defined register panics (semantics.md §4.4)
    regs = Registers()
    regs.a[A64][2] = 3
    outcome, regs = _run("subroutine.aluasm", regs)
    assert not outcome.st0


# ---- input validation ----------------------------------------------------------------------

def _valid(v: int) -> bool:
    lo = int(_const("validate.aluasm", "min"))
    hi = int(_const("validate.aluasm", "max"))
    return lo <= v <= hi and v % 2 == 0


@pytest.mark.parametrize("profile", ["reference", "spec"])
def test_validate(profile: str) -> None:
    for v in [0, 1, 8, 9, 10, 11, 42, 43, 99, 100, 101, 102, 1 << 40, (1 << 64) - 1, (1 << 63) + 2]:
        regs = Registers()
        regs.a[A64][0] = v
        outcome, _ = _run("validate.aluasm", regs, profile)
        assert outcome.st0 == _valid(v), v


def test_validate_missing_input_is_rejected() -> None:
    outcome, _ = _run("validate.aluasm")
    assert not outcome.st0


def test_validate_inputs_are_declared() -> None:
    prog = assemble_program((EXAMPLES / "validate.aluasm").read_text())
    assert prog.inputs["value"].register == "a64[0]"


@pytest.mark.parametrize("tier", ["jit", "interp"])
def test_validate_batch_example(tier: str, capsys) -> None:
    """`make demo`'s batch job: each input line's verdict from _valid, bad lines as error lines."""
    import json

    from aluvm.tools.cli import main
    code = main(["batch", "--tier", tier, str(EXAMPLES / "validate.aluasm"),
                 str(EXAMPLES / "validate_inputs.jsonl")])
    out = capsys.readouterr()
    assert code == 0, out.err
    lines = [json.loads(x) for x in out.out.splitlines()]
    sent = [json.loads(x) for x in (EXAMPLES / "validate_inputs.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == [x["id"] for x in sent]
    for got, req in zip(lines, sent):
        if set(req) - {"id", "regs"} or any(len(h) != 16 for h in req["regs"].values()):
            assert set(got) == {"id", "error"}, got
        elif "a64[0]" not in req["regs"]:
            assert got["st0"] is False
        else:
            assert got["st0"] == _valid(int(req["regs"]["a64[0]"], 16)), got
    assert "8 inputs, 2 valid, 4 invalid, 2 errors" in out.err


# ---- SHA-256 commitment --------------------------------------------------------------------

MESSAGE = b"AluVM commitment"


def test_commitment_constant_is_sha256_of_the_message() -> None:
    assert _const("sha256_commitment.aluasm", "commitment") == "0x" + hashlib.sha256(MESSAGE).hexdigest()


@pytest.mark.parametrize("message,ok", [(MESSAGE, True), (b"AluVM commitmenT", False), (b"", False),
                                        (MESSAGE + b"\x00", False), (None, False)])
def test_sha256_commitment(message: bytes | None, ok: bool) -> None:
    regs = Registers()
    regs.s[0] = message
    outcome, regs = _run("sha256_commitment.aluasm", regs)
    assert outcome.st0 == ok
    if message is not None:
        got = regs.r[R256][1].to_bytes(32, "little")
        assert got == hashlib.sha256(message).digest()


# ---- secp256k1 key check -------------------------------------------------------------------

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % P == 0:
        return None
    if p1 == p2:
        lam = 3 * p1[0] * p1[0] * pow(2 * p1[1], -1, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return x, (lam * (p1[0] - x) - p1[1]) % P


def _ec_mul(k: int, point=G):
    acc = None
    while k:
        if k & 1:
            acc = _ec_add(acc, point)
        point = _ec_add(point, point)
        k >>= 1
    return acc


SECRET = int.from_bytes(hashlib.sha256(b"AluVM example key").digest(), "big")


def test_pubkey_constant_is_the_secret_times_g() -> None:
    x, y = _ec_mul(SECRET)
    assert _const("secp256k1_key.aluasm", "pubkey") == "0x" + (x.to_bytes(32, "big") + y.to_bytes(32, "big")).hex()


@pytest.mark.parametrize("secret,ok", [(SECRET, True), (SECRET + 1, False), (N - SECRET, False),
                                       (0, False), (N, False), (SECRET + N, False), (None, False)])
def test_secp256k1_key(secret: int | None, ok: bool) -> None:
    regs = Registers()
    if secret is not None:
        regs.r[R256][0] = secret % (1 << 256)
    outcome, regs = _run("secp256k1_key.aluasm", regs)
    assert outcome.st0 == ok
    if secret is not None and 0 < secret < N:
        x, y = _ec_mul(secret)
        assert regs.r[R512][2].to_bytes(64, "little") == x.to_bytes(32, "big") + y.to_bytes(32, "big")
