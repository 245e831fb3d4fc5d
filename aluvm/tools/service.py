"""The JSON request/response protocol of ``aluvm exec`` and ``aluvm conform``.

Requests and responses follow the format of ``shared/vectors`` (``request`` -> ``expect``), so
the same code drives the vector runner, the CLI and batch validation.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, BinaryIO, Callable, Iterator, Optional, Union

from aluvm import limits

from aluvm.isa import codec as bytecode
from aluvm.isa import table as isa
from aluvm.isa.reassemble import reassemble
from aluvm.isa.codec import Instr
from aluvm.errors import AluError, LibraryError
from aluvm.machine.interp import STRICT, Machine, Outcome, get_profile
from aluvm.library.ids import lib_id_display
from aluvm.library.lib import DEFAULT_ISAE, Lib
from aluvm.machine.registers import U64_MAX, Registers

Runner = Callable[[Lib, Registers, int, str], Outcome]


class RequestError(AluError):
    """A request line is malformed."""


def parse_line(raw: bytes) -> Any:
    """One JSON line of ``exec``/``batch``; :class:`RequestError` if it is too long, not UTF-8,
    not JSON, or nested deeper than :data:`limits.JSON_DEPTH_MAX`."""
    if len(raw) > limits.REQUEST_LINE_MAX:
        raise RequestError(f"line longer than {limits.REQUEST_LINE_MAX} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RequestError(f"line is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise RequestError(f"bad JSON: {e.msg}") from None
    except RecursionError:
        raise RequestError(f"JSON nested deeper than {limits.JSON_DEPTH_MAX} levels") from None
    if depth_exceeds(value, limits.JSON_DEPTH_MAX):
        raise RequestError(f"JSON nested deeper than {limits.JSON_DEPTH_MAX} levels")
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests deeper than ``limit`` levels."""
    level = [value]
    for _ in range(limit):
        nxt: list = []
        for v in level:
            if isinstance(v, dict):
                nxt.extend(v.values())
            elif isinstance(v, list):
                nxt.extend(v)
        if not nxt:
            return False
        level = nxt
    return True


def json_lines(fh: BinaryIO) -> Iterator[Union[Any, "RequestError"]]:
    """The non-blank lines of a binary stream, parsed: each a JSON value or the
    :class:`RequestError` that says why the line is not one.  A line over the size limit is
    skipped to its end without being held in memory; one bad line never ends the stream."""
    cap = limits.REQUEST_LINE_MAX
    while True:
        raw = fh.readline(cap + 1)
        if not raw:
            return
        if len(raw) > cap and not raw.endswith(b"\n"):
            while True:   # drain the rest of the oversized line
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield RequestError(f"line longer than {cap} bytes")
            continue
        if not raw.strip():
            continue
        try:
            yield parse_line(raw)
        except RequestError as e:
            yield e


def _int(req: dict, key: str, lo: int, hi: int, default: Optional[int]) -> Optional[int]:
    val = req.get(key, default)
    if val is None:
        return None
    if not isinstance(val, int) or isinstance(val, bool) or not lo <= val <= hi:
        raise RequestError(f"'{key}' must be an integer in [{lo}, {hi}]")
    return val


def registers_from_request(req: dict) -> Registers:
    regs = Registers()
    raw = req.get("regs", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RequestError("'regs' must be an object")
    for name, val in raw.items():
        if not isinstance(val, str):
            raise RequestError(f"register {name}: value must be a hex string")
        try:
            regs.set_named(name, bytes.fromhex(val))
        except ValueError as e:
            raise RequestError(str(e)) from None
    for key in ("st0", "cy0", "ca0"):
        if key in req and req[key] is None:
            raise RequestError(f"'{key}' must not be null")
    st0 = req.get("st0", True)
    if not isinstance(st0, bool):
        raise RequestError("'st0' must be a boolean")
    regs.st0 = st0
    regs.cy0 = _int(req, "cy0", 0, 0xFFFF, 0)  # type: ignore[assignment]
    regs.ca0 = _int(req, "ca0", 0, U64_MAX, 0)  # type: ignore[assignment]
    regs.cl0 = _int(req, "cl0", 0, U64_MAX, None)
    return regs


def library_from_request(req: dict) -> Lib:
    isae = req.get("isae")
    return Lib.with_(DEFAULT_ISAE if isae is None else isae, hex_field(req, "code"),
                     hex_field(req, "data"))


_MACHINES: "OrderedDict[tuple[bytes, object], Machine]" = OrderedDict()
_MACHINES_MAX = 64


def machine_for(lib: Lib, profile: str) -> Machine:
    """A cached machine per (library, profile): batch runs decode each library once."""
    key = (lib.id, profile if isinstance(profile, str) else id(profile))
    machine = _MACHINES.get(key)
    if machine is None:
        machine = Machine(get_profile(profile))
        machine.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
        _MACHINES[key] = machine
        while len(_MACHINES) > _MACHINES_MAX:
            _MACHINES.popitem(last=False)
    return machine


def interp_runner(lib: Lib, regs: Registers, entry: int, profile: str) -> Outcome:
    return machine_for(lib, profile).run(lib.id, entry, regs, check=False)


def state_dict(regs: Registers, outcome: Outcome, lib: Lib) -> dict[str, Any]:
    """The vectors' ``expect`` object for a run."""
    out: dict[str, Any] = {
        "ok": True,
        "st0": regs.st0,
        "cy0": regs.cy0,
        "ca0": regs.ca0,
        "cl0": regs.cl0,
        "cp0": regs.cp0,
        "cs0": [{"pos": regs.cs0[i].pos, "lib": regs.cs0[i].lib.hex()}
                if i in regs.cs0 else {"pos": 0, "lib": "00" * 32} for i in range(regs.cp0)],
        "regs": {k: v.hex() for k, v in regs.defined().items()},
        "lib_id": lib.id.hex(),
        "reason": outcome.reason,
    }
    if outcome.internal:
        out["internal_error"] = outcome.reason
    elif outcome.host_error:
        out["host_error"] = outcome.reason
    elif outcome.hang:
        out["aborted"] = True
    elif outcome.panicked:
        out["panic"] = outcome.reason
    else:
        out["exec_ret"] = regs.st0
    return out


def do_run(req: dict, profile: str, runner: Runner) -> dict[str, Any]:
    lib = library_from_request(req)
    regs = registers_from_request(req)
    entry = _int(req, "entry", 0, 0xFFFF, 0)
    outcome = runner(lib, regs, entry or 0, profile)
    return state_dict(regs, outcome, lib)


def display(ins: Instr) -> str:
    """The reference's display text of one instruction."""
    from aluvm.asm.display import instr_text  # the assembler package owns the text form
    return instr_text(ins)


def _decode_listing(code: bytes, data: bytes, profile: str
                    ) -> tuple[list[tuple[int, Instr]], Optional[str], bool]:
    prof = get_profile(profile)
    out: list[tuple[int, Instr]] = []
    pos = 0
    while pos < len(code):
        ins = bytecode.decode(code, pos, data, (), prof.table)
        if ins is None:
            return out, ("attempt to read or write outside of code segment "
                         f"(i.e. at position > 2^16) at offset {pos}"), False
        if ins.form.special == isa.PUT_S and ins.value is None:
            from aluvm.asm.disassembler import put_s_panic
            return out, put_s_panic(len(data), ins.args[1], ins.args[2]), False
        out.append((pos, ins))
        if ins.size == 0:
            return out, (f"decoder did not advance at offset {pos} (reference decodes this "
                         "without consuming it; execution would loop here)"), True
        pos += ins.size
    return out, None, False


def do_disasm(req: dict, profile: str) -> dict[str, Any]:
    code, data = hex_field(req, "code"), hex_field(req, "data")
    listing, error, _ = _decode_listing(code, data, profile)
    instrs = []
    for pos, ins in listing:
        item: dict[str, Any] = {"offset": pos, "bytes": code[pos:pos + max(ins.size, 1)].hex(),
                                "text": display(ins), "complexity": ins.form.cx}
        if ins.size == 0:
            item["no_advance"] = True
        instrs.append(item)
    return {"ok": True, "instrs": instrs, "error": error}


def do_reencode(req: dict, profile: str) -> dict[str, Any]:
    code, data = hex_field(req, "code"), hex_field(req, "data")
    listing, error, no_adv = _decode_listing(code, data, profile)
    if error is not None:
        error = ("decode: " + error) if not no_adv else error.split(" (")[0]
    lib = reassemble([ins for _, ins in listing], reference=get_profile(profile).name.startswith("reference"))
    return {"ok": True, "code": lib.code.hex(), "data": lib.data.hex(), "isae": lib.isae_string(),
            "n_instrs": len(listing), "decode_error": error}


# ---- the vectors' `info` request ---------------------------------------------------------

def hex_field(request: dict, key: str) -> bytes:
    """A hex-string field of a JSON request (absent or null = empty); LibraryError if malformed."""
    value = request.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LibraryError(f"{key} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise LibraryError(f"{key} is not valid hex") from None


def info(request: dict) -> dict:
    """The ``info`` op of the vectors: build ``Lib::with(isae, code, data, libs)`` and report
    its id.  ``isae`` defaults to :data:`DEFAULT_ISAE`; optional ``libs`` is a list of hex ids."""
    try:
        if not isinstance(request, dict):
            raise LibraryError("request must be an object")
        code = hex_field(request, "code")
        data = hex_field(request, "data")
        isae = request.get("isae")
        if isae is None:
            isae = DEFAULT_ISAE
        libs_hex = request.get("libs") or []
        if not isinstance(libs_hex, list) or not all(isinstance(x, str) for x in libs_hex):
            raise LibraryError("libs must be a list of hex strings")
        libs = []
        for x in libs_hex:
            try:
                libs.append(bytes.fromhex(x))
            except ValueError:
                raise LibraryError("libs entry is not valid hex") from None
        lib = Lib.with_(isae, code, data, libs)
    except LibraryError as exc:
        return {"ok": False, "error": str(exc)}
    return {
        "ok": True,
        "lib_id": lib.id.hex(),
        "lib_id_display": lib_id_display(lib.id),
        "isae": lib.isae_string(),
        "default_isae": DEFAULT_ISAE,
    }


def handle(req: Any, profile: str = "reference", runner: Runner = interp_runner) -> dict[str, Any]:
    """Answer one request; never raises.  Bad input is ``{"ok": false, "error": ...}``; a bug
    of this package is ``{"ok": false, "internal_error": ...}`` (raised under ``ALUVM_STRICT``),
    never dressed up as a bad request or as a reference behaviour."""
    try:
        if not isinstance(req, dict):
            raise RequestError("request must be a JSON object")
        op = req.get("op", "run")
        if op == "run":
            return do_run(req, profile, runner)
        if op == "disasm":
            return do_disasm(req, profile)
        if op == "reencode":
            return do_reencode(req, profile)
        if op == "info":
            return info(req)
        raise RequestError(f"unknown op {op!r}")
    except AluError as e:
        return {"ok": False, "error": str(e)}
    except Exception as e:
        if STRICT:
            raise
        return {"ok": False, "internal_error": f"{type(e).__name__}: {e}"}


__all__ = ["handle", "interp_runner", "state_dict", "lib_id_display"]
