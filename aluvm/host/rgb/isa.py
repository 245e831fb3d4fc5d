"""RGB's ISA extension (rgb-core v0.11.0-beta.6, ``src/vm/op_contract.rs``) as extension data.

Every contract opcode with the reference's bit layout (LSB-first fields after the opcode byte),
complexity and display text:

========  ======  ===============================  ====  ====================================
opcode    name    fields                           cx    semantics
========  ======  ===============================  ====  ====================================
0xC0      cnp     type:u16 dst:u5 pad:u3           2     a16[dst] <- #inputs of type or None
0xC1      cns     type:u16 dst:u5 pad:u3           2     a16[dst] <- #outputs of type or None
0xC2      cng     type:u16 dst:u5 pad:u3           2     a8[dst] <- #global items of type or None
0xC3      cnc     type:u16 dst:u5 pad:u3           2     fails (rgb-core: not implemented)
0xC4      ldp     type:u16 a16:u4 s:u4             8     s16[s] <- input structured state
0xC5      lds     type:u16 a16:u4 s:u4             8     s16[s] <- output structured state
0xC6      ldf     type:u16 a16:u4 a64:u4           8     a64[dst] <- output fungible value
0xC8      ldg     type:u16 a8:u4 s:u4              8     s16[s] <- global state item
0xC9      ldc     type:u16 a32:u4 s:u4             8     fails (rgb-core: not implemented)
0xCA      ldm     type:u16 s:u4 pad:u4             6     s16[s] <- metadata of type
0xD0      pcvs    type:u16                         1024  sum(inputs) == sum(outputs)
0xD1      pcas    type:u16                         512   commit(a64[0]) == sum(outputs)
0xD2      pcps    type:u16 (displayed ``pcis``)    512   commit(a64[0]) == sum(inputs)
========  ======  ===============================  ====  ====================================

"Fails" is rgb-core's ``fail!()``: ``st0 = false`` and stop.  Every other byte of the extension
range decodes, in a library declaring ``RGB``, as RGB's one-byte failing op (complexity
2^64-1): ``ContractOp::Fail`` (shown ``fail    N``, N decimal) inside 0xC0..0xD3,
``TimechainOp::Fail`` in 0xDC..0xDF, ``RgbIsa::Fail`` (shown as the bare decimal byte)
elsewhere.  Type ids are shown ``0x%04X`` as rgb-core's ``AssignmentType``/``GlobalStateType``/
``MetaType`` display them.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from aluvm.errors import Panic
from aluvm.host.extensions import FAIL, Extension, ExtOp, Step
from aluvm.host.rgb.context import Assigns, OpContext, load_context
from aluvm.machine.registers import Registers

ISAE = "RGB"
_EMPTY = OpContext()
A8, A16, A32, A64 = 0, 1, 2, 3


def _ctx(host: Any) -> OpContext:
    return host if isinstance(host, OpContext) else _EMPTY


def _count(assigns: Optional[Assigns]) -> Optional[int]:
    return None if assigns is None else len(assigns.items)


# ---- counting -----------------------------------------------------------------------------

def cnp(regs: Registers, host: Any, ty: int, dst: int) -> Step:
    """Number of inputs of ``ty``; absent type -> a16[dst] = None (st0 untouched)."""
    regs.a[A16][dst] = _count(_ctx(host).prev_state.get(ty))
    return None


def cns(regs: Registers, host: Any, ty: int, dst: int) -> Step:
    """Number of outputs of ``ty``; absent type -> a16[dst] = None (st0 untouched)."""
    regs.a[A16][dst] = _count(_ctx(host).owned_state.get(ty))
    return None


def cng(regs: Registers, host: Any, ty: int, dst: int) -> Step:
    """Number of the operation's global items of ``ty`` into an a8 register.  rgb-core puts a
    u16 count there; the conversion asserts it fits (a count above 255 panics)."""
    items = _ctx(host).global_state.get(ty)
    if items is not None and len(items) > 0xFF:
        raise Panic("cng: global state count does not fit a8 (rgb-core's Number conversion asserts)")
    regs.a[A8][dst] = None if items is None else len(items)
    return None


def not_implemented(regs: Registers, host: Any, ty: int, *regs_: int) -> Step:
    """``cnc``/``ldc``: rgb-core v0.11.0-beta.6 has them as TODO and always fails."""
    return FAIL


# ---- loading --------------------------------------------------------------------------------

def _index(regs: Registers, code: int, idx: int) -> Optional[int]:
    return regs.a[code][idx]


def _structured(state: Mapping[int, Assigns], regs: Registers, ty: int, idx: int, dst: int) -> Step:
    index = _index(regs, A16, idx)
    assigns = state.get(ty)
    if index is None or assigns is None or assigns.kind != "structured" or index >= len(assigns.items):
        return FAIL
    regs.s[dst] = assigns.items[index]      # None when concealed
    return None


def ldp(regs: Registers, host: Any, ty: int, idx: int, dst: int) -> Step:
    """Input structured state #a16[idx] of ``ty`` into s16[dst]."""
    return _structured(_ctx(host).prev_state, regs, ty, idx, dst)


def lds(regs: Registers, host: Any, ty: int, idx: int, dst: int) -> Step:
    """Output structured state #a16[idx] of ``ty`` into s16[dst]."""
    return _structured(_ctx(host).owned_state, regs, ty, idx, dst)


def ldf(regs: Registers, host: Any, ty: int, idx: int, dst: int) -> Step:
    """Output fungible value #a16[idx] of ``ty`` into a64[dst] (None when concealed)."""
    index = _index(regs, A16, idx)
    assigns = _ctx(host).owned_state.get(ty)
    if index is None or assigns is None or assigns.kind != "fungible" or index >= len(assigns.items):
        return FAIL
    regs.a[A64][dst] = assigns.items[index].value
    return None


def ldg(regs: Registers, host: Any, ty: int, idx: int, dst: int) -> Step:
    """The operation's global state item #a8[idx] of ``ty`` into s16[dst]."""
    index = _index(regs, A8, idx)
    items = _ctx(host).global_state.get(ty)
    if index is None or items is None or index >= len(items):
        return FAIL
    regs.s[dst] = items[index]
    return None


def ldm(regs: Registers, host: Any, ty: int, dst: int) -> Step:
    """The operation's metadata of ``ty`` into s16[dst]."""
    meta = _ctx(host).metadata.get(ty)
    if meta is None:
        return FAIL
    regs.s[dst] = meta
    return None


# ---- Pedersen checks -------------------------------------------------------------------------

def _commitments(state: Any, ty: int) -> Optional[list[bytes]]:
    assigns = state.get(ty)
    if assigns is None or assigns.kind != "fungible":
        return None
    return [f.commitment for f in assigns.items]


def pcvs(regs: Registers, host: Any, ty: int) -> Step:
    """Sum of the input commitments of ``ty`` equals the sum of the output commitments."""
    ctx = _ctx(host)
    inputs = _commitments(ctx.prev_state, ty)
    if inputs is None:
        return FAIL
    outputs = _commitments(ctx.owned_state, ty)
    if outputs is None or not ctx.sums_equal(inputs, outputs):
        return FAIL
    return None


def _declared_sum(regs: Registers, ctx: OpContext, ty: int) -> Optional[bytes]:
    total = regs.a[A64][0]
    tag = ctx.asset_tags.get(ty)
    if total is None or tag is None:
        return None
    return ctx.commit(total, bytes(32), tag)   # BlindingFactor::EMPTY


def pcas(regs: Registers, host: Any, ty: int) -> Step:
    """commit(a64[0], zero blinding, asset tag of ``ty``) equals the sum of the outputs."""
    ctx = _ctx(host)
    total = _declared_sum(regs, ctx, ty)
    if total is None:
        return FAIL
    outputs = _commitments(ctx.owned_state, ty)
    if outputs is None or not ctx.sums_equal([total], outputs):
        return FAIL
    return None


def pcps(regs: Registers, host: Any, ty: int) -> Step:
    """commit(a64[0], zero blinding, asset tag of ``ty``) equals the sum of the inputs."""
    ctx = _ctx(host)
    total = _declared_sum(regs, ctx, ty)
    if total is None:
        return FAIL
    inputs = _commitments(ctx.prev_state, ty)
    if inputs is None or not ctx.sums_equal([total], inputs):
        return FAIL
    return None


# ---- the extension -------------------------------------------------------------------------

_COUNT = "ty:16 dst:5 pad:3:pad"
_LOAD = "ty:16 idx:4 dst:4"


def unclaimed_display(op: int) -> str:
    """rgb-core's display of an opcode RGB decodes but does not define."""
    if 0xC0 <= op <= 0xD3:
        return f"fail    {op}"          # ContractOp::Fail(u8)
    if 0xDC <= op <= 0xDF:
        return "Fail"                    # TimechainOp::Fail (unit variant, `display(inner)`)
    return str(op)                       # RgbIsa::Fail(u8), `display(inner)`


def prepare(regs: Registers, host: Any) -> None:
    """rgb-core sets a16[0] to the operation type (transitions and extensions) before a run."""
    if isinstance(host, OpContext) and host.op_type is not None:
        regs.a[A16][0] = host.op_type


OPS = (
    ExtOp(0xC0, "cnp", _COUNT, 2, cnp, "cnp     {x16:ty},a16{i:dst}"),
    ExtOp(0xC1, "cns", _COUNT, 2, cns, "cns     {x16:ty},a16{i:dst}"),
    ExtOp(0xC2, "cng", _COUNT, 2, cng, "cng     {x16:ty},a8{i:dst}"),
    ExtOp(0xC3, "cnc", _COUNT, 2, not_implemented, "cnc     {x16:ty},a16{i:dst}"),
    ExtOp(0xC4, "ldp", _LOAD, 8, ldp, "ldp     {x16:ty},a16{i:idx},{S:dst}"),
    ExtOp(0xC5, "lds", _LOAD, 8, lds, "lds     {x16:ty},a16{i:idx},{S:dst}"),
    ExtOp(0xC6, "ldf", _LOAD, 8, ldf, "ldf     {x16:ty},a16{i:idx},a64{i:dst}"),
    ExtOp(0xC8, "ldg", _LOAD, 8, ldg, "ldg     {x16:ty},a8{i:idx},{S:dst}"),
    ExtOp(0xC9, "ldc", _LOAD, 8, not_implemented, "ldc     {x16:ty},a32{i:idx},{S:dst}"),
    ExtOp(0xCA, "ldm", "ty:16 dst:4 pad:4:pad", 6, ldm, "ldm     {x16:ty},{S:dst}"),
    ExtOp(0xD0, "pcvs", "ty:16", 1024, pcvs, "pcvs    {x16:ty}"),
    ExtOp(0xD1, "pcas", "ty:16", 512, pcas, "pcas    {x16:ty}"),
    ExtOp(0xD2, "pcps", "ty:16", 512, pcps, "pcis    {x16:ty}", aliases=("pcps    {x16:ty}",)),
)

RGB = Extension(
    ISAE, OPS, unclaimed=unclaimed_display, load_context=load_context, prepare=prepare,
    version="rgb-core 0.11.0-beta.6",
    description="RGB 0.11 contract ops (rgb-core v0.11.0-beta.6); context: an operation's state",
)

#: rgb-core builds aluvm without the optional curve features
RGB_FEATURES: frozenset = frozenset()
