"""``aluvm analyze``: control-flow graph, dead code, certain failures, JIT coverage, and a sound
worst-case bound on ``ca0`` and ``cy0`` for a run from an entry.

The graph has one node per instruction offset reachable from the entry (jumps may land inside
an instruction: decoding restarts there, as in the machine) with edges

* *fall-through* to the next instruction (not counted in ``cy0``);
* *jump* to a field's target (``jmp``, ``jif`` taken, ``routine``): counted in ``cy0``;
* *return* (``spec`` profile ``ret``) to the return address of any reachable ``routine``.

An instruction may also end the run (``fail``, ``test``, ``ret``, a reserved opcode, a reference
panic, ``call``/``exec`` into another library - a single-library analysis does not follow them
- , the end of the code).

The bounds, for the complexity *added* by the run (``ca0`` after minus before) and the jumps
counted (``cy0`` after minus before):

* **loop-free** graph: the longest path, by complexity and by jumps - exact: the path is one the
  machine can take whenever its branch conditions can be met;
* **with cycles**: every cycle contains a jump or a return, the machine fails the jump that would
  take ``cy0`` past 65535, and each return matches an earlier ``routine``; so a run is at most
  ``1 + J`` straight-line segments (``1 + 2J`` with returns) where ``J = 65535 - cy0`` at the
  start.  Each segment costs at most the longest fall-through path from where it starts (the
  entry, a jump target, a return address), hence
  ``ca0 <= W(entry) + J * max W(jump target) [+ J * max W(return address)]`` and
  ``cy0 <= J``.

Both are saturated at 2^64-1 like the counter itself.  A reference ``nop`` never advances: the
run hangs (without ``cl0``) or ends with ``ca0 = cl0``; the bound then includes ``cl0``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from aluvm.errors import Panic
from aluvm.isa.codec import Instr
from aluvm.isa.table import PUT_S, RESERVED
from aluvm.machine.interp import JUMP_LIMIT, Profile, Program, get_profile
from aluvm.machine.registers import U64_MAX, Registers

FALL, JUMP, RETURN = "fall", "jump", "return"


@dataclass
class Node:
    """One reachable instruction offset."""

    pos: int
    text: str
    cx: int                               # complexity charged when it executes (0: it cannot)
    edges: list[tuple[int, str]] = field(default_factory=list)   # (target, FALL|JUMP|RETURN)
    exit_jumps: int = 0                   # call/exec: counts a jump, then leaves the library
    stops: bool = False                   # the run may end here
    fate: str = "ok"                      # ok | reserved | panic | hang | truncated | end
    compiled: Optional[bool] = None       # the JIT compiles it (None: nothing to compile)
    key: str = ""


@dataclass
class Bound:
    """Worst case of one counter: the bound on what a run adds, and how it is reached."""

    value: int
    exact: bool
    path: list[int]                       # loop-free: offsets of the worst path
    how: str


@dataclass
class Analysis:
    entry: int
    profile: str
    nodes: dict[int, Node]
    has_cycle: bool
    ca0: Bound
    cy0: Bound
    unreachable: list[tuple[int, str]]
    never_succeed: list[tuple[int, str, str]]          # (pos, text, why)

    @property
    def compiled(self) -> list[int]:
        return sorted(p for p, n in self.nodes.items() if n.compiled)

    @property
    def interpreted(self) -> list[int]:
        return sorted(p for p, n in self.nodes.items() if n.compiled is False)

    @property
    def tiny(self) -> bool:
        """The JIT tier's own rule: such a library runs in the interpreter (not compiled)."""
        from aluvm.jit.tiering import is_tiny
        return is_tiny(self.has_cycle, len(self.compiled))

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry, "profile": self.profile, "has_cycle": self.has_cycle,
            "nodes": [{"pos": n.pos, "text": n.text, "cx": n.cx, "fate": n.fate,
                       "stops": n.stops, "compiled": n.compiled,
                       "edges": [{"to": t, "kind": k} for t, k in n.edges]}
                      for n in sorted(self.nodes.values(), key=lambda n: n.pos)],
            "bounds": {name: {"value": b.value, "exact": b.exact, "path": b.path, "how": b.how}
                       for name, b in (("ca0", self.ca0), ("cy0", self.cy0))},
            "unreachable": [{"pos": p, "text": t} for p, t in self.unreachable],
            "never_succeed": [{"pos": p, "text": t, "why": w} for p, t, w in self.never_succeed],
            "jit": {"compiled": self.compiled, "interpreted": self.interpreted,
                    "whole_library_interpreted": self.tiny},
        }


# ---- the control-flow facts of one instruction -----------------------------------------------

def _flow(ins: Instr, pos: int, prog: Program) -> tuple[list[tuple[int, str]], int, bool]:
    """(edges, exit jumps, may stop) of a decoded instruction, from its table flow (``ret``
    edges are added later)."""
    flow = ins.form.flow
    target = ins.form.target(ins.args)
    edges = [] if target is None else [(target, JUMP)]
    if flow.falls:
        edges.append((pos + ins.size, FALL))
    return edges, int(flow.leaves), flow.stops


def _probe_panics(prog: Program, ins: Instr) -> bool:
    """The instruction's semantics panicked on an all-undefined and on an all-defined register
    file: a reference panic that does not depend on the state (``splt``/``ins``/``del``)."""
    op = prog.profile.ops.get(ins.form.key)
    if op is None or ins.form.special != "plain":
        return False
    for regs in (Registers(), _full_registers(1), _full_registers(0), _full_registers(0x7F)):
        try:
            op(regs, *ins.args)
        except Panic:
            continue
        except Exception:
            return False
        return False
    return True


def _full_registers(value: int) -> Registers:
    regs = Registers()
    for bank in (regs.a, regs.f, regs.r):
        for code in range(8):
            bank[code] = [value] * 32
    regs.s = [bytes([value, 2])] * 16
    return regs


# ---- building the graph ---------------------------------------------------------------------

def build(prog: Program, entry: int, supports: Any = None) -> dict[int, Node]:
    from aluvm.tools.service import display
    nodes: dict[int, Node] = {}
    returns: set[int] = set()
    rets: set[int] = set()
    work = [entry]
    while work:
        pos = work.pop()
        if pos in nodes:
            continue
        if pos >= prog.limit:
            nodes[pos] = Node(pos, "(end of code)", 0, stops=True, fate="end")
            continue
        ins = prog.decode_at(pos)
        if ins is None:
            nodes[pos] = Node(pos, "(truncated instruction)", 0, stops=True, fate="truncated")
            continue
        edges, exits, stops = _flow(ins, pos, prog)
        node = Node(pos, display(ins), ins.form.cx, edges, exits, stops, key=ins.form.key)
        if ins.form.special == RESERVED:
            node.fate = "reserved"
        elif ins.form.flow.stays:
            node.fate = "hang"
        elif ins.form.special == PUT_S and ins.value is None and not prog.profile.put_s_truncates:
            node.fate, node.cx, node.edges, node.stops = "panic", 0, [], True
        elif _probe_panics(prog, ins):
            node.fate, node.cx, node.edges, node.stops = "panic", 0, [], True
        if supports is not None:
            node.compiled = bool(supports(ins))
        nodes[pos] = node
        if ins.form.flow.calls and ins.form.flow.jumps and prog.profile.call_stack:
            returns.add(pos + ins.size)
            for r in rets:
                nodes[r].edges.append((pos + ins.size, RETURN))
            work.append(pos + ins.size)
        if ins.form.flow.returns and prog.profile.call_stack:
            rets.add(pos)
            node.edges.extend((r, RETURN) for r in sorted(returns))
        work.extend(t for t, _ in node.edges)
    return nodes


def _cyclic(nodes: dict[int, Node]) -> bool:
    """Whether the graph has a cycle (iterative three-colour DFS)."""
    state: dict[int, int] = {}
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(nodes[root].edges))]
        state[root] = 1
        while stack:
            v, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[v] = 2
                stack.pop()
                continue
            w = nxt[0]
            s = state.get(w, 0)
            if s == 1:
                return True
            if s == 0:
                state[w] = 1
                stack.append((w, iter(nodes[w].edges)))
    return False


def _topo(nodes: dict[int, Node]) -> list[int]:
    """Reverse topological order (sinks first) of an acyclic graph."""
    order: list[int] = []
    seen: set[int] = set()
    for root in sorted(nodes):
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(nodes[root].edges))]
        while stack:
            v, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                order.append(v)
                stack.pop()
                continue
            if nxt[0] not in seen:
                seen.add(nxt[0])
                stack.append((nxt[0], iter(nodes[nxt[0]].edges)))
    return order


def _sat(v: int) -> int:
    return min(v, U64_MAX)


def _longest(nodes: dict[int, Node], entry: int, weight: Any) -> tuple[int, list[int]]:
    """Longest path from ``entry`` in an acyclic graph; ``weight(node, edge_kind or None)``:
    what executing ``node`` and leaving it by that edge (None: the run ends there) adds."""
    best: dict[int, tuple[int, Optional[int]]] = {}
    for v in _topo(nodes):
        n = nodes[v]
        options: list[tuple[int, Optional[int]]] = []
        if n.stops or not n.edges:
            options.append((weight(n, None), None))
        for t, kind in n.edges:
            options.append((weight(n, kind) + best[t][0], t))
        best[v] = max(options, key=lambda o: o[0])
    path: list[int] = []
    at: Optional[int] = entry
    while at is not None:
        path.append(at)
        at = best[at][1]
    return _sat(best[entry][0]), path


def _segments(nodes: dict[int, Node]) -> dict[int, int]:
    """W(p): the most complexity a run of fall-through edges from ``p`` can add (each offset's
    fall-through successor lies after it, so this is a DAG)."""
    w: dict[int, int] = {}
    for v in sorted(nodes, reverse=True):
        n = nodes[v]
        falls = [t for t, k in n.edges if k == FALL and t > v]
        w[v] = n.cx + max((w[t] for t in falls), default=0)
    return w


def analyze(lib: Any, entry: int = 0, profile: str = "reference", cy0: int = 0,
            cl0: Optional[int] = None) -> Analysis:
    """Analyse ``lib`` for a run from ``entry`` starting with jump counter ``cy0``."""
    prof: Profile = get_profile(profile)
    prog = Program(lib.code, lib.data, lib.libs, lib.id, prof, lib.isae)
    try:
        from aluvm.jit.codegen import make_supports
        supports = make_supports(prof)
    except ImportError:          # pragma: no cover - the JIT is part of the package
        supports = None
    nodes = build(prog, entry, supports)
    budget = max(0, JUMP_LIMIT - cy0)
    cyclic = _cyclic(nodes)
    if not cyclic:
        ca_val, ca_path = _longest(nodes, entry, lambda n, k: n.cx)
        cy_val, cy_path = _longest(nodes, entry,
                                   lambda n, k: n.exit_jumps + (1 if k == JUMP else 0))
        cy_val = min(cy_val, budget)
        ca = Bound(ca_val, True, ca_path, "longest path (loop-free)")
        cyb = Bound(cy_val, True, cy_path, "most jumps on one path (loop-free)")
    else:
        w = _segments(nodes)
        targets = {t for n in nodes.values() for t, k in n.edges if k == JUMP}
        rets = {t for n in nodes.values() for t, k in n.edges if k == RETURN}
        wt = max((w[t] for t in targets), default=0)
        wr = max((w[t] for t in rets), default=0)
        ca = Bound(_sat(w[entry] + budget * wt + budget * wr), False, [entry],
                   f"{budget} jumps at most (cy0 limit {JUMP_LIMIT}): entry segment {w[entry]}"
                   f" + {budget} x {wt} (worst jump-target segment)"
                   + (f" + {budget} x {wr} (worst return segment)" if rets else ""))
        cyb = Bound(budget, False, [], f"the jump limit: {JUMP_LIMIT} - cy0 {cy0}")
    if any(n.fate == "hang" for n in nodes.values()) and cl0 is not None:
        ca = Bound(max(ca.value, cl0), ca.exact, ca.path, ca.how + "; a non-advancing nop "
                   "charges up to cl0")
    return Analysis(entry, profile, nodes, cyclic, ca, cyb, _unreachable(prog, nodes),
                    _never_succeed(nodes))


def _unreachable(prog: Program, nodes: dict[int, Node]) -> list[tuple[int, str]]:
    """Instructions of the linear decode from 0 that no run from the entry executes."""
    from aluvm.tools.service import display
    out, pos = [], 0
    end = min(prog.limit, len(prog.code))
    while pos < end:
        ins = prog.decode_at(pos)
        if ins is None:
            break
        if pos not in nodes:
            out.append((pos, display(ins)))
        if ins.size == 0:
            break
        pos += ins.size
    return out


_WHY = {"reserved": "reserved opcode: always fails (st0 = false, stop)",
        "panic": "the reference panics here whatever the registers",
        "hang": "the reference's nop never advances: the run hangs or exhausts cl0"}


def _never_succeed(nodes: dict[int, Node]) -> list[tuple[int, str, str]]:
    return [(n.pos, n.text, _WHY[n.fate]) for n in sorted(nodes.values(), key=lambda n: n.pos)
            if n.fate in _WHY]


# ---- output ---------------------------------------------------------------------------------

def to_dot(a: Analysis, labels: Optional[dict[str, int]] = None) -> str:
    """Graphviz DOT of the control-flow graph (jumps dashed, returns dotted)."""
    names = {v: k for k, v in (labels or {}).items()}
    lines = ["digraph aluvm {", '  node [shape=box, fontname="monospace"];']
    for n in sorted(a.nodes.values(), key=lambda n: n.pos):
        label = (f"{names[n.pos]}:\\n" if n.pos in names else "") + f"{n.pos:04x}  {n.text}"
        label = label.replace('"', '\\"')
        style = ', style=filled, fillcolor="#f4cccc"' if n.fate not in ("ok", "end") else ""
        if n.compiled is False:
            style += ", color=gray"
        lines.append(f'  n{n.pos} [label="{label}"{style}];')
        for t, kind in n.edges:
            attr = {FALL: "", JUMP: " [style=dashed]", RETURN: " [style=dotted]"}[kind]
            lines.append(f"  n{n.pos} -> n{t}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(a: Analysis, labels: Optional[dict[str, int]] = None) -> str:
    names = {v: k for k, v in (labels or {}).items()}
    out = [f"entry {a.entry:04x}, profile {a.profile}, "
           f"{len(a.nodes)} reachable offsets, {'has cycles' if a.has_cycle else 'loop-free'}"]
    out.append("control flow:")
    for n in sorted(a.nodes.values(), key=lambda n: n.pos):
        succ = ", ".join(f"{t:04x}" + ("" if k == FALL else f" ({k})") for t, k in n.edges)
        tags = []
        if n.stops:
            tags.append("may stop")
        if n.compiled is not None:
            tags.append("jit" if n.compiled else "interp")
        lab = names.get(n.pos, "")
        out.append(f"  {n.pos:04x}  {(lab + ':') if lab else '':<10}{n.text:<36} -> {succ or '-'}"
                   f"   [{', '.join(tags)}]")
    for name, b in (("ca0", a.ca0), ("cy0", a.cy0)):
        kind = "exact" if b.exact else "sound upper bound"
        out.append(f"{name} bound: +{b.value} ({kind}; {b.how})")
        if b.exact and b.path:
            out.append("  path: " + " ".join(f"{p:04x}" for p in b.path))
    out.append(f"unreachable: {len(a.unreachable)}")
    out += [f"  {p:04x}  {t}" for p, t in a.unreachable]
    out.append(f"never succeed: {len(a.never_succeed)}")
    out += [f"  {p:04x}  {t}  ({w})" for p, t, w in a.never_succeed]
    out.append(f"jit: {len(a.compiled)} compiled, {len(a.interpreted)} in the interpreter"
               + (": " + " ".join(f"{p:04x}" for p in a.interpreted) if a.interpreted else ""))
    if a.tiny:
        out.append("  (loop-free and small: `aluvm jit` leaves the whole library to the "
                   "interpreter unless ALUVM_JIT_EAGER=1)")
    return "\n".join(out) + "\n"


__all__ = ["analyze", "Analysis", "Bound", "Node", "to_dot", "to_text", "build"]
