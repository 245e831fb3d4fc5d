"""Hosting AluVM: the extension-op contract with a host context, ISA feature sets, loading
extensions by name, and the aluasm! macro forms."""
from __future__ import annotations

import threading
from typing import Any

import pytest

import aluvm
from aluvm.host.extensions import FAIL, STOP, ExtOp, Extension, definition_digest, extend
from aluvm.host.registry import host_profile, load_extension
from aluvm.library.lib import Lib
from aluvm.machine.features import NO_FEATURES, parse_features, with_features
from aluvm.machine.interp import REFERENCE, SPEC
from aluvm.machine.registers import Registers

TIERS = ("interp", "jit")
U64_MAX = 2**64 - 1


# ---- an extension whose ops use every part of the contract ----------------------------------

def ld(regs: Registers, host: Any, dst: int) -> None:
    """a64[dst] <- the host context's value (no context: undefined, st0 = false, continue)."""
    value = None if host is None else host["value"]
    regs.a[3][dst] = value
    if value is None:
        regs.st0 = False


def check(regs: Registers, host: Any, src: int) -> int | None:
    """Stop failing unless a64[src] equals the host's value."""
    return None if regs.a[3][src] == host["value"] else FAIL


def skip(regs: Registers, host: Any, target: int) -> int:
    """Jump to ``target`` (no cy0 count, as the reference's ExecStep::Jump)."""
    return target


def halt(regs: Registers, host: Any) -> int:
    return STOP


def boom(regs: Registers, host: Any) -> None:
    raise RuntimeError("host bug")


HOSTX = Extension("HOSTX", (
    ExtOp(0x90, "hld", "dst:8", 3, ld, "hld     a64{i:dst}"),
    ExtOp(0x91, "hck", "src:8", 4, check, "hck     a64{i:src}"),
    ExtOp(0x92, "hjmp", "target:16", 5, skip),
    ExtOp(0x93, "hstop", "", 6, halt),
    ExtOp(0x94, "hboom", "", 7, boom),
))
PROFILE = extend(REFERENCE, HOSTX)


def _run(code: str, tier: str, host: Any = None, isae: str = "ALU HOSTX") -> tuple[Registers, Any]:
    lib = Lib.with_(isae, bytes.fromhex(code))
    regs = Registers()
    out = aluvm.run(lib, regs, profile=PROFILE, tier=tier, host=host)
    return regs, out


@pytest.mark.parametrize("tier", TIERS)
def test_ops_read_the_host_context_and_continue(tier: str) -> None:
    # hld a64[1]; hck a64[1]; add.uc... : every op falls through, complexities 3 + 4 charged
    regs, out = _run("9001" "9101", tier, {"value": 77})
    assert (regs.a[3][1], regs.st0, out.reason, regs.ca0) == (77, True, "end of code", 7)


@pytest.mark.parametrize("tier", TIERS)
def test_fail_and_continue_without_context(tier: str) -> None:
    # hld without a host: undefined, st0 = false, and execution continues to hstop
    regs, out = _run("9001" "93", tier)
    assert (regs.a[3][1], regs.st0, out.reason, regs.ca0) == (None, False, "failed", 3 + 6)


@pytest.mark.parametrize("tier", TIERS)
def test_fail_stops_with_st0_false(tier: str) -> None:
    # put a64[1] from data is not needed: hck against an undefined register fails and stops
    regs, out = _run("9101" "9001", tier, {"value": 5})
    assert (regs.st0, out.reason, regs.a[3][1], regs.ca0) == (False, "failed", None, 4)


@pytest.mark.parametrize("tier", TIERS)
def test_jump_and_stop(tier: str) -> None:
    # 0: hjmp 0x0006; 3: hboom (skipped); 4..5: pad; 6: hstop
    regs, out = _run("920600" "94" "0000" "93", tier, {"value": 1})
    assert (regs.st0, out.reason, regs.cy0, regs.ca0) == (True, "stopped", 0, 5 + 6)


@pytest.mark.parametrize("tier", TIERS)
def test_an_op_exception_fails_the_run(tier: str) -> None:
    regs, out = _run("94", tier, {"value": 1})
    # the host's own exception is the ``host`` outcome, never a reference panic (issue 13)
    assert regs.st0 is False and out.kind == "host" and not out.panicked and "host bug" in out.reason


@pytest.mark.parametrize("tier", TIERS)
def test_undeclared_extension_stays_reserved(tier: str) -> None:
    regs, out = _run("9001", tier, {"value": 77}, isae="ALU")
    assert (regs.a[3][1], regs.st0, regs.ca0) == (None, False, U64_MAX)


@pytest.mark.parametrize("tier", TIERS)
def test_threads_with_their_own_contexts_never_cross(tier: str) -> None:
    """Eight threads share one compiled library and one machine; each run sees its own host
    context, read and checked 20 times in a loop."""
    src = """
    .ISAE
            ALU HOSTX
    .MAIN
            put     a16[1],0xFFFF
    loop:   hld     a64[0]
            hck     a64[0]
            add.sw  a16[1],a16[0]
            ifz     a16[0]
            inv     st0
            jif     loop
            inv     st0
    """
    from aluvm.asm import assemble
    lib = assemble(src, profile=PROFILE)
    errors: list[str] = []

    def worker(k: int) -> None:
        for i in range(30):
            regs = Registers()
            regs.a[1][0] = 20
            value = k * 1000 + i
            out = aluvm.run(lib, regs, profile=PROFILE, tier=tier, host={"value": value})
            if regs.a[3][0] != value or not out.st0:
                errors.append(f"thread {k} run {i}: a64[0]={regs.a[3][0]} st0={out.st0} {out.reason}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_two_definitions_of_one_isae_never_share_a_cache_key() -> None:
    from aluvm.jit.cache import cache_key
    other = Extension("HOSTX", (ExtOp(0x90, "hld", "dst:8", 3, lambda regs, host, dst: None),))
    p2 = extend(REFERENCE, other)
    assert definition_digest(HOSTX) != definition_digest(other)
    lib = Lib.with_("ALU HOSTX", bytes.fromhex("9001"))
    assert cache_key(lib.id, PROFILE, [0]) != cache_key(lib.id, p2, [0])
    nocurves = with_features(REFERENCE, NO_FEATURES)
    assert cache_key(lib.id, REFERENCE, [0]) != cache_key(lib.id, nocurves, [0])


# ---- ISA feature sets --------------------------------------------------------------------------

CURVE_CODES = {
    0x88: "880001", 0x89: "890000", 0x8A: "8a0001", 0x8B: "8b0001",
    0x8C: "8c0001", 0x8D: "8d0000", 0x8E: "8e0000", 0x8F: "8f0001",
}


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("opcode", sorted(CURVE_CODES))
def test_curve_opcodes_without_features_are_extension_bytes(tier: str, opcode: int) -> None:
    """rust-aluvm built without secp256k1/curve25519 decodes 0x88..0x8F in the ISA-extension
    range: with the default ReservedOp a 1-byte op of complexity 2^64-1 that fails."""
    prof = with_features(REFERENCE, NO_FEATURES)
    lib = Lib.with_("ALU BPDIGEST", bytes.fromhex(CURVE_CODES[opcode]))
    regs = Registers()
    regs.r[2][0] = 5     # a valid secret key for secpgen/edgen, so with the feature they work
    out = aluvm.run(lib, regs, profile=prof, tier=tier)
    assert (regs.st0, regs.ca0, out.reason) == (False, U64_MAX, "failed")
    assert regs.defined() == {"r256[0]": (5).to_bytes(32, "little")}


@pytest.mark.parametrize("tier", TIERS)
def test_secpgen_with_the_feature_still_runs(tier: str) -> None:
    prof = with_features(REFERENCE, parse_features("secp256k1"))
    lib = Lib.with_("ALU BPDIGEST SECP256K", bytes.fromhex("8800"))   # secpgen r256[0],r512[0]
    regs = Registers()
    regs.r[2][0] = 1
    out = aluvm.run(lib, regs, profile=prof, tier=tier)
    assert out.st0 and regs.ca0 == 1000 and regs.r[3][0] is not None
    ed = Lib.with_("ALU BPDIGEST", bytes.fromhex("8c0001"))
    regs = Registers()
    aluvm.run(ed, regs, profile=prof, tier=tier)
    assert regs.ca0 == U64_MAX


def test_features_parse_and_name() -> None:
    assert parse_features("none") == NO_FEATURES
    assert parse_features("all") == REFERENCE.features
    with pytest.raises(ValueError, match="unknown ISA feature"):
        parse_features("bls12")
    assert with_features(REFERENCE, NO_FEATURES).name == "reference[no-curves]"
    assert with_features(SPEC, ["curve25519"]).name == "spec[curve25519]"
    assert with_features(REFERENCE, REFERENCE.features) is REFERENCE


def test_extensions_claim_curve_opcodes_only_without_the_feature() -> None:
    ext = Extension("CLAIM", (ExtOp(0x88, "mine", "", 1, lambda regs, host: None),))
    with pytest.raises(ValueError, match="not an extension opcode"):
        extend(REFERENCE, ext)
    prof = host_profile("reference", NO_FEATURES, (ext,))
    lib = Lib.with_("ALU CLAIM", bytes.fromhex("88"))
    regs = Registers()
    assert aluvm.run(lib, regs, profile=prof).st0 and regs.ca0 == 1


# ---- loading extensions by name -----------------------------------------------------------------

def test_load_extension_by_name() -> None:
    from aluvm.host.rgb import RGB
    assert load_extension("rgb") is RGB                                # built-in
    assert load_extension("aluvm.host.rgb:RGB") is RGB                 # module:attribute
    assert load_extension("test_host:HOSTX") is HOSTX
    with pytest.raises(ValueError, match="unknown extension 'nope'"):
        load_extension("nope")
    with pytest.raises(ValueError, match="not an aluvm Extension"):
        load_extension("aluvm.host.rgb:ISAE")


def test_rgb_is_registered_as_an_entry_point() -> None:
    from importlib import metadata
    eps = {ep.name: ep.value for ep in metadata.entry_points(group="aluvm.extensions")}
    assert eps.get("rgb") == "aluvm.host.rgb:RGB"


# ---- aluasm! macro forms --------------------------------------------------------------------------

@pytest.mark.parametrize("text,code", [
    # find s16[1],s16[2],a16[0] -> BytesOp::Find(1, 2): u4 1, u4 2
    ("find s16[1],s16[2],a16[0]", "3821"),
    ("find    s16[15],s16[0],a16[0]", "380f"),
    # inj s16[1],a64[2],a16[3] -> BytesOp::Inj(s16[1], RegAR a64 (3), idx 2, off 3)
    ("inj s16[1],a64[2],a16[3]", "3a3132"),
    ("inj s16[4],r256[5],a16[6]", "3aa465"),
    # inv st0 -> CmpOp::StInv
    ("inv st0", "1f"),
])
def test_macro_forms_assemble_to_the_reference_bytes(text: str, code: str) -> None:
    from aluvm.asm import assemble
    assert assemble(text).code.hex() == code


def test_macro_find_insists_on_a16_0() -> None:
    from aluvm.asm import assemble
    from aluvm.errors import AsmError
    with pytest.raises(AsmError):
        assemble("find s16[1],s16[2],a16[1]")
