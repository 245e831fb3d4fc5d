"""Execution semantics of the digest and elliptic-curve instructions (opcodes 0x80-0x8F).

Every function is ``name(regs, *fields) -> None`` with the raw decoded field values in bytecode
order (see :mod:`aluvm.isa`).  Register conventions (:mod:`aluvm.registers`): ``regs.r[code][i]``
is the R register's bytes read little-endian (code 1 = r160, 2 = r256, 3 = r512),
``regs.a[5][i]`` is a256, ``regs.s[i]`` a byte string; ``None`` = undefined.

Reference semantics (spec part B §8; rust-aluvm v0.11.0-beta.6):

* digests (complexity 100): hash all bytes of ``s``.  RIPEMD-160 is stored **byte-reversed** in
  r160, SHA-256/SHA-512/BLAKE3 as is (register byte 0 = digest byte 0).  An undefined ``s`` clears
  the destination and sets st0 to false; otherwise st0 is untouched.  BLAKE3 (0x84) never decodes
  in the reference (part A S3); the function still states what the reference's ``exec`` does and
  is what the ``spec`` profile runs.
* secp256k1 (complexity 1000): points in r512 as ``X || Y`` (32-byte big-endian each, byte 0
  first), scalars little-endian (r256) or the a256 value.  Failure only clears the destination;
  **st0 is never written**.  Rules in :mod:`aluvm.secp256k1`.
* ed25519 (0x8C-0x8F): the reference panics ("implement Curve256 operations") whatever the
  operands; the ``spec`` profile variants ``*_spec`` follow :mod:`aluvm.ed25519`.
"""
from __future__ import annotations

from typing import Callable, Literal, Optional

from aluvm.semantics import digests
from aluvm.semantics.curves import ed25519
from aluvm.semantics.curves import secp256k1
from aluvm.errors import Panic
from aluvm.semantics.differs import EVERYWHERE, Differs

Op = Callable[..., None]

_R160, _R256, _R512 = 1, 2, 3
_A256 = 5

# ---------------------------------------------------------------------------------------------
# Digests (0x80-0x82, 0x84)
# ---------------------------------------------------------------------------------------------


def _digest_op(name: str, fn: Callable[[bytes], bytes], bank: int,
               order: Literal["little", "big"]) -> Callable[..., None]:
    """The op hashing ``s[s]`` into register ``bank[dst]``, its digest read as ``order``;
    an undefined string clears the destination and st0."""
    def op(regs, s: int, dst: int) -> None:
        data = regs.s[s]
        if data is None:
            regs.r[bank][dst] = None
            regs.st0 = False
            return
        regs.r[bank][dst] = int.from_bytes(fn(data), order)
    op.__name__ = op.__qualname__ = name
    return op


# RIPEMD: register bytes = reversed digest; read little-endian that is the digest read big-endian
ripemd = _digest_op("ripemd", digests.ripemd160, _R160, "big")
sha256 = _digest_op("sha256", digests.sha256, _R256, "little")
sha512 = _digest_op("sha512", digests.sha512, _R512, "little")
blake3 = _digest_op("blake3", digests.blake3, _R256, "little")


# ---------------------------------------------------------------------------------------------
# secp256k1 (0x88-0x8B)
# ---------------------------------------------------------------------------------------------


def _point_bytes(val: int, width: int) -> bytes:
    """A point register's value -> its ``width`` bytes (byte 0 first)."""
    return val.to_bytes(width, "little")


def _point_reg(enc: Optional[bytes]) -> Optional[int]:
    """Result bytes (or None) -> the point register's value."""
    return None if enc is None else int.from_bytes(enc, "little")


# The register plumbing shared by both curves: scalars come from r256 (or a256 for ``mul`` with
# the block flag), points live in ``bank`` as ``width`` little-endian bytes, an undefined input
# or an invalid point leaves the destination undefined.

def _gen_op(name: str, gen: Callable, bank: int) -> Op:
    def op(regs, src: int, dst: int) -> None:
        k = regs.r[_R256][src]
        regs.r[bank][dst] = None if k is None else _point_reg(gen(k))
    op.__name__ = op.__qualname__ = name
    return op


def _mul_op(name: str, mul: Callable, bank: int, width: int) -> Op:
    def op(regs, block: int, scalar: int, src: int, dst: int) -> None:
        k = regs.a[_A256][scalar] if block else regs.r[_R256][scalar]
        pt = regs.r[bank][src]
        if k is None or pt is None:
            regs.r[bank][dst] = None
            return
        regs.r[bank][dst] = _point_reg(mul(k, _point_bytes(pt, width)))
    op.__name__ = op.__qualname__ = name
    return op


def _neg_op(name: str, neg: Callable, bank: int, width: int) -> Op:
    def op(regs, src: int, dst: int) -> None:
        pt = regs.r[bank][src]
        regs.r[bank][dst] = None if pt is None else _point_reg(neg(_point_bytes(pt, width)))
    op.__name__ = op.__qualname__ = name
    return op


def secp_ops(curve: secp256k1.Backend) -> dict[str, Op]:
    """The four secp256k1 ops computed by ``curve`` (a :class:`~secp256k1.Backend`); points
    are r512 registers."""
    add = curve.add

    def secp_add(regs, src: int, srcdst: int) -> None:
        p1 = regs.r[_R512][src]
        p2 = regs.r[_R512][srcdst]
        if p1 is None or p2 is None:
            regs.r[_R512][srcdst] = None
            return
        regs.r[_R512][srcdst] = _point_reg(add(_point_bytes(p1, 64), _point_bytes(p2, 64)))

    return {"secp_gen": _gen_op("secp_gen", curve.gen, _R512),
            "secp_mul": _mul_op("secp_mul", curve.mul, _R512, 64),
            "secp_add": secp_add,
            "secp_neg": _neg_op("secp_neg", curve.neg, _R512, 64)}


#: the ops on the default backend (the profiles' ops)
SECP_OPS = secp_ops(secp256k1.DEFAULT)
secp_gen, secp_mul = SECP_OPS["secp_gen"], SECP_OPS["secp_mul"]
secp_add, secp_neg = SECP_OPS["secp_add"], SECP_OPS["secp_neg"]


# ---------------------------------------------------------------------------------------------
# ed25519 (0x8C-0x8F)
# ---------------------------------------------------------------------------------------------

ED_PANIC = "implement Curve256 operations"


def ed_gen(regs, *fields) -> None:
    raise Panic(ED_PANIC)


def ed_mul(regs, *fields) -> None:
    raise Panic(ED_PANIC)


def ed_add(regs, *fields) -> None:
    raise Panic(ED_PANIC)


def ed_neg(regs, *fields) -> None:
    raise Panic(ED_PANIC)


ed_gen_spec = _gen_op("ed_gen_spec", ed25519.gen, _R256)
ed_mul_spec = _mul_op("ed_mul_spec", ed25519.mul, _R256, 32)
ed_neg_spec = _neg_op("ed_neg_spec", ed25519.neg, _R256, 32)


_ED_IDENTITY_REG = int.from_bytes(ed25519.IDENTITY, "little")


def ed_add_spec(regs, src1: int, src2: int, dst: int, overflow: int) -> None:
    p1 = regs.r[_R256][src1]
    p2 = regs.r[_R256][src2]
    if p1 is None or p2 is None:
        regs.r[_R256][dst] = None
        return
    res = _point_reg(ed25519.add(_point_bytes(p1, 32), _point_bytes(p2, 32)))
    if res == _ED_IDENTITY_REG and not overflow:
        regs.r[_R256][dst] = None
        regs.st0 = False
        return
    regs.r[_R256][dst] = res


REFERENCE_OPS: dict[str, Callable[..., None]] = {
    "ripemd": ripemd,
    "sha256": sha256,
    "sha512": sha512,
    # Not decodable in the reference profile (0x84 is a reserved op there, part A S3); listed
    # because it is what the reference's exec would do for an API-built instruction.
    "blake3": blake3,
    "secp_gen": secp_gen,
    "secp_mul": secp_mul,
    "secp_add": secp_add,
    "secp_neg": secp_neg,
    "ed_gen": ed_gen,
    "ed_mul": ed_mul,
    "ed_add": ed_add,
    "ed_neg": ed_neg,
}

SPEC_OVERRIDES: dict[str, Callable[..., None]] = {
    "blake3": blake3,
    "ed_gen": ed_gen_spec,
    "ed_mul": ed_mul_spec,
    "ed_add": ed_add_spec,
    "ed_neg": ed_neg_spec,
}
SPEC_DIFFERS: dict[str, tuple[Differs, ...]] = {k: EVERYWHERE for k in SPEC_OVERRIDES}

__all__ = ["REFERENCE_OPS", "SPEC_OVERRIDES", "ED_PANIC"] + sorted(
    {f.__name__ for f in REFERENCE_OPS.values()} | {f.__name__ for f in SPEC_OVERRIDES.values()})
