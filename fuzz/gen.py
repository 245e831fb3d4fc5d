"""Input generators for the fuzz targets: structured random programs, register files, requests,
library blobs, assembly sources and byte-level mutations.

Every generator takes a :class:`random.Random`, so a case is reproduced from its seed; the suite
drives them from hypothesis-drawn seeds, ``make fuzz`` from a counter.
"""
from __future__ import annotations

import json
import random
from typing import Any, Optional

from aluvm.isa import table as isa
from aluvm.machine.interp import REFERENCE, SPEC
from aluvm.machine.registers import A_BITS, F_BYTES, R_BITS, Registers

#: keys the JIT compiles (control flow and A-register data ops): generated more often, so the
#: tiers' native paths meet the interpreter's
_NATIVE = {"clr_a", "put_a", "putif_a", "mov_a", "dup_a", "swp_a", "cpy_a", "cnv_a", "gt_a",
           "lt_a", "eq_a", "ifz_a", "ifn_a", "st", "stinv", "add_a", "sub_a", "mul_a", "div_a",
           "neg", "abs", "rem", "stp", "and", "or", "xor", "not", "shl", "shr_a", "scl", "scr",
           "rev_a", "jmp", "jif", "routine", "ret", "test", "fail", "call", "exec"}


def _forms(table: tuple) -> tuple[list[isa.Form], list[isa.Form]]:
    seen: dict[int, isa.Form] = {}
    for forms in table:
        for f in forms:
            seen[id(f)] = f
    every = list(seen.values())
    return every, [f for f in every if f.key in _NATIVE]


_FORMS = {"reference": _forms(REFERENCE.table), "spec": _forms(SPEC.table)}


def _field_value(rng: random.Random, f: isa.Field, boundaries: list[int], size_hint: int) -> int:
    if f.kind == "i8":
        return rng.randrange(-128, 128)
    if f.name == "pos" and f.bits == 16:
        roll = rng.random()
        if roll < 0.7 and boundaries:
            return rng.choice(boundaries)                 # an instruction start (loops)
        if roll < 0.85:
            return rng.randrange(max(size_hint, 1) + 4)   # into an instruction, or just past
        return rng.randrange(1 << 16)
    if f.name in ("idx", "idx1", "idx2", "src", "dst") or f.bits == 5:
        return rng.randrange(4) if rng.random() < 0.6 else rng.randrange(1 << f.bits)
    return rng.randrange(1 << f.bits)


def instruction(rng: random.Random, profile: str, boundaries: list[int], size_hint: int) -> bytes:
    """One encoded instruction of a random form (native forms twice as likely)."""
    every, native = _FORMS[profile]
    form = rng.choice(native if rng.random() < 0.66 else every)
    if form.special in (isa.RESERVED, isa.NOP):
        return bytes([form.opcode])
    word = 0
    for f in form.fields:
        v = f.fixed if f.fixed is not None else (
            0 if f.kind == "pad" else _field_value(rng, f, boundaries, size_hint))
        if f.kind == "i8":
            v &= 0xFF
        word |= (v & f.mask) << f.shift
    return bytes([form.opcode]) + word.to_bytes(form.arg_bits // 8, "little")


def program(rng: random.Random, profile: str, n: Optional[int] = None) -> bytes:
    """A structured random program: mostly valid instructions, loops back to instruction starts,
    jumps into instructions, occasional raw garbage."""
    n = rng.randrange(1, 40) if n is None else n
    code = bytearray()
    starts: list[int] = []
    for _ in range(n):
        starts.append(len(code))
        if rng.random() < 0.03:
            code += rng.randbytes(rng.randrange(1, 4))
        else:
            code += instruction(rng, profile, starts, n * 3)
    return bytes(code)


def end_of_code_program(rng: random.Random, profile: str) -> tuple[bytes, int]:
    """Instructions at the very end of a 64 KiB code segment (entry near 0xFFFF)."""
    tail = program(rng, profile, rng.randrange(1, 4))
    size = 0xFFFF - rng.randrange(0, 3)
    head = program(rng, profile, rng.randrange(0, 4))
    code = head + bytes(max(0, size - len(head) - len(tail))) + tail
    code = code[:0xFFFF]
    return code, max(0, len(code) - len(tail))


def registers(rng: random.Random) -> Registers:
    """A register file with a few defined registers of every family and width, and control
    registers near their limits."""
    regs = Registers()
    for _ in range(rng.randrange(0, 14)):
        fam = rng.choice("aaaafrs")
        code, idx = rng.randrange(8), rng.randrange(4) if rng.random() < 0.7 else rng.randrange(32)
        if fam == "a":
            bits = A_BITS[code]
            regs.a[code][idx] = rng.choice([0, 1, (1 << bits) - 1, 1 << (bits - 1),
                                            rng.getrandbits(bits)])
        elif fam == "f":
            from aluvm.semantics.floats.formats import store
            regs.f[code][idx] = store(code, rng.getrandbits(8 * F_BYTES[code]))
        elif fam == "r":
            regs.r[code][idx] = rng.getrandbits(R_BITS[code])
        else:
            regs.s[idx % 16] = rng.randbytes(rng.choice([0, 1, 5, 32, 70]))
    regs.st0 = rng.random() < 0.8
    # loops run until cy0 reaches its limit: start near it (or bound the run by cl0), so a
    # case takes milliseconds, not the ~130,000 steps of a loop from cy0 = 0
    regs.cl0 = rng.choice([None, None, None, 0, 1, rng.randrange(200), rng.randrange(5000)])
    regs.cy0 = rng.choice([0, 65000, 65500, 65534, 65535] if regs.cl0 is not None
                          else [64000, 65500, 65500, 65534, 65535])
    if rng.random() < 0.1:   # near the call-stack limit (rarely: results list every slot)
        regs.cp0 = rng.choice([65534, 65535] if rng.random() < 0.1 else [1, 2, 255, 256])
    return regs


def regs_json(regs: Registers) -> dict[str, str]:
    return {k: v.hex() for k, v in regs.defined().items()}


def run_request(rng: random.Random, profile: str) -> dict[str, Any]:
    """A well-formed ``run`` request (the vectors' format)."""
    regs = registers(rng)
    req: dict[str, Any] = {"op": "run", "code": program(rng, profile).hex(),
                           "data": rng.randbytes(rng.choice([0, 4, 40])).hex(),
                           "regs": regs_json(regs), "st0": regs.st0, "cy0": regs.cy0}
    if regs.cl0 is not None:
        req["cl0"] = regs.cl0
    if rng.random() < 0.2:
        req["entry"] = rng.randrange(0, 60)
    return req


_JUNK_VALUES: list[Any] = [None, True, False, 0, -1, 2**64, 2**70, 1.5, "", "zz", "00", [], {},
                           [1], {"a": 1}, "a8[0]", "0" * 200001]


def junk_request(rng: random.Random, profile: str) -> Any:
    """A request with some fields replaced by values of the wrong type or range."""
    if rng.random() < 0.1:
        return rng.choice(_JUNK_VALUES)
    req: dict[str, Any] = run_request(rng, profile) if rng.random() < 0.7 else {}
    keys = ["op", "code", "data", "regs", "st0", "cy0", "ca0", "cl0", "entry", "isae", "libs",
            "expect", "x"]
    for _ in range(rng.randrange(1, 4)):
        k = rng.choice(keys)
        if k == "op":
            req[k] = rng.choice(["run", "disasm", "reencode", "info", "teleport", None, 5])
        elif k == "regs" and rng.random() < 0.5:
            req[k] = {rng.choice(["a8[0]", "f32[1]", "s16[3]", "r128[0]", "q[0]", "a8[99]",
                                  "s16[16]", "f80[0]"]): rng.choice(_JUNK_VALUES + ["ff" * 10])}
        else:
            req[k] = rng.choice(_JUNK_VALUES)
    return req


def mutate(rng: random.Random, blob: bytes, max_len: int = 1 << 16) -> bytes:
    """Byte-level mutations: flips, inserts, deletes, splices of interesting values."""
    out = bytearray(blob)
    for _ in range(rng.randrange(1, 6)):
        roll = rng.random()
        pos = rng.randrange(len(out) + 1)
        if roll < 0.3 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif roll < 0.5:
            out[pos:pos] = rng.choice([b"\x00", b"\xff", b"\x80", b"\n", b"\r\n", b'"', b"[",
                                       b"{", b",", b"\\", b"\xef\xbb\xbf", rng.randbytes(3)])
        elif roll < 0.7 and out:
            del out[pos:pos + rng.randrange(1, 8)]
        elif roll < 0.85 and out:
            a = rng.randrange(len(out))
            out[pos:pos] = out[a:a + rng.randrange(1, 16)]
        else:
            out[pos:pos + 1] = rng.randbytes(1)
    return bytes(out[:max_len])


def request_line(rng: random.Random, profile: str) -> bytes:
    """One input line of ``exec``: well-formed, junk, or a byte-mutated line."""
    roll = rng.random()
    if roll < 0.4:
        return json.dumps(run_request(rng, profile)).encode()
    if roll < 0.7:
        return json.dumps(junk_request(rng, profile)).encode()
    if roll < 0.8:
        depth = rng.choice([10, 17, 100, 1000, 5000])
        return (rng.choice([b"[", b'{"a":']) * depth)
    return mutate(rng, json.dumps(run_request(rng, profile)).encode()).replace(b"\n", b" ")


_ASM_LINES = [".MAIN", ".ROUTINE r", ".DATA", ".CONST", ".INPUT", ".ISAE", ".LIBS", "loop:",
              "  nop", "  add.uw a64[0],a64[1]", "  jmp loop", "  jif 0", "  routine r",
              "  ret", "  put a64[0],5", "  put f32[1],1.5", "  put s16[0],\"hi\"",
              "  mov a32 [ 3 ] , a32[4]", "  .BYTES 0102", "  fail", "  $x = 5",
              "  $v a64[0] \"d\"", "  ALU BPDIGEST", "  0011ff", "  call 0 @ lib",
              "  sha2 s16[0],r256[0]", "  put a8[0],-1", "  rsrv:90", "; comment"]


def asm_source(rng: random.Random) -> str:
    """AluAsm text: a mix of valid lines, shuffled sections and character-level mutations."""
    lines = [rng.choice(_ASM_LINES) for _ in range(rng.randrange(1, 25))]
    if rng.random() < 0.5:
        lines.insert(0, ".MAIN")
    text = "\n".join(lines)
    if rng.random() < 0.5:
        text = mutate(rng, text.encode(), 4096).decode("utf-8", "replace")
    return text


def batch_line(rng: random.Random) -> bytes:
    """One input line of ``aluvm batch``: ``{"regs": ..., "id"?}``, a line with fields that
    belong to the validator (entry, st0, cl0), wrong names/widths/types, deep nesting, bad bytes."""
    roll = rng.random()
    item: dict[str, Any] = {"regs": regs_json(registers(rng))}
    if rng.random() < 0.3:
        item["id"] = rng.choice([rng.randrange(1000), f"in-{rng.randrange(1000)}", None, 1.5, [1]])
    if roll < 0.5:
        return json.dumps(item).encode()
    if roll < 0.7:
        item[rng.choice(["entry", "st0", "cl0", "x", "regs"])] = rng.choice(_JUNK_VALUES[:-1])
        return json.dumps(item).encode()
    if roll < 0.8:
        item["regs"] = {rng.choice(["a8[0]", "a64[31]", "f32[1]", "s16[3]", "r128[0]", "q[0]",
                                    "a8[99]", "s16[16]", "f80[0]", "a1024[0]"]):
                        rng.choice(_JUNK_VALUES[:-1] + ["ff" * rng.randrange(0, 130), "0g"])}
        return json.dumps(item).encode()
    if roll < 0.85:
        return rng.choice([b"[", b'{"regs":']) * rng.choice([10, 17, 100, 1000, 5000])
    return mutate(rng, json.dumps(item).encode()).replace(b"\n", b" ")


# ---- host extension contexts (RGB) -----------------------------------------------------------

_TYPE_IDS = ["4000", "4001", "0x0FA0", "2000", "10", "0", "65535", "65536", "-1", "x", "1e3", ""]
_TAG = "11" * 32


def _blob_value(rng: random.Random) -> Any:
    return rng.choice(["", "00", "0xabcd", "ff" * rng.randrange(40), {"utf8": "text"}, "zz", "0",
                       {"utf8": 5}, None, 7, [], "ab" * 33])


def _fungible_item(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.6:
        item: dict[str, Any] = {"value": rng.choice([0, 1, 100, 2**64 - 1, rng.randrange(2**64)]),
                                "blinding": rng.choice(["00" * 31 + "01", "ab" * 32, "0xab" + "cd" * 31])}
        if rng.random() < 0.15:
            item["tag"] = rng.choice([_TAG, "22" * 32, "00" * 31])
        if rng.random() < 0.03:
            item[rng.choice(["value", "blinding", "commitment"])] = rng.choice(_JUNK_VALUES[:-1])
        return item
    if roll < 0.97:   # concealed: a commitment (a valid point's encoding or not)
        good = "08" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        return {"commitment": good if rng.random() < 0.8 else rng.choice(
            ["09" + "00" * 32, "07" + "11" * 32, "08" + "ff" * 32, "08" + "11" * 31])}
    return rng.choice(_JUNK_VALUES[:-1])


def _assigns(rng: random.Random) -> Any:
    kind = rng.choice(["fungible", "structured", "declarative", "attachment"] if rng.random() < 0.97
                      else ["other", "fungible"])
    n = rng.choice([0, 1, 1, 2, 3])
    if kind == "fungible":
        items: Any = [_fungible_item(rng) for _ in range(n)]
    elif kind == "structured":
        items = [rng.choice([None, "00ff", "", {"utf8": "state"}, "ff" * 70]) if rng.random() < 0.97
                 else "x" for _ in range(n)]
    else:
        items = rng.choice([n, [None] * n]) if rng.random() < 0.95 else rng.choice([-1, 70000, "2", None])
    return {kind: items} if rng.random() < 0.95 else {kind: items, "structured": []}


def rgb_context(rng: random.Random) -> Any:
    """An RGB operation context (``aluvm --ext rgb --context``): mostly well-formed, with type
    ids, state kinds, commitments, tags and values that are wrong in one place or another."""
    def ids(k: int) -> list[str]:
        common = ["4000", "4001", "2000", "10"]
        return [rng.choice(common) if rng.random() < 0.97 else rng.choice(_TYPE_IDS) for _ in range(k)]
    doc: dict[str, Any] = {
        "asset_tags": {t: (_TAG if rng.random() < 0.97 else rng.choice(["11" * 31, "zz", None]))
                       for t in ids(rng.randrange(3))},
        "metadata": {t: _blob_value(rng) if rng.random() < 0.04 else "00ff" for t in ids(rng.randrange(3))},
        "global": {t: [(_blob_value(rng) if rng.random() < 0.04 else "0102") for _ in range(rng.randrange(3))]
                   for t in ids(rng.randrange(3))},
        "prev_state": {t: _assigns(rng) for t in ids(rng.randrange(3))},
        "owned_state": {t: _assigns(rng) for t in ids(rng.randrange(3))},
    }
    if rng.random() < 0.7:
        doc["op_type"] = (rng.choice([10000, 0, 65535, "10", None]) if rng.random() < 0.95
                          else rng.choice([65536, -1, 1.5, "x"]))
    if rng.random() < 0.1:
        doc[rng.choice(["metadata", "global", "prev_state", "op_type", "comment", "extra",
                        "asset_tags"])] = rng.choice(_JUNK_VALUES[:-1])
    return doc if rng.random() < 0.97 else rng.choice(_JUNK_VALUES[:-1])


def host_program(rng: random.Random, profile: str, forms: list[isa.Form], tys: list[int]) -> bytes:
    """A random program mixing the extension's ``forms`` (their type ids mostly from ``tys``)
    with ALU instructions."""
    code = bytearray()
    starts: list[int] = []
    n = rng.randrange(1, 24)
    for _ in range(n):
        starts.append(len(code))
        if rng.random() < 0.3:
            code += instruction(rng, profile, starts, n * 3)
            continue
        form = rng.choice(forms)
        word = 0
        for f in form.fields:
            if f.fixed is not None:
                v = f.fixed
            elif f.kind == "pad":
                v = 0
            elif f.name == "ty" and tys and rng.random() < 0.8:
                v = rng.choice(tys)
            else:
                v = rng.randrange(4) if rng.random() < 0.7 else rng.randrange(1 << f.bits)
            word |= (v & f.mask) << f.shift
        code += bytes([form.opcode]) + word.to_bytes(form.arg_bits // 8, "little")
    return bytes(code)
