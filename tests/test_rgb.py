"""The RGB 0.11 host: rgb-core v0.11.0-beta.6's contract ops, their context, Pedersen checks,
and NIA/UDA-style validation scripts, in both tiers."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import aluvm
from aluvm.asm import assemble, assemble_file, disassemble
from aluvm.host.rgb import OpContext, load_context, pedersen, profile, validate
from aluvm.host.rgb.context import ContextError
from aluvm.library.ids import lib_id_display
from aluvm.library.lib import Lib
from aluvm.machine.registers import Registers
from aluvm.semantics.curves.secp256k1 import N

from conftest import ROOT

TIERS = ("interp", "jit")
EXAMPLES = ROOT / "examples" / "rgb"
RGB_ISAE = "ALU BPDIGEST RGB"
U64_MAX = 2**64 - 1
PROFILE = profile()


def _lib(code: str) -> Lib:
    return Lib.with_(RGB_ISAE, bytes.fromhex(code))


def _run(code: str, ctx: Any, tier: str, setup: Any = None) -> tuple[Registers, Any]:
    regs = Registers()
    if setup:
        setup(regs)
    out = aluvm.run(_lib(code), regs, profile=PROFILE, tier=tier, host=ctx)
    return regs, out


# ---- the library format and display --------------------------------------------------------

def test_library_id_is_the_one_rgb_core_records() -> None:
    """rgb-core's own test (src/vm/op_contract.rs): `pcvs 4000` assembles to d0a00f, serialises
    to 0303414c55...000000 and has this id."""
    lib = assemble("pcvs 4000", profile=PROFILE)
    assert lib.code.hex() == "d0a00f" and lib.isae_string() == RGB_ISAE
    assert lib.serialize().hex() == "0303414c55084250444947455354035247420300d0a00f000000"
    assert lib_id_display(lib.id) == \
        "alu:zI4PtPCR-Eut023!-Hqblf3X-N2J4GZb-TR2ZEsI-vQfhKOU#ruby-sherman-tonight"


# every contract op: bytes (opcode, u16 type LE, packed registers) and rgb-core's display
OPS = [
    ("c0a00f05", "cnp     0x0FA0,a16[5]"),
    ("c1a00f1f", "cns     0x0FA0,a16[31]"),
    ("c2da0703", "cng     0x07DA,a8[3]"),
    ("c3a00f00", "cnc     0x0FA0,a16[0]"),
    ("c4a00f21", "ldp     0x0FA0,a16[1],s16[2]"),
    ("c5a00ff0", "lds     0x0FA0,a16[0],s16[15]"),
    ("c6a00f32", "ldf     0x0FA0,a16[2],a64[3]"),
    ("c8da0710", "ldg     0x07DA,a8[0],s16[1]"),
    ("c9da0721", "ldc     0x07DA,a32[1],s16[2]"),
    ("cab80b07", "ldm     0x0BB8,s16[7]"),
    ("d0a00f", "pcvs    0x0FA0"),
    ("d1a00f", "pcas    0x0FA0"),
    ("d2a00f", "pcis    0x0FA0"),
]


def test_every_op_displays_as_rgb_core_and_round_trips() -> None:
    code = "".join(c for c, _ in OPS)
    lib = _lib(code)
    raw = disassemble(lib, raw=True, profile=PROFILE)
    assert raw.splitlines() == [t for _, t in OPS]
    # the raw text (rgb-core's display) and the full disassembly both assemble back
    assert assemble(raw, profile=PROFILE) == lib
    assert assemble(disassemble(lib, profile=PROFILE), profile=PROFILE) == lib


def test_pcps_assembles_by_its_macro_name_too() -> None:
    assert assemble("pcps 0x0FA0", profile=PROFILE).code.hex() == "d2a00f"


def test_complexities() -> None:
    from aluvm.isa.codec import decode
    table = PROFILE.table_for(RGB_ISAE.split())
    want = {0xC0: 2, 0xC1: 2, 0xC2: 2, 0xC3: 2, 0xC4: 8, 0xC5: 8, 0xC6: 8, 0xC8: 8, 0xC9: 8,
            0xCA: 6, 0xD0: 1024, 0xD1: 512, 0xD2: 512}
    for code, _ in OPS:
        ins = decode(bytes.fromhex(code), 0, table=table)
        assert ins is not None and ins.form.cx == want[ins.form.opcode]


def test_unclaimed_bytes_decode_as_rgbs_failing_ops() -> None:
    table = PROFILE.table_for(RGB_ISAE.split())
    from aluvm.asm.display import instr_text
    from aluvm.isa.codec import decode
    cases = {0xC7: "fail    199", 0xD3: "fail    211", 0xDC: "Fail", 0xDF: "Fail",
             0x90: "144", 0xE0: "224", 0xFE: "254", 0x83: "131",
             0x88: "136", 0x8F: "143"}   # 0x88..0x8F: no curve features in RGB's build
    for op, text in cases.items():
        ins = decode(bytes([op, 0xAA]), 0, table=table)
        assert ins is not None and ins.size == 1 and ins.form.cx == U64_MAX
        assert instr_text(ins) == text
    lib = _lib("c7" "90" "dc" "88")
    assert assemble(disassemble(lib, profile=PROFILE), profile=PROFILE) == lib


@pytest.mark.parametrize("tier", TIERS)
def test_unclaimed_and_curve_bytes_fail(tier: str) -> None:
    for code in ("c7", "88", "e0"):
        regs, out = _run(code + "01", OpContext(), tier)
        assert (regs.st0, regs.ca0, out.reason) == (False, U64_MAX, "failed")


def test_cli_flow_disasm_asm_round_trip(tmp_path: Path, capsys: Any) -> None:
    from aluvm.tools.cli import main
    lib = _lib("".join(c for c, _ in OPS))
    src = tmp_path / "x.alu"
    from aluvm.library.files import save_file
    save_file(lib, str(src))
    assert main(["info", str(src), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == lib_id_display(lib.id)
    assert main(["disasm", "--ext", "rgb", "--raw", str(src)]) == 0
    assert capsys.readouterr().out.splitlines() == [t for _, t in OPS]
    assert main(["disasm", "--ext", "rgb", str(src)]) == 0
    text = capsys.readouterr().out
    (tmp_path / "x.aluasm").write_text(text)
    assert main(["asm", "--ext", "rgb", str(tmp_path / "x.aluasm"), "-o", str(tmp_path / "y.alu")]) == 0
    assert (tmp_path / "y.alu").read_bytes() == src.read_bytes()
    capsys.readouterr()
    assert main(["disasm", str(src), "--raw"]) == 0          # without the host: reserved bytes
    assert capsys.readouterr().out.startswith("rsrv:C0\n")


# ---- the state ops ------------------------------------------------------------------------------

TAG = bytes(range(32))
CTX_DOC = {
    "op_type": 10000,
    "asset_tags": {"4000": TAG.hex()},
    "metadata": {"0x0BB8": {"utf8": "meta"}},
    "global": {"2010": ["e803000000000000", "00"]},
    "prev_state": {"4000": {"fungible": [{"value": 10, "blinding": "11" * 32}]},
                   "4001": {"structured": ["cafe", None]},
                   "4002": {"declarative": 3}},
    "owned_state": {"4000": {"fungible": [{"value": 7, "blinding": "11" * 32}, {"value": 3}]},
                    "4001": {"structured": ["beef"]},
                    "4003": {"attachment": 2}},
}


@pytest.fixture(scope="module")
def ctx() -> OpContext:
    return load_context(CTX_DOC)


def _a16(i: int, v: int) -> Any:
    def setup(regs: Registers) -> None:
        regs.a[1][i] = v
    return setup


@pytest.mark.parametrize("tier", TIERS)
def test_counting_ops(tier: str, ctx: OpContext) -> None:
    # cnp 4000 -> a16[0]; cnp 4002 -> a16[1]; cns 4003 -> a16[2]; cng 2010 -> a8[3];
    # cnp 4003 (absent) -> a16[4] = None, st0 untouched
    regs, out = _run("c0a00f00" "c0a20f01" "c1a30f02" "c2da0703" "c0a30f04", ctx, tier)
    assert (regs.a[1][0], regs.a[1][1], regs.a[1][2], regs.a[0][3], regs.a[1][4]) == (1, 3, 2, 2, None)
    assert out.st0 and regs.ca0 == 10


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("code", ["c3a00f00", "c9da0700"])
def test_cnc_and_ldc_always_fail(tier: str, ctx: OpContext, code: str) -> None:
    regs, out = _run(code + "01", ctx, tier)      # (`test` after it never runs)
    assert (regs.st0, out.reason, regs.ca0) == (False, "failed", 2 if code[:2] == "c3" else 8)


@pytest.mark.parametrize("tier", TIERS)
def test_loading_structured_state(tier: str, ctx: OpContext) -> None:
    # ldp 4001,a16[0],s16[1] (index 0); ldp 4001,a16[1],s16[2] (index 1: concealed -> None);
    # lds 4001,a16[0],s16[3]; ldm 0x0BB8,s16[4]; ldg 2010,a8[0],s16[5]
    def setup(regs: Registers) -> None:
        regs.a[1][0], regs.a[1][1], regs.a[0][0] = 0, 1, 0
        regs.s[2] = b"old"
    regs, out = _run("c4a10f10" "c4a10f21" "c5a10f30" "cab80b04" "c8da0750", ctx, tier, setup)
    assert regs.s[1:6] == [bytes.fromhex("cafe"), None, bytes.fromhex("beef"), b"meta",
                           bytes.fromhex("e803000000000000")]
    assert out.st0 and regs.ca0 == 8 * 4 + 6


@pytest.mark.parametrize("tier", TIERS)
def test_ldf_loads_revealed_values(tier: str, ctx: OpContext) -> None:
    regs, out = _run("c6a00f10", ctx, tier, _a16(0, 0))      # ldf 4000,a16[0],a64[1]
    assert regs.a[3][1] == 7 and out.st0


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("code,setup", [
    ("c4a10f10", None),                 # ldp: index register undefined
    ("c4a10f10", _a16(0, 2)),           # ldp: index past the end
    ("c4a00f10", _a16(0, 0)),           # ldp: fungible, not structured
    ("c5a50f10", _a16(0, 0)),           # lds: type absent
    ("c6a10f10", _a16(0, 0)),           # ldf: structured, not fungible
    ("c6a00f10", _a16(0, 2)),           # ldf: index past the end
    ("c8da0710", None),                 # ldg: a8 index undefined
    ("cab90b00", None),                 # ldm: no such metadata
])
def test_loads_fail_and_stop(tier: str, ctx: OpContext, code: str, setup: Any) -> None:
    regs, out = _run(code + "01", ctx, tier, setup)
    assert (regs.st0, out.reason) == (False, "failed")


@pytest.mark.parametrize("tier", TIERS)
def test_ops_without_a_context(tier: str) -> None:
    regs, out = _run("c0a00f00", None, tier)
    assert regs.a[1][0] is None and out.st0
    regs, out = _run("d0a00f", None, tier)
    assert not out.st0


def test_cng_count_above_255_panics_like_rgb_core() -> None:
    ctx = load_context({"global": {"1": ["00"] * 256}})
    regs, out = _run("c2010000", ctx, "interp")
    assert out.panicked and not regs.st0


# ---- Pedersen commitments ------------------------------------------------------------------------

def _zkp_vectors() -> list[list[str]]:
    path = ROOT / "tests" / "vectors" / "rgb_pedersen.txt"
    return [line.split() for line in path.read_text().splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("row", _zkp_vectors(), ids=lambda r: r[2])
def test_generator_and_commitment_match_libsecp256k1_zkp(row: list[str]) -> None:
    """Vectors recorded from libsecp256k1-zkp itself (secp256k1_generator_generate and
    secp256k1_pedersen_commit), the library rgb-core calls."""
    tag, gen, value, blinding, commitment = row
    assert pedersen.serialize(pedersen.generator(bytes.fromhex(tag)), 10).hex() == gen
    assert pedersen.commit(int(value), bytes.fromhex(blinding), bytes.fromhex(tag)).hex() == commitment
    assert pedersen.serialize(pedersen.parse_commitment(bytes.fromhex(commitment))).hex() == commitment


def test_commitments_add_up() -> None:
    r1, r2 = 12345, N - 999
    a = pedersen.commit(30, r1.to_bytes(32, "big"), TAG)
    b = pedersen.commit(12, r2.to_bytes(32, "big"), TAG)
    total = pedersen.commit(42, ((r1 + r2) % N).to_bytes(32, "big"), TAG)
    assert pedersen.sums_equal([a, b], [total]) and pedersen.sums_equal([total], [b, a])
    assert not pedersen.sums_equal([a, b], [pedersen.commit(41, ((r1 + r2) % N).to_bytes(32, "big"), TAG)])
    assert pedersen.sums_equal([], [])


def test_zero_commitment_panics_like_secp256k1_zkp() -> None:
    from aluvm.errors import Panic
    with pytest.raises(Panic):
        pedersen.commit(0, bytes(32), TAG)


# ---- the NIA and UDA example scripts --------------------------------------------------------------

NIA_TRANSFER = 24
UDA_TRANSFER = 11


def _doc(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture(scope="module")
def nia() -> Lib:
    return assemble_file(EXAMPLES / "nia.aluasm", profile=PROFILE)


@pytest.fixture(scope="module")
def uda() -> Lib:
    return assemble_file(EXAMPLES / "uda.aluasm", profile=PROFILE)


def test_example_entry_offsets(nia: Lib, uda: Lib) -> None:
    from aluvm.asm import assemble_program
    assert assemble_program((EXAMPLES / "nia.aluasm").read_text(), profile=PROFILE).labels["transfer"] == NIA_TRANSFER
    assert assemble_program((EXAMPLES / "uda.aluasm").read_text(), profile=PROFILE).labels["transfer"] == UDA_TRANSFER


def _nia_cases() -> list[tuple[str, int, dict, Any]]:
    gen, tr = _doc("nia_genesis.json"), _doc("nia_transfer.json")
    cases: list[tuple[str, int, dict, Any]] = [("genesis", 0, gen, None), ("transfer", NIA_TRANSFER, tr, None)]
    bad = copy.deepcopy(gen)
    bad["global"]["2010"] = [(1001).to_bytes(8, "little").hex()]        # over-reported supply
    cases.append(("genesis: supply mismatch", 0, bad, 1))
    bad = copy.deepcopy(gen)
    bad["owned_state"]["4000"]["fungible"][1]["value"] = 401             # inflation
    cases.append(("genesis: inflated allocation", 0, bad, 1))
    bad = copy.deepcopy(gen)
    del bad["global"]                                                   # no supply at all
    cases.append(("genesis: no supply", 0, bad, 1))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["fungible"][0]["value"] = 451             # outputs exceed inputs
    cases.append(("transfer: inflation", NIA_TRANSFER, bad, 2))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["fungible"][1]["blinding"] = "01" * 32    # unbalanced blinding
    cases.append(("transfer: blinding", NIA_TRANSFER, bad, 2))
    bad = copy.deepcopy(tr)
    del bad["prev_state"]                                               # nothing spent
    cases.append(("transfer: no inputs", NIA_TRANSFER, bad, 2))
    return cases


def _uda_cases() -> list[tuple[str, int, dict, Any]]:
    gen, tr = _doc("uda_genesis.json"), _doc("uda_transfer.json")
    alloc = lambda idx, frac: (idx.to_bytes(4, "little") + frac.to_bytes(8, "little")).hex()  # noqa: E731
    cases: list[tuple[str, int, dict, Any]] = [("genesis", 0, gen, None), ("transfer", UDA_TRANSFER, tr, None)]
    bad = copy.deepcopy(gen)
    bad["owned_state"]["4000"]["structured"] = [alloc(8, 1)]
    cases.append(("genesis: other token", 0, bad, 4))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["structured"] = [alloc(6, 1)]
    cases.append(("transfer: other token", UDA_TRANSFER, bad, 4))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["structured"] = [alloc(7, 2)]
    cases.append(("transfer: fraction 2", UDA_TRANSFER, bad, 5))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["structured"] = [alloc(7, 1), alloc(7, 1)]
    cases.append(("transfer: duplicated", UDA_TRANSFER, bad, 3))
    bad = copy.deepcopy(tr)
    bad["owned_state"]["4000"]["structured"] = [None]                    # concealed: cannot check
    cases.append(("transfer: concealed", UDA_TRANSFER, bad, 4))
    return cases


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("case", _nia_cases(), ids=lambda c: c[0])
def test_nia_script(nia: Lib, tier: str, case: tuple) -> None:
    _name, entry, doc, errno = case
    verdict = validate(nia, load_context(doc), entry, tier=tier)
    assert verdict.valid == (errno is None) and verdict.error_code == errno


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("case", _uda_cases(), ids=lambda c: c[0])
def test_uda_script(uda: Lib, tier: str, case: tuple) -> None:
    _name, entry, doc, errno = case
    verdict = validate(uda, load_context(doc), entry, tier=tier)
    assert verdict.valid == (errno is None) and verdict.error_code == errno


@pytest.mark.parametrize("args", [
    ["nia.aluasm", "nia_genesis.json", "0"], ["nia.aluasm", "nia_transfer.json", str(NIA_TRANSFER)],
    ["uda.aluasm", "uda_transfer.json", str(UDA_TRANSFER)], ["uda.aluasm", "uda_genesis.json", "genesis"],
    ["nia.aluasm", "nia_transfer.json", "transfer"],
])
def test_cli_compare_runs_both_tiers_identically(args: list[str], capsys: Any) -> None:
    from aluvm.tools.cli import main
    lib, ctx, entry = args
    assert main(["compare", "--ext", "rgb", str(EXAMPLES / lib), "--context", str(EXAMPLES / ctx),
                 "--entry", entry]) == 0
    assert capsys.readouterr().out.strip() == "identical"
    assert main(["run", "--ext", "rgb", str(EXAMPLES / lib), "--context", str(EXAMPLES / ctx),
                 "--entry", entry, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["st0"] is True


@pytest.mark.parametrize("tier", TIERS)
def test_batch_with_per_input_contexts(nia: Lib, tier: str) -> None:
    """aluvm.Batch with one host context per input (a list, or a callable of the input's
    index), on several threads: each run validates against its own operation."""
    good, bad = _doc("nia_transfer.json"), _doc("nia_transfer.json")
    bad["owned_state"]["4000"]["fungible"][0]["value"] = 451
    ctxs = [load_context(good if i % 3 else bad) for i in range(30)]
    want = [bool(i % 3) for i in range(30)]
    inputs = [{"regs": {}} for _ in ctxs]
    for host in (ctxs, lambda i: ctxs[i]):
        batch = aluvm.Batch(nia, tier=tier, threads=4, entry=NIA_TRANSFER, profile=PROFILE, host=host)
        assert batch.run(inputs).st0.tolist() == want


def test_cli_batch_with_a_context(tmp_path: Path, capsys: Any) -> None:
    from aluvm.tools.cli import main
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"regs": {}}\n{"regs": {"a64[0]": "0000000000000001"}}\n')
    for ctx, ok in (("nia_transfer.json", True), ("nia_genesis.json", False)):
        assert main(["batch", "--ext", "rgb", str(EXAMPLES / "nia.aluasm"), str(inputs), "--entry",
                     str(NIA_TRANSFER), "--context", str(EXAMPLES / ctx), "--tier", "jit"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert [json.loads(line)["st0"] for line in out] == [ok, ok]


@pytest.mark.parametrize("argv,msg", [
    (["run", "--ext", "nope", "--code", "00"], "unknown extension 'nope'"),
    (["run", "--code", "00", "--context", "x.json"], "--context needs an --ext"),
    (["run", "--ext", "rgb", "--code", "00", "--context", "/nonexistent.json"], "no such file"),
    (["run", "--ext", "rgb", "--code", "00", "--features", "bls"], "unknown ISA feature"),
])
def test_cli_errors_are_one_line(argv: list[str], msg: str, capsys: Any) -> None:
    from aluvm.tools.cli import main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_bad_context_is_rejected_clearly() -> None:
    with pytest.raises(ContextError, match="prev_state.4000\\[0\\].value"):
        load_context({"prev_state": {"4000": {"fungible": [{"value": -1}]}}})
    with pytest.raises(ContextError, match="no asset tag"):
        load_context({"prev_state": {"4000": {"fungible": [{"value": 1}]}}})
    with pytest.raises(ContextError, match="unknown context field"):
        load_context({"prev": {}})
