"""The microgrid engine: backpropagation in one file, read top to bottom.

A Value holds one number, ``data``. A Value made by an operation also remembers where
it came from: for each parent (operand), the *local derivative* d(node)/d(parent),
worked out in the forward pass by the rule for its op. ``backward()`` puts the graph
in topological order (every node after its parents) and walks it in reverse,
repeating one line of the chain rule for every edge:

    parent.grad += local_derivative * node.grad

(A node whose grad is 0 adds 0 to each parent: backward skips it where that is exact.)
That is all of backpropagation. Here: 1. the rules, ``OPS``; 2. the Value; 3. ``sum()``
and ``dot()`` (``dots()``, a layer's); 4. ``topological_order()``; 5. the switches' seam.
Numbers in and domain errors live in _numbers.py; the rest in microgrid.autograd.
"""

from __future__ import annotations

import builtins
import math
import operator
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from microgrid import _dot
from microgrid import _numbers as num
from microgrid._micrograd import MicrogradNames

__all__ = ['OPS', 'Value', 'dot', 'dots', 'sum', 'switch_hooks', 'topological_order']


# -- 1. The rules: floats in, (result, d result/d operand...) out; NaN in, NaN out (a == a) --


def _exp(a: float) -> tuple:
    e = num.exp(a)
    return e, e


def _sqrt(a: float) -> tuple:
    s = num.sqrt(a)
    return s, (0.5 / s if s else math.copysign(math.inf, s))  # -inf at -0.0, as torch


def _tanh(a: float) -> tuple:
    t = math.tanh(a)
    return t, 1.0 - t * t


def _sigmoid(a: float) -> tuple:
    s = num.logistic(a)  # 1 / (1 + e^-a), without overflow
    return s, s * (1.0 - s)


OPS: dict[str, Callable[..., tuple]] = {
    '+': lambda a, b: (a + b, 1.0, 1.0),
    '-': lambda a, b: (a - b, 1.0, -1.0),
    '*': lambda a, b: (a * b, b, a),
    '/': lambda a, b: (num.div(a, b), 1.0 / b, -a / b / b),
    '**': num.power_rule,  # (a ** b, b * a ** (b-1), a ** b * log(a)), at their limits
    'leaky_relu': lambda a, k: (a, 1.0, 0.0) if a > 0 else (k * a, k if a == a else a, a),
    'neg': lambda a: (-a, -1.0),
    'abs': lambda a: (abs(a), (a > 0) - (a < 0) + 0.0 if a == a else a),
    'exp': _exp,
    'log': lambda a: (num.log(a), 1.0 / a),
    'sqrt': _sqrt,
    'tanh': _tanh,
    'sigmoid': _sigmoid,
    # relu: 0 * inf = NaN where PyTorch masks to 0: a mask costs a test on every edge
    'relu': lambda a: (a, 1.0) if a > 0 else ((0.0, 0.0) if a == a else (a, a)),
    'softplus': lambda a: (max(a, 0.0) + math.log1p(math.exp(-abs(a))), num.logistic(a)),
    'sin': lambda a: (num.sin(a), math.cos(a)),
    'cos': lambda a: (num.cos(a), -math.sin(a)),
    'sum': lambda xs: (builtins.sum(xs, 0.0), [1.0] * len(xs)),
    'dot': lambda ws, xs: (builtins.sum(map(operator.mul, ws, xs), 0.0), xs, ws),
}
"""Every op, by name, and its rule: floats in, (result, d result/d each operand) out."""
# The ops whose local derivatives are finite wherever their result is. backward() skips a
# node of these whose grad is 0 (most of a relu network's, where a unit or a point is
# inactive): 0 * local would add 0. Not 1/b of a / b, nor sqrt'(0), log'(tiny), pow's: they
# can be inf under a finite result, and 0 * inf must give NaN, as in PyTorch.
_FINITE_LOCALS = frozenset(OPS) - {'/', '**', 'log', 'sqrt'}


# -- 2. The Value: its operators are made here, the class below lists them by name ------
def _binary_methods(op: str) -> tuple[Callable, Callable]:
    """self op other, and other op self (Python calls the second for 2 * x). The rule is
    looked up once, here (plain version: OPS[op] in _binary, on every call)."""
    rule = OPS[op]

    def forward(self: Value, other: Any) -> Value:
        return _binary(self, other, op, rule)

    def reflected(self: Value, other: Any) -> Value:
        return _binary(other, self, op, rule)

    return forward, reflected


def _unary_method(op: str, name: str = '') -> Callable[[Value], Value]:
    rule = OPS[op]

    def method(self: Value) -> Value:  # one operand, one edge
        out, d = rule(self._data)
        return _node(out, op, (self, d), _hooks and (self,))

    method.__name__, method.__qualname__ = name or op, f"Value.{name or op}"  # for pickle
    return method


class Value(MicrogradNames):
    """One number in a computation graph: ``data``, and ``grad`` = d(root)/d(this) after
    ``root.backward()``; ``op`` names the op that made it ('' for a leaf). Truth is
    ``data != 0``, as in PyTorch. Subclasses may add ops; an op's result is a plain Value."""

    # _edges: (p0, d0, p1, d1, ...), each parent then its local derivative; _meta: rare extras
    __slots__ = ('_data', 'grad', 'label', 'op', '_edges', '_meta')
    _edges: tuple
    _meta: dict | None

    def __init__(self, data: Any, label: str = '', _op: Any = None, **micrograd: Any) -> None:
        if _op is not None or micrograd or not isinstance(label, str):
            num.refuse_value_args(label)
        self._data, self.grad, self.label = num.to_float(data), 0.0, label
        self.op, self._edges, self._meta = '', (), None

    def _set_data(self, x: Any) -> None:  # the getter: attrgetter, `lambda self: self._data` in C
        self._data = x if type(x) is float else num.to_float(x)

    data = property(operator.attrgetter('_data'), _set_data, doc="The number, always a float.")
    parents = property(lambda self: self._edges[0::2], doc="The Values it was computed from.")
    local_grads = property(lambda self: self._edges[1::2], doc="d(this)/d(parent), each parent.")

    @property
    def grad_value(self) -> Value | None:
        """A leaf's gradient as a Value, from ``backward(create_graph=True)``, else None."""
        return self._meta.get('grad_value') if self._meta else None

    @grad_value.setter
    def grad_value(self, g: Value | None) -> None:
        if g is not None and not isinstance(g, Value):
            raise TypeError(f"grad_value must be a Value or None, got {type(g).__name__}")
        self._meta = _dot.with_entry(self._meta, 'grad_value', g)

    def propagate(self) -> None:
        """This node's share of backward: each parent.grad += local * self.grad."""
        edges = iter(self._edges)
        for parent, local in zip(edges, edges):  # pairs (parent, d self/d parent)
            parent.grad += local * self.grad

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Fill ``grad`` of every node this one depends on, by the chain rule. As in
        PyTorch, interior nodes hold the latest call's result; leaves accumulate.
        create_graph=True also leaves each leaf's gradient as a Value, ``grad_value``."""
        if create_graph:  # the same pass in Values, so it can be differentiated again
            from microgrid.autograd.functional import backward_with_graph

            return backward_with_graph(self, grad)
        order = topological_order(self)
        for node in order:  # a fresh pass: interior grads start from 0
            node.grad = 0.0
        self.grad += num.to_float(grad)
        if _hooks and _on_backward(order):  # detect_anomaly() ran a checked pass
            return
        for node in reversed(order):  # node.propagate(), written out: the hot loop
            g = node.grad
            if not g and node.op in _FINITE_LOCALS and math.isfinite(node._data):
                continue  # plain: no test; 0 * local adds 0 (see _FINITE_LOCALS)
            edges = iter(node._edges)
            for parent, local in zip(edges, edges):
                parent.grad += local * g

    def backward_steps(self, grad: Any = 1.0) -> Iterator[Any]:
        """backward(), one chain-rule application at a time: yields a Step per edge."""
        from microgrid.autograd.steps import backward_steps

        return backward_steps(self, grad)

    @staticmethod
    def from_op(data: Any, parents: Iterable[Value], local_grads: Iterable[Any], op: str) -> Value:
        """Make your own op: a node with the given data, parents and local derivatives.
        An op named as one of OPS must keep to its rule (backward trusts _FINITE_LOCALS)."""
        parents = tuple(parents)  # the edges: (p0, d0, p1, d1, ...), the arguments checked
        return _node(num.to_float(data), op, num.edges_of(op, parents, local_grads, Value), parents)

    # -- arithmetic and functions: each line picks a rule; constants are not nodes --------
    __add__, __radd__ = _binary_methods('+')
    __sub__, __rsub__ = _binary_methods('-')
    __mul__, __rmul__ = _binary_methods('*')
    __truediv__, __rtruediv__ = _binary_methods('/')
    __pow__, __rpow__ = _binary_methods('**')  # a constant base or exponent goes in _meta
    __neg__, __abs__ = _unary_method('neg', '__neg__'), _unary_method('abs', '__abs__')
    exp, log, sqrt = _unary_method('exp'), _unary_method('log'), _unary_method('sqrt')
    tanh, sigmoid = _unary_method('tanh'), _unary_method('sigmoid')
    relu, softplus = _unary_method('relu'), _unary_method('softplus')
    sin, cos = _unary_method('sin'), _unary_method('cos')
    __pos__ = lambda self: self

    def leaky_relu(self, slope: Any = 0.01) -> Value:
        """x for x > 0, slope * x otherwise."""
        if not isinstance(slope, Value):
            slope = num.to_float(slope, 'leaky_relu slope')
        return _binary(self, slope, 'leaky_relu', OPS['leaky_relu'])

    # -- comparisons and truth look at data (for max(), sorting, if statements) ------------
    __lt__ = lambda self, other: self._data < _data(other)
    __le__ = lambda self, other: self._data <= _data(other)
    __gt__ = lambda self, other: self._data > _data(other)
    __ge__ = lambda self, other: self._data >= _data(other)
    __hash__ = object.__hash__  # identity, so Values work in sets and dicts

    def __bool__(self) -> bool:
        return self._data != 0

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        label = f"{self.label!r}, " if self.label else ''
        op = f", op={self.op!r}" if self.op else ''
        return f"Value({label}data={self._data:.6g}, grad={self.grad:.6g}{op})"

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """copy.deepcopy and pickle: leaves only, as in PyTorch (microgrid.autograd.copying)."""
        from microgrid.autograd.copying import reduce_value

        return reduce_value(self)

    # micrograd's names: _backward here, for backprop by hand node by node as in the
    _backward = propagate  # lecture; _prev and _op from the base class (_micrograd.py)


# -- making nodes: each op's result, with its edges -------------------------------------
_new_value = object.__new__  # a node skips __init__'s checks: the rules give floats


def _node(data: float, op: str, edges: tuple, operands: Any = ()) -> Value:
    v = _new_value(Value)
    v._data = data
    v.grad = 0.0
    v.label = ''
    v.op = op
    v._edges = edges
    v._meta = None
    if _hooks:
        _on_create(v, operands)
    return v


def _binary(x: Any, y: Any, op: str, rule: Callable) -> Any:
    """Apply a two-operand rule; either side may be a plain number (a constant)."""
    a = x._data if type(x) is Value else _operand(x)  # exact type first: the fast path
    b = y._data if type(y) is Value else _operand(y)
    if a is None or b is None:
        return NotImplemented
    out, da, db = rule(a, b)
    operands = _hooks and (x, y)  # only the hooks need them
    if type(y) is Value or (type(y) is not float and isinstance(y, Value)):  # float: quick
        if type(x) is Value or (type(x) is not float and isinstance(x, Value)):
            return _node(out, op, (x, da, y, db), operands)
        node = _node(out, op, (y, db), operands)
        if op == '**' and node._edges:  # keep pow's constant base, which no edge records
            node._meta = _dot.with_entry(node._meta, 'base', a)
        return node
    node = _node(out, op, (x, da), operands)
    if op == '**' and node._edges:  # and its constant exponent (x ** 2)
        node._meta = _dot.with_entry(node._meta, 'exponent', b)
    return node


def _operand(x: Any) -> float | None:  # a subclass's data, or a number as a float, or None
    return x._data if isinstance(x, Value) else num.number(x)


def _data(x: Any) -> float:  # the same, or a TypeError
    return x._data if isinstance(x, Value) else num.to_float(x)


def _constant(x: Any, op: str, met: list) -> float:  # a number in sum() or dot(), noted in met
    if type(x) is not float and isinstance(x, Value):  # a subclass of Value
        return x._data
    met.append(x)
    return x if type(x) is float else num.to_float(x, op)


# -- 3. many inputs, one node -----------------------------------------------------------
def sum(values: Iterable[Any]) -> Value:  # microgrid.sum, as torch.sum
    """The sum of values as ONE node whose parents are all the Value inputs."""
    values = values if type(values) is list else list(values)
    constants: list = []  # the numbers among values: they are added but get no edge
    data = [v._data if type(v) is Value else _constant(v, 'sum', constants) for v in values]
    parents = [v for v in values if isinstance(v, Value)] if constants else values
    total = builtins.sum(data, 0.0)  # plain: total, _ = OPS['sum'](data), without its list
    edges: list = [1.0] * (2 * len(parents))  # (p0, 1.0, p1, 1.0, ...): d sum/d p = 1
    edges[0::2] = parents
    return _node(total, 'sum', tuple(edges), values)


def dot(ws: Iterable[Any], xs: Iterable[Any]) -> Value:
    """sum(w * x) as ONE node: d/dw_i = x_i and d/dx_i = w_i."""
    return dots([ws], xs)[0]


def dots(wss: Iterable[Iterable[Any]], xs: Iterable[Any]) -> list[Value]:
    """[dot(ws, xs) for ws in wss], reading the numbers of xs once (a layer's neurons)."""
    xs = xs if type(xs) is list else list(xs)
    xk: list = []  # the numbers among xs, and below among ws: they get no edge
    xd = [x._data if type(x) is Value else _constant(x, 'dot', xk) for x in xs]
    nodes, n, edges_of = [], len(xs), _dot.layout(xs, xd, len(xk), Value)  # see below
    for ws in wss:
        ws = ws if type(ws) is list else list(ws)
        if len(ws) != n:
            raise ValueError(f"dot: the two sequences differ in length ({len(ws)} and {n})")
        try:  # speed: weights are Values (plain: the test below, on each); a number has no _data
            wd, w_constants = [w._data for w in ws], 0
        except AttributeError:
            wk: list = []
            wd = [w._data if type(w) is Value else _constant(w, 'dot', wk) for w in ws]
            w_constants = len(wk)
        total = builtins.sum(map(operator.mul, wd, xd), 0.0)  # plain: OPS['dot'](wd, xd)[0]
        # plain version: for each i, (w_i, xd_i) if w_i is a Value, then (x_i, wd_i) if x_i is
        edges, record = edges_of(ws, wd, w_constants)  # and a record of the numbers, or None
        node = _node(total, 'dot', edges, _hooks and (ws, xs))
        nodes.append(node)
        if record is not None:  # which operands were numbers, for create_graph
            node._meta = record if node._meta is None else {**node._meta, **record}
    return nodes


# -- 4. The order of backward: every node after all of its parents ----------------------
def topological_order(root: Value) -> list[Value]:
    """The interior nodes root depends on, each after all of its parents; root last.
    Plain version, by recursion: visit(n): unless seen, mark n, visit its parents, append n.
    Here: an explicit stack, so a chain of any depth works."""
    order: list[Value] = []
    stack: list = [root] if root._edges else []
    seen = set()  # interior nodes once expanded, leaves once met
    try:  # a node goes back on the stack under a None marker, its parents on top: when
        while stack:  # the marker comes off, every parent is placed
            node = stack.pop()
            if node is None:
                order.append(stack.pop())
            elif node not in seen:  # (a node pushed twice is expanded once)
                seen.add(node)
                edges = node._edges
                if len(edges) == 2:  # speed: one parent (an activation's), no loop
                    p = edges[0]
                    if p in seen or not p._edges:
                        seen.add(p)
                        order.append(node)
                    elif seen.issuperset(p._edges[0::2]):  # and the parent's are placed
                        seen.add(p)
                        order += (p, node)
                    else:
                        stack += (node, None, p)
                    continue
                parents = edges[0::2]
                if seen.issuperset(parents):  # speed: often all placed, so place it now
                    order.append(node)  # (plain: no test, the marker below does the same)
                    continue
                stack += (node, None)
                for p in reversed(parents):  # reversed: the first parent comes off first
                    if p in seen:
                        continue
                    if p._edges:  # an interior parent to expand
                        stack.append(p)
                    else:  # a leaf: mark it, it has nothing to order
                        seen.add(p)
    except AttributeError:  # a parent with no _edges (dot takes a weight by its _data)
        bad = [type(p).__name__ for p in node._edges[0::2] if not isinstance(p, Value)]
        if not bad:
            raise
        raise TypeError(f"the parents of {node!r} must be Values, got {bad}") from None
    return order


_topological_order = topological_order  # the older name, which lessons import

# -- 5. The seam for the switches ---------------------------------------------------------
_hooks = 0  # how many threads have a switch on; 0 means node creation costs one test
_on_create: Any = None  # (node, operands) -> None, for each node made
_on_backward: Any = None  # (order) -> True if it ran the backward pass itself
_hooks_lock = threading.Lock()


def switch_hooks(on: bool, on_create: Any = None, on_backward: Any = None) -> None:
    """The one way in for the switches (microgrid.autograd.modes): ``switch_hooks(True,
    on_create, on_backward)`` counts one more thread with a switch on, ``switch_hooks(False)``
    one fewer. While the count is above 0, each node made goes to on_create(node, operands),
    and backward asks on_backward(order) whether it ran the pass itself."""
    global _hooks, _on_create, _on_backward
    with _hooks_lock:
        if on:
            _on_create, _on_backward = on_create, on_backward
            _hooks += 1
        elif _hooks > 0:
            _hooks -= 1
