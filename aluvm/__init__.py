"""AluVM: a byte- and result-compatible implementation of rust-aluvm v0.11.0-beta.6.

The small public API::

    from aluvm import Lib, Registers, run
    lib = Lib.with_("ALU BPDIGEST ED25519 SECP256K", bytes.fromhex("200261020000"))
    regs = Registers(); regs.a[3][0] = 3; regs.a[3][1] = 5
    outcome = run(lib, regs)                      # interpreter, reference profile
    outcome = run(lib, regs, tier="jit")          # LLVM JIT, identical results

Multi-library programs pass the other libraries with ``libs=[...]``.
"""
from __future__ import annotations

from typing import Iterable, Optional

from aluvm.errors import AluError, AsmError, DecodeError, HostError, InputError, LibraryError, Panic, RegisterError
from aluvm.machine.interp import PROFILES, REFERENCE, SPEC, Machine, Outcome, Profile, get_profile
from aluvm.library.files import load_file, save_file
from aluvm.library.ids import lib_id_display
from aluvm.library.lib import DEFAULT_ISAE, Lib, lib_id
from aluvm.machine.registers import Registers

__all__ = [
    "AluError", "AsmError", "DecodeError", "HostError", "LibraryError", "Panic", "RegisterError",
    "Lib", "Registers", "Machine", "Outcome", "Profile", "PROFILES", "REFERENCE", "SPEC",
    "DEFAULT_ISAE", "lib_id", "lib_id_display", "load_file", "save_file", "run", "Batch",
    "BatchResult",
]


def __getattr__(name: str):
    """``Batch``/``BatchResult`` load numpy and the batch engine only when first used."""
    if name in ("Batch", "BatchResult"):
        from aluvm.tools import batch
        return getattr(batch, name)
    raise AttributeError(f"module 'aluvm' has no attribute {name!r}")


def run(lib: Lib, regs: Optional[Registers] = None, *, entry: int = 0,
        profile: str | Profile = "reference", tier: str = "interp",
        libs: Iterable[Lib] = (), host: object = None) -> Outcome:
    """Run ``lib`` from ``entry`` on ``regs`` (mutated in place; a fresh file if ``None``).

    ``host`` is the host context that extension ops of ``profile`` receive (for example an
    :class:`aluvm.host.rgb.OpContext`); it is stored in ``regs.host`` for this run only.

    Raises :class:`RegisterError` (an :class:`AluError`) if ``regs`` holds a value its register
    cannot hold or ``entry`` is not a u16; every other ending is an :class:`Outcome`."""
    regs = regs if regs is not None else Registers()
    regs.check()
    if entry.__class__ is not int or not 0 <= entry <= 0xFFFF:
        raise RegisterError(f"entry {entry!r}: not an offset in [0, 65535]")
    if host is not None:
        regs.host = host
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    others = list(libs)
    if tier == "jit":
        if not others and prof in (REFERENCE, SPEC):
            from aluvm.jit.engine import jit_runner   # cached per library: the batch fast path
            return jit_runner(lib, regs, entry, prof.name)
        from aluvm.jit.engine import JitMachine
        machine: Machine = JitMachine(prof)
    elif tier == "interp":
        if not others and prof in (REFERENCE, SPEC):
            from aluvm.tools.service import machine_for   # decoded once per library
            return machine_for(lib, prof.name).run(lib.id, entry, regs, check=False)
        machine = Machine(prof)
    else:
        raise InputError(f"unknown tier {tier!r}")
    for item in [lib, *others]:
        machine.add(item.code, item.data, item.libs, item.id, item.isae)
    return machine.run(lib.id, entry, regs, check=False)
