"""``aluvm debug``: a step debugger with a pdb/gdb-like prompt.

The session runs the interpreter (the reference semantics, exact counters) one instruction at a
time through :meth:`Program.run`'s ``until`` hook, so breakpoints cost nothing between them and
the final state is the one ``aluvm run`` prints.  Commands (``help`` lists them): ``step``,
``next`` (over a ``routine``/``call``), ``continue``, ``break OFFSET|LABEL``, ``delete``,
``print REG``, ``set REG=VALUE``, ``regs``, ``where``, ``disasm [N]``, ``restart``, ``quit``.
Labels come from the ``.aluasm`` source when the program is one (or ``--source`` names it).
Commands are read from the terminal or, for scripts and tests, from stdin.
"""
from __future__ import annotations

import cmd
import sys
from typing import IO, Any, Optional

from aluvm.errors import InputError, Panic
from aluvm.machine.interp import Machine, Outcome, Program, get_profile
from aluvm.machine.registers import LibSite, Registers
from aluvm.tools.jitstep import EVERYWHERE


class Session:
    """The debugged run: machine, registers, where execution stands, how it ended."""

    def __init__(self, lib: Any, regs: Registers, entry: int, profile: str,
                 labels: Optional[dict[str, int]] = None) -> None:
        self.lib = lib
        self.entry = entry
        self.initial = regs.copy()
        self.machine = Machine(get_profile(profile))
        self.machine.add(lib.code, lib.data, lib.libs, lib.id, lib.isae)
        self.labels = dict(labels or {})
        self.breakpoints: set[int] = set()
        self.restart()

    def restart(self) -> None:
        self.regs = self.initial.copy()
        self.site = LibSite(self.lib.id, self.entry)
        self.done: Optional[Outcome] = None
        self.steps = 0

    @property
    def prog(self) -> Optional[Program]:
        return self.machine.programs.get(self.site.lib)

    def advance(self, until: Any) -> None:
        """Run at least one instruction, then until a position in ``until`` (None: to the end)
        of the library execution is in, a transfer to another library, or the end - with the
        outcome :meth:`Machine.run` would give."""
        regs = self.regs
        while self.done is None:
            prog = self.prog
            if prog is None:            # S12, as Machine.run
                if self.machine.profile.missing_lib_fails:
                    regs.st0 = False
                self.done = Outcome(regs.st0, "library not found")
                return
            steps = [0]
            try:
                where, why, reached = prog.run_until(
                    regs, self.site.pos, frozenset() if until is None else until, steps)
            except Panic as p:
                regs.st0 = False
                self.done = (Outcome(False, f"aborted: {p.reason}", panicked=True, hang=True)
                             if p.hang else Outcome(False, f"panic: {p.reason}", panicked=True))
                return
            except Exception as e:  # an interpreter bug must not end the session
                regs.st0 = False
                self.done = Outcome(False, f"internal error: {type(e).__name__}: {e}", panicked=True)
                return
            finally:
                self.steps += steps[0]
            if reached is not None:
                self.site = LibSite(self.site.lib, reached)
                return
            if where is None:
                self.done = Outcome(regs.st0, why or "stopped")
                return
            self.site = where
            # a transfer (call, ret) counts as a step; it may also land on a stop
            if until is EVERYWHERE or (until is not None and where.lib == self.lib.id
                                       and where.pos in until):
                return

    def step(self) -> None:
        self.advance(EVERYWHERE)

    def next(self) -> None:
        """Over a ``routine``/``call``: stop at the instruction after it (or a breakpoint)."""
        prog = self.prog
        ins = prog.decode_at(self.site.pos) if prog is not None and self.site.pos < prog.limit else None
        if ins is None or not ins.form.flow.calls:
            self.step()
            return
        home = LibSite(self.site.lib, self.site.pos + ins.size)
        self.advance(self._stops() | {home.pos})
        while self.done is None and self.site != home and self.site.pos not in self._stops():
            self.advance(self._stops() | {home.pos})

    def cont(self) -> None:
        self.advance(self._stops())

    def _stops(self) -> frozenset[int]:
        return frozenset(self.breakpoints) if self.site.lib == self.lib.id else frozenset()

    # -- presentation ------------------------------------------------------------------------
    def label_of(self, pos: int) -> str:
        """``label`` or ``label+N`` (nearest label at or before ``pos``), or ''."""
        best = None
        for name, at in self.labels.items():
            if at <= pos and (best is None or at > best[1] or (at == best[1] and name < best[0])):
                best = (name, at)
        if best is None:
            return ""
        return best[0] if best[1] == pos else f"{best[0]}+{pos - best[1]}"

    def resolve(self, text: str) -> int:
        """An offset from a label, ``0x..`` or decimal text."""
        text = text.strip()
        if text in self.labels:
            return self.labels[text]
        try:
            value = int(text, 0)
        except ValueError:
            raise ValueError(f"no label or offset {text!r}"
                             + (f" (labels: {', '.join(sorted(self.labels))})" if self.labels else ""))
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"offset {value} is outside the code segment (0..65535)")
        return value

    def text_at(self, prog: Program, pos: int) -> tuple[str, int]:
        from aluvm.tools.service import display
        ins = prog.decode_at(pos) if pos < prog.limit else None
        if ins is None:
            return ("(end of code)" if pos >= prog.limit else "(truncated instruction)"), 0
        return display(ins), ins.size

    def listing(self, prog: Program) -> list[int]:
        """Instruction offsets: the linear decode from 0, and from the current offset when
        execution jumped into the middle of an instruction."""
        out, seen = [], set()
        for start in (0, self.site.pos):
            pos = start
            while pos < min(prog.limit, len(prog.code)) and pos not in seen:
                seen.add(pos)
                out.append(pos)
                ins = prog.decode_at(pos)
                if ins is None or ins.size == 0:
                    break
                pos += ins.size
        return sorted(out)

    def location(self) -> str:
        prog = self.prog
        if prog is None:
            return f"library {self.site.lib.hex()[:16]} (not loaded)"
        text, _ = self.text_at(prog, self.site.pos)
        lab = self.label_of(self.site.pos) if self.site.lib == self.lib.id else ""
        return f"{self.site.pos:04x}  {(lab + ':') if lab else '':<12}{text}"


def _value_text(name: str, raw: Optional[bytes]) -> str:
    if raw is None:
        return "~ (undefined)"
    if name.startswith("s16"):
        return f"0x{raw.hex()} ({len(raw)} bytes)"
    if name.startswith("a"):
        return f"0x{raw.hex()} ({int.from_bytes(raw, 'big')})"
    return "0x" + raw.hex()


class Debugger(cmd.Cmd):
    """The prompt.  Every error is one line; nothing a user types ends the session except
    ``quit`` (or end of input)."""

    prompt = "(aluvm) "

    def __init__(self, session: Session, stdin: Optional[IO[str]] = None,
                 stdout: Optional[IO[str]] = None, as_json: bool = False) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.s = session
        self.as_json = as_json
        self.use_rawinput = bool(stdin is None and sys.stdin.isatty())

    # -- plumbing ----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def preloop(self) -> None:
        self.say("aluvm debug: `help` lists the commands")
        self.say(self.s.location())

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        self.say(f"unknown command {line.split()[0]!r}: `help` lists the commands")

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except ValueError as e:
            self.say(f"error: {e}")
            return False

    def _moved(self) -> None:
        s = self.s
        if s.done is not None:
            self.finished()
        else:
            mark = " (breakpoint)" if s.site.pos in s._stops() else ""
            self.say(s.location() + mark)

    def finished(self) -> None:
        from aluvm.tools.cli import print_state
        from aluvm.tools.service import state_dict
        assert self.s.done is not None
        self.say(f"program finished after {self.s.steps} instructions: {self.s.done.reason}")
        import contextlib
        with contextlib.redirect_stdout(self.stdout):
            print_state(state_dict(self.s.regs, self.s.done, self.s.lib), self.as_json)
        self.stdout.flush()

    def _running(self) -> bool:
        if self.s.done is not None:
            self.say("the program has finished: `restart` runs it again")
            return False
        return True

    # -- execution ---------------------------------------------------------------------------
    def do_step(self, arg: str) -> bool:
        """step [N]: execute one instruction (or N)."""
        for _ in range(int(arg or "1", 0)):
            if not self._running():
                return False
            self.s.step()
        self._moved()
        return False

    def do_next(self, arg: str) -> bool:
        """next [N]: like step, but runs a routine/call to its return."""
        for _ in range(int(arg or "1", 0)):
            if not self._running():
                return False
            self.s.next()
        self._moved()
        return False

    def do_continue(self, arg: str) -> bool:
        """continue: run to the next breakpoint or to the end."""
        if self._running():
            self.s.cont()
            self._moved()
        return False

    def do_restart(self, arg: str) -> bool:
        """restart: back to the entry with the initial registers (breakpoints stay)."""
        self.s.restart()
        self.say(self.s.location())
        return False

    # -- breakpoints -------------------------------------------------------------------------
    def do_break(self, arg: str) -> bool:
        """break OFFSET|LABEL: stop before the instruction there; without an argument, list."""
        if not arg.strip():
            for pos in sorted(self.s.breakpoints):
                lab = self.s.label_of(pos)
                self.say(f"breakpoint at {pos:04x}" + (f" ({lab})" if lab else ""))
            if not self.s.breakpoints:
                self.say("no breakpoints")
            return False
        pos = self.s.resolve(arg)
        self.s.breakpoints.add(pos)
        lab = self.s.label_of(pos)
        self.say(f"breakpoint at {pos:04x}" + (f" ({lab})" if lab else ""))
        return False

    def do_delete(self, arg: str) -> bool:
        """delete [OFFSET|LABEL]: remove one breakpoint (all without an argument)."""
        if not arg.strip():
            self.s.breakpoints.clear()
        else:
            self.s.breakpoints.discard(self.s.resolve(arg))
        return False

    # -- state -------------------------------------------------------------------------------
    _CONTROL = ("st0", "cy0", "ca0", "cl0", "cp0")

    def do_print(self, arg: str) -> bool:
        """print REG: a register (a64[0], f32[1], r256[0], s16[2], st0, cy0, ca0, cl0, cp0)."""
        name = arg.strip()
        if name in self._CONTROL:
            val = getattr(self.s.regs, name)
            self.say(f"{name} = {str(val).lower() if isinstance(val, bool) else val}")
            return False
        self.say(f"{name} = {_value_text(name, self.s.regs.get_named(name))}")
        return False

    def do_set(self, arg: str) -> bool:
        """set REG=VALUE: a number (0x.., 0b.., decimal), hex bytes for s16, true/false for st0,
        ~ for undefined."""
        from aluvm.tools.cli import set_register
        name, sep, val = arg.partition("=")
        name, val = name.strip(), val.strip()
        if not sep or not name or not val:
            raise ValueError("expected set REG=VALUE, e.g. set a64[0]=0x05")
        regs = self.s.regs
        if name == "st0":
            if val not in ("true", "false"):
                raise ValueError("st0 is true or false")
            regs.st0 = val == "true"
        elif name in ("cy0", "ca0", "cl0", "cp0"):
            setattr(regs, name, None if name == "cl0" and val == "~" else int(val, 0))
        elif val == "~":
            regs.set_named(name, None)
        else:
            set_register(regs, name, val)
        return self.do_print(name)

    def do_regs(self, arg: str) -> bool:
        """regs: every defined register and the control registers."""
        r = self.s.regs
        self.say(f"st0 {str(r.st0).lower()}  cy0 {r.cy0}  ca0 {r.ca0}  cl0 {r.cl0}  cp0 {r.cp0}")
        for name, raw in r.defined().items():
            self.say(f"{name:<10} {_value_text(name, raw)}")
        return False

    def do_where(self, arg: str) -> bool:
        """where: the current library and offset, and the call stack (cs0 up to cp0)."""
        s, r = self.s, self.s.regs
        self.say(f"library {s.site.lib.hex()}" + ("" if s.site.lib == s.lib.id else " (called)"))
        self.say(f"=> {s.location()}")
        for k in range(r.cp0 - 1, -1, -1):
            site = r.cs0.get(k, LibSite(bytes(32), 0))
            lab = s.label_of(site.pos) if site.lib == s.lib.id else ""
            self.say(f"   #{k} {site.lib.hex()[:16]}.. {site.pos:04x}" + (f" ({lab})" if lab else ""))
        return False

    def do_disasm(self, arg: str) -> bool:
        """disasm [N]: the instructions around the current offset (N before and after, 4)."""
        s = self.s
        prog = s.prog
        if prog is None:
            self.say("no code here")
            return False
        n = int(arg or "4", 0)
        offsets = s.listing(prog)
        here = min(range(len(offsets)), key=lambda k: abs(offsets[k] - s.site.pos), default=0)
        for pos in offsets[max(0, here - n):here + n + 1]:
            text, _ = s.text_at(prog, pos)
            mark = "=>" if pos == s.site.pos else "  "
            bp = "B" if pos in s._stops() else " "
            lab = s.label_of(pos)
            lab = lab + ":" if lab and "+" not in lab else ""
            self.say(f"{mark}{bp} {pos:04x}  {lab:<12}{text}")
        return False

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger."""
        return True

    def do_EOF(self, arg: str) -> bool:
        self.say("")
        return True

    # short forms, as in pdb/gdb
    do_s = do_step
    do_n = do_next
    do_c = do_cont = do_continue
    do_b = do_break
    do_p = do_print
    do_bt = do_where
    do_l = do_list = do_disasm
    do_q = do_exit = do_quit
    do_run = do_restart


def labels_for(path: Optional[str], lib: Any, profile: str) -> dict[str, int]:
    """Labels of an ``.aluasm`` source, which must assemble to ``lib``."""
    if not path:
        return {}
    from pathlib import Path
    from aluvm.asm.assembler import assemble_program, read_source
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    program = assemble_program(read_source(p), str(p), profile=profile)
    if program.lib.id != lib.id:
        raise InputError(f"{path} does not assemble to this library (different library id)")
    return dict(program.labels)


__all__ = ["Session", "Debugger", "labels_for"]
