"""The program: a traced graph as flat arrays, and its vectorised forward and backward.

``record`` runs fn once with the engine's tracing hook on; ``Program.trace`` keeps the
nodes the result depends on, checks each is what its op makes of its operands, gives every
constant, input, leaf Value and node a slot, and groups the nodes by level and op into
kernels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from microgrid import _numbers, engine
from microgrid import text as names
from microgrid.autograd import modes as switches
from microgrid.autograd import tracing
from microgrid.compiler.arguments import Flat, rebuild, unique
from microgrid.compiler.kernels import make_group
from microgrid.compiler.rules import BINARY_OPS, ENGINE_RULES, NUMPY_RULES, UNARY_OPS
from microgrid.engine import Value

__all__ = ['Program', 'const_key', 'needed', 'record', 'values_in']

_CUSTOM = 'custom'  # the operands of a node whose op this module cannot replay
# A Value, or one inside tracing.watch_reads() (a plain Value again when the trace is built)
_VALUES = (Value, tracing.Watched)
# The ops whose symbolic derivative (microgrid.autograd.symbolic) is a constant chosen by
# the sign of the operand: a trace of a gradient graph froze the choice (see pieces_of)
PIECEWISE = frozenset({'relu', 'abs', 'leaky_relu'})


def record(fn: Callable, call_args: list) -> tuple[list, Any]:
    """Call fn with the tracing hook on: (node, op, operands) per node made, and fn's result."""
    recorded: list = []

    def tracer(node: Value, operands: Any) -> None:
        recorded.append((node, node.op, _normalized(node.op, operands)))

    with tracing.trace(tracer):  # this thread only; records even under no_grad()
        out = fn(*call_args)
    return recorded, out


def _normalized(op: str, operands: Any) -> Any:
    """The operands as the replay wants them (constants as floats), copied now: the
    lists handed to sum() and dot() are the caller's and may change later."""

    def item(x: Any) -> Any:
        return x if type(x) in _VALUES else _numbers.to_float(x)

    if op in UNARY_OPS and len(operands) == 1 and type(operands[0]) in _VALUES:
        return [operands[0]]
    if op in BINARY_OPS and len(operands) == 2 and type(operands) is tuple:
        return [item(operands[0]), item(operands[1])]
    if op == 'sum' and type(operands) is list:
        return [item(x) for x in operands] or [0.0]
    if op == 'dot' and len(operands) == 2 and type(operands[0]) is list:
        ws, xs = operands
        if not ws:
            return [0.0], [0.0]
        return [item(w) for w in ws], [item(x) for x in xs]
    return _CUSTOM


def needed(recorded: list, out: Value) -> list:
    """The recorded nodes that out depends on, in the order they were made (topological)."""
    made = {id(r[0]): r for r in recorded}
    needed = {id(out)}
    stack = [out] if id(out) in made else []
    while stack:
        node, op, operands = made[id(stack.pop())]
        _check_rule(node, op, operands, only_known=True)
        for v in values_in(op, operands):
            if id(v) in made and id(v) not in needed:
                needed.add(id(v))
                stack.append(v)
    return [r for r in recorded if id(r[0]) in needed]


def values_in(op: str, operands: Any) -> list:
    """The Value operands of a recorded node (for dot: the ws, then the xs)."""
    items = operands[0] + operands[1] if op == 'dot' else operands
    return [x for x in items if type(x) is Value]


def _require_leaf(v: Value, what: str) -> None:
    if v._edges:
        raise ValueError(
            f"compile: fn uses {what}, {names.name_of(v)} (an '{v.op}' node made outside fn); "
            "a replay could not pass gradients on through it. Make it inside fn, or pass "
            "a leaf Value (or its .data as a number)"
        )


def _check_rule(node: Value, op: str, operands: Any, only_known: bool = False) -> None:
    """Raise unless node is what the engine's rule for op makes of its operands: a
    Value.from_op (a custom op) cannot be replayed, even under a built-in name."""
    if operands is _CUSTOM or op not in NUMPY_RULES:
        raise ValueError(
            f"compile: fn uses the op {op!r} on {names.name_of(node)}, made with "
            "Value.from_op: a custom op cannot be replayed. Run fn eagerly"
        )
    if only_known:
        return

    def data(x: Any) -> float:
        return x.data if type(x) is Value else x

    try:
        if op in UNARY_OPS:
            out, d = ENGINE_RULES[op](data(operands[0]))
            edges: tuple = (operands[0], d)
        elif op in BINARY_OPS:
            x, y = operands
            out, da, db = ENGINE_RULES[op](data(x), data(y))
            edges = (x, da) * (type(x) is Value) + (y, db) * (type(y) is Value)
        elif op == 'sum':
            out = math.fsum(map(data, operands))
            edges = tuple(e for x in operands if type(x) is Value for e in (x, 1.0))
        else:
            ws, xs = operands
            out = math.fsum(data(w) * data(x) for w, x in zip(ws, xs))
            edges = tuple(
                e
                for w, x in zip(ws, xs)
                for e in (w, data(x)) * (type(w) is Value) + (x, data(w)) * (type(x) is Value)
            )
    except (ArithmeticError, ValueError):
        out, edges = math.nan, ()
    same = len(edges) == len(node._edges) and all(
        (a is b) if type(a) is Value else _same_float(a, b) for a, b in zip(edges, node._edges)
    )
    tol = 1e-12 * max(1.0, abs(out)) if op in ('sum', 'dot') else 0.0
    if not same or not (_same_float(out, node.data) or abs(out - node.data) <= tol):
        raise ValueError(
            f"compile: {names.name_of(node)} says op {op!r} but is not what {op!r} makes "
            "of its operands (a Value.from_op under a built-in name?); it cannot be replayed"
        )


def _same_float(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


class Program:
    """A traced graph as flat arrays, and its vectorised forward and backward.

    Slots: constants, then inputs (the numbers of the arguments), then Value arguments,
    then the other Values fn read (parameters), then the nodes, group after group.
    """

    def __init__(self) -> None:
        self.n_slots = 0
        self.consts: Any = None
        self.inputs = slice(0, 0)
        self.args = slice(0, 0)
        self.params = slice(0, 0)
        self.param_values: list[Value] = []
        self.root = 0
        self.groups: list = []
        self.back: list[int] = []  # the groups backward visits (those that reach a leaf)
        self.ops: list[str] = []  # the ops of the nodes, in the order they were made
        self.pieces: Any = None  # the slots of the operands of PIECEWISE nodes
        self.guards: Any = None  # what the trace assumed (guards.Guards), set by api

    @classmethod
    def trace(cls, fn: Callable, args: tuple, flat: Flat, static_argnums: frozenset) -> Program:
        numbers = flat.numbers()
        placeholders = [Value(x) for x in numbers.tolist()]
        call_args = rebuild(args, static_argnums, placeholders, flat.values)
        recorded, out = record(fn, call_args)
        if type(out) is not Value:
            raise TypeError(f"compile: fn must return a Value (a scalar), got {type(out).__name__}")
        self = cls()
        self._build(recorded, out, placeholders, unique(flat.values))
        return self

    def _build(self, recorded: list, out: Value, placeholders: list, arg_values: list) -> None:
        nodes = needed(recorded, out)
        made = {id(r[0]) for r in recorded}
        for node, op, operands in nodes:
            _check_rule(node, op, operands)
        self.ops = [op for _, op, _ in nodes]

        # Leaf slots, after the constants: inputs, Value arguments, parameters.
        leaves: dict[int, int] = {}
        order: list[Value] = []
        for v in placeholders:
            leaves[id(v)] = len(order)
            order.append(v)
        for v in arg_values:
            _require_leaf(v, 'an argument')
            leaves[id(v)] = len(order)
            order.append(v)
        params: list[Value] = []
        for _, op, operands in nodes:
            for v in values_in(op, operands):
                if id(v) not in leaves and id(v) not in made:
                    _require_leaf(v, 'a Value it did not make')
                    leaves[id(v)] = len(order)
                    order.append(v)
                    params.append(v)
        if id(out) not in made and id(out) not in leaves:  # fn returned a Value it was given
            _require_leaf(out, 'a Value it did not make')
            leaves[id(out)] = len(order)
            order.append(out)
            params.append(out)
        consts: dict[tuple, int] = {}
        for _, op, operands in nodes:
            for c in (operands[0] + operands[1]) if op == 'dot' else operands:
                if type(c) is not Value:
                    consts.setdefault(const_key(c), len(consts))
        nc, ni, na = len(consts), len(placeholders), len(arg_values)
        self.consts = np.array([k[1] for k in consts], dtype=np.float64)
        self.inputs = slice(nc, nc + ni)
        self.args = slice(nc + ni, nc + ni + na)
        self.params = slice(nc + ni + na, nc + len(order))
        self.param_values = params
        slot_of = {k: nc + i for k, i in leaves.items()}

        def slot(x: Any) -> int:
            return slot_of[id(x)] if type(x) is Value else consts[const_key(x)]

        # Group the nodes by level and op; place the groups level by level.
        level: dict[int, int] = {}
        groups: dict[tuple, list] = {}
        for rec in nodes:
            node, op, operands = rec
            lvl = 1 + max((level.get(id(v), 0) for v in values_in(op, operands)), default=0)
            level[id(node)] = lvl
            kind = (op, len(operands[0])) if op == 'dot' else (op, 0)
            groups.setdefault((lvl, kind), []).append(rec)
        n_slots = nc + len(order) + len(nodes)
        wanted = np.zeros(n_slots, dtype=bool)  # does this slot need a gradient?
        wanted[self.args.start : self.params.stop] = True
        start = nc + len(order)
        built = []
        placed = sorted(groups.items(), key=lambda kv: kv[0][0])  # by level (stable)
        for (_, (op, _)), members in placed:
            group, members = make_group(op, members, start, slot, wanted)
            for j, (node, _, operands) in enumerate(members):
                slot_of[id(node)] = start + j
                wanted[start + j] = any(wanted[slot(v)] for v in values_in(op, operands))
            start += len(members)
            built.append(group)
        self.n_slots = n_slots
        self.groups = built
        self.back = [i for i, gr in enumerate(built) if wanted[gr.s : gr.e].any()][::-1]
        self.root = slot(out)
        self.pieces = np.array(
            [slot(operands[0]) for _, op, operands in nodes if op in PIECEWISE], dtype=np.intp
        )

    # -- running --------------------------------------------------------------

    def forward(self, numbers: Any, arg_values: list) -> tuple:
        v = np.empty(self.n_slots)
        nc = self.consts.size
        v[:nc] = self.consts
        v[self.inputs] = numbers
        if arg_values:
            v[self.args] = [a.data for a in unique(arg_values)]
        if engine._hooks:  # a watch_reads() may be open: read through .data, to be noted
            v[self.params] = [p.data for p in self.param_values]
        else:  # none is: the slot behind .data, three times faster than the property
            v[self.params] = [p._data for p in self.param_values]
        saved: list = []
        for group in self.groups:
            group.forward(v, saved)
        return v, saved

    def run(self, flat: Flat) -> tuple[float, Any]:
        """The result of one call, and what its backward needs (None under no_grad())."""
        v, saved = self.forward(flat.numbers(), flat.values)
        if engine._hooks and not switches.is_grad_enabled():  # as eager under no_grad()
            return float(v[self.root]), None
        return float(v[self.root]), (saved, flat.values, v)

    def pieces_of(self, run: tuple) -> bytes:
        """Where the operand of each relu, abs and leaky_relu node of a run lies: -1, 0, 1
        for its sign, 2 for NaN. A trace of ``grad(..., create_graph=True)`` holds those
        ops' derivatives as constants chosen by it (1.0 or 0.0 for relu): a replay in which
        it differs needs a new trace (compiler.second_order)."""
        x = run[2][self.pieces]
        s = np.sign(x)
        s[np.isnan(x)] = 2.0
        return s.astype(np.int8).tobytes()

    def gradients(self, run: tuple, grad: float) -> Any:
        """Backward through the groups: the gradient of every slot (read the Value
        arguments' at ``self.args``), without touching any ``.grad``."""
        saved = run[0]
        g = np.zeros(self.n_slots)
        g[self.root] = grad
        groups = self.groups
        for i in self.back:
            groups[i].backward(g, saved[i])
        return g

    def backward(self, run: tuple, grad: float) -> None:
        """Add the gradients to the .grad of the Value arguments and the parameters."""
        arg_values = run[1]
        g = self.gradients(run, grad)
        if arg_values:
            for a, x in zip(unique(arg_values), g[self.args].tolist()):
                a.grad += x
        for p, x in zip(self.param_values, g[self.params].tolist()):
            p.grad += x


def const_key(c: float) -> tuple:
    # 0.0 and -0.0 are different constants; NaN is one constant
    return ('nan', math.nan) if c != c else (math.copysign(1.0, c), c)
