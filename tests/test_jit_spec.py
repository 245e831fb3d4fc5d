"""The spec profile compiles everything its overrides do not touch.

Enumerated from the instruction table: every instruction form the JIT compiles under the
reference profile, over every value of its small fields (register families, flags, widths), must
compile under ``spec`` too - unless the spec override of its key declares
(``Profile.differs``) that it differs from the reference on those operands other than where the
reference panics.  And every spec override must carry such a declaration.
"""
from __future__ import annotations

import itertools

import pytest

from aluvm.isa import table as isa
from aluvm.isa.codec import encode
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.interp import REFERENCE, SPEC, Program
from aluvm.machine.registers import Registers
from aluvm.jit import codegen
from aluvm.jit.engine import jit_runner, last_stats
from aluvm.tools.service import interp_runner, state_dict

pytestmark = pytest.mark.usefixtures("jit_eager")


def _values(field: isa.Field) -> range | tuple[int, ...]:
    """Every value of a field that selects behaviour (<= 4 bits), two of the others."""
    if field.name == "pos":
        return (0,)
    return range(1 << field.bits) if field.bits <= 4 else (0, 1)


def _instances(form: isa.Form):
    fields = [f for f in form.fields if f.name in form.args]
    by_name = {f.name: f for f in fields}
    for combo in itertools.product(*(_values(by_name[n]) for n in form.args)):
        code = encode(form, list(combo))
        ref = Program(code, b"", (), bytes(32), REFERENCE).decode_at(0)
        spec = Program(code, b"", (), bytes(32), SPEC).decode_at(0)
        if ref is not None and spec is not None and ref.form.key == form.key:
            yield ref, spec


def test_every_spec_override_declares_where_it_differs() -> None:
    overridden = {k for k, op in SPEC.ops.items() if REFERENCE.ops.get(k) is not op}
    assert overridden, "the spec profile overrides nothing?"
    assert overridden <= set(SPEC.differs), sorted(overridden - set(SPEC.differs))


def test_spec_compiles_what_reference_compiles_unless_declared_different() -> None:
    ref_sup, spec_sup = codegen.make_supports(REFERENCE), codegen.make_supports(SPEC)
    compiled_both = checked = 0
    for form in isa.FORMS:
        if form.key not in codegen.SUPPORTED:
            continue
        for ref, spec in _instances(form):
            checked += 1
            if not ref_sup(ref):
                continue
            args = dict(zip(spec.form.args, spec.args))
            differs = any(r.covers(args) and not r.panics_only
                          for r in SPEC.differs.get(form.key, ()))
            assert spec_sup(spec) == (not differs), (form.key, args)
            compiled_both += not differs
    assert checked > 1000 and compiled_both > 1000


@pytest.mark.parametrize("code", [
    "2a0321" "020000",           # xor a64[0],a64[1] -> a64[2]; jmp 0
    "280321" "290321" "020000",  # and, or
    "240301" "020000",           # stp a64[1] (+1): the reference panics; spec adds
])
def test_spec_loops_run_native(code: str) -> None:
    lib = Lib.with_(DEFAULT_ISAE, bytes.fromhex(code), b"")
    regs = Registers()
    regs.a[3][0], regs.a[3][1] = 0x1234, 0x5678
    regs.cy0 = 60000
    r1, r2 = regs.copy(), regs.copy()
    o1, o2 = interp_runner(lib, r1, 0, "spec"), jit_runner(lib, r2, 0, "spec")
    assert state_dict(r1, o1, lib) == state_dict(r2, o2, lib)
    stats = last_stats()
    assert stats["fallback_instrs"] == 0 and stats["compiled_instrs"] >= 2


@pytest.mark.parametrize("reg,step,start", [
    (3, 1, 5), (3, -1, 70000), (3, -3, 100),          # a64: inc; dec; dec past zero
    (0, 1, 200), (0, 127, 0), (1, -128, 0x8000),      # a8 overflows mid-loop; a16
    (4, 5, (1 << 128) - 1000), (7, -7, 1 << 20),      # a128 overflows; a1024 (in place)
])
def test_spec_stp_loop_runs_native(reg: int, step: int, start: int) -> None:
    """``stp`` on a defined register under ``spec`` (the checked unsigned step) compiles and
    never leaves native code - also when the step overflows and the register becomes
    undefined - and ends in the interpreter's state."""
    stp = encode(isa.BY_KEY["stp"], [reg, 2, step])
    lib = Lib.with_(DEFAULT_ISAE, stp + bytes.fromhex("020000"), b"")
    regs = Registers()
    regs.a[reg][2] = start
    regs.cy0 = 65535 - 300
    r1, r2 = regs.copy(), regs.copy()
    o1, o2 = interp_runner(lib, r1, 0, "spec"), jit_runner(lib, r2, 0, "spec")
    assert state_dict(r1, o1, lib) == state_dict(r2, o2, lib)
    stats = last_stats()
    assert stats["fallback_instrs"] == 0 and stats["fallback_exits"] == 0, stats
    assert stats["interp_steps"] == 0 and stats["native_calls"] == 1, stats
