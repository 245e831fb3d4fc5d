"""`aluvm debug`: driven through a pseudo-terminal as a person would, and from stdin."""
from __future__ import annotations

import subprocess
import sys

import pexpect
import pytest

from conftest import ROOT

PROMPT = "(aluvm) "


def _aluvm(*args: str, stdin: str | None = None) -> str:
    r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", *args], input=stdin,
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _final_state(text: str) -> list[str]:
    """The state block `aluvm run` prints (from the `st0` line on)."""
    lines = [x.rstrip() for x in text.replace("\r", "").splitlines()]
    start = max(k for k, x in enumerate(lines) if x.startswith("st0  "))
    out = []
    for x in lines[start:]:
        if x.startswith(PROMPT.strip()):
            break
        out.append(x)
    return [x for x in out if x]


class Tty:
    """A debug session in a pseudo-terminal."""

    def __init__(self, *args: str) -> None:
        self.child = pexpect.spawn(sys.executable, ["-m", "aluvm.tools.cli", "debug", *args],
                                   cwd=str(ROOT), encoding="utf-8", timeout=60,
                                   dimensions=(40, 200))
        self.child.expect_exact(PROMPT)
        self.banner = self.child.before

    def do(self, line: str) -> str:
        self.child.sendline(line)
        self.child.expect_exact(PROMPT)
        out = self.child.before.replace("\r", "")
        return out.split("\n", 1)[1] if "\n" in out else out   # drop the echoed command

    def close(self) -> None:
        self.child.sendline("quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == 0


def test_tty_break_step_inspect_continue_matches_run() -> None:
    t = Tty("examples/counter.aluasm")
    try:
        assert "0000" in t.banner and "put     a64[0],0" in t.banner
        assert t.do("break loop").strip() == "breakpoint at 0010 (loop)"
        out = t.do("continue")
        assert out.startswith("0010  loop:") and "add.uc  a64[1],a64[0]" in out and "(breakpoint)" in out
        assert t.do("step").startswith("0013  loop+3:")
        assert t.do("print a64[0]").strip() == "a64[0] = 0x0000000000000001 (1)"
        assert t.do("print a64[9]").strip() == "a64[9] = ~ (undefined)"
        assert t.do("p ca0").strip() == "ca0 = 9"
        regs = t.do("regs")
        assert "a64[2]     0x000000000000000a (10)" in regs and "st0 true  cy0 0  ca0 9" in regs
        where = t.do("where")
        assert "=> 0013  loop+3:" in where
        dis = t.do("disasm 1")
        assert "B 0010  loop:" in dis and "=>  0013" in dis and "0016" in dis
        t.do("continue")                      # the second round stops at the breakpoint
        assert t.do("print a64[0]").strip() == "a64[0] = 0x0000000000000001 (1)"
        t.do("delete loop")
        final = t.do("continue")
        assert "program finished after" in final
    finally:
        t.close()
    assert _final_state(final) == _final_state(_aluvm("run", "examples/counter.aluasm"))


def test_tty_set_changes_the_run() -> None:
    t = Tty("examples/counter.aluasm")
    try:
        t.do("b 0x13")
        t.do("c")
        # sum <- counter + sum runs next: 100 instead of 0 adds 100 to the result (55)
        assert t.do("set a64[3]=100").strip() == "a64[3] = 0x0000000000000064 (100)"
        t.do("delete")
        final = t.do("continue")
        assert "a64[3]       0x000000000000009b" in final        # 155
        assert "error" in t.do("set a64[3]").lower()
        assert "unknown command" in t.do("frobnicate")
        assert t.do("step").strip().startswith("the program has finished")
        assert t.do("restart").startswith("0000")
        assert "a64[3] = ~" in t.do("print a64[3]")
    finally:
        t.close()


def test_script_from_stdin_next_over_routine_and_where() -> None:
    """subroutine.aluasm (spec profile): `next` steps over the routine, `where` inside it shows
    the return address on the call stack."""
    script = "\n".join([
        "break square", "continue", "where", "step", "step", "step", "restart",
        "break loop", "delete square", "continue", "step", "next", "print a64[4]", "delete",
        "continue", "quit"]) + "\n"
    out = _aluvm("debug", "--profile", "spec", "--reg", "a64[2]=3", "examples/subroutine.aluasm",
                 stdin=script)
    blocks = out.split(PROMPT)
    where = blocks[3]
    assert "square:" in where and "#0" in where and "(loop+" in where
    # after `ret` the routine returns to the instruction after `routine square`
    assert "add.uc  a64[4],a64[3]" in blocks[6]
    nxt = blocks[12]
    assert "add.uc  a64[4],a64[3]" in nxt           # `next` ran the whole routine
    assert blocks[13].strip() == "a64[4] = 0x0000000000000001 (1)"
    assert _final_state(out) == _final_state(
        _aluvm("run", "--profile", "spec", "--reg", "a64[2]=3", "examples/subroutine.aluasm"))


@pytest.mark.parametrize("args", [("--source", "examples/validate.aluasm", "examples/counter.aluasm"),
                                  ("--source", "/nonexistent.aluasm", "examples/counter.aluasm")])
def test_bad_source_is_a_one_line_error(args: tuple[str, ...]) -> None:
    r = subprocess.run([sys.executable, "-m", "aluvm.tools.cli", "debug", *args], input="quit\n",
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
