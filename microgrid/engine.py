"""The microgrid engine: a Value holds one number and remembers how it was made.

Read it top to bottom:

1. the derivative rules, one line each: data in, (result, local derivatives) out;
2. the Value class, whose operators apply those rules and record the graph;
3. backward(), the chain rule applied in reverse topological order (no recursion);
4. the switches no_grad() and detect_anomaly().

Every node stores, for each parent, the local derivative d(node)/d(parent), computed
in the forward pass. Backward is then one line repeated over every edge:

    parent.grad += local_derivative * node.grad

Only the standard library is imported here.
"""

from __future__ import annotations

import builtins
import math
import operator
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from itertools import chain
from numbers import Complex, Real
from typing import Any

# -----------------------------------------------------------------------------
# 1. The rules. Each takes plain floats and returns (result, d result/d operand, ...).
#    Domain errors follow Python's math module and name the op and the operand.
# -----------------------------------------------------------------------------


# fmt: off
def _add(a, b):  return a + b, 1.0, 1.0
def _sub(a, b):  return a - b, 1.0, -1.0
def _mul(a, b):  return a * b, b, a
def _div(a, b):  q = _check_div(a, b); return q, 1.0 / b, -q / b
def _pow(a, b):  p = _check_pow(a, b); return p, _dpow_da(a, b), _dpow_db(a, b, p)

def _neg(a):     return -a, -1.0
def _abs(a):     return abs(a), (a > 0) - (a < 0) + 0.0
def _exp(a):     e = _check_exp(a); return e, e
def _log(a):     _check_domain('log', a, a > 0, '> 0'); return math.log(a), 1.0 / a
def _sqrt(a):    s = _check_sqrt(a); return s, 0.5 / s if s else math.inf
def _tanh(a):    t = math.tanh(a); return t, 1.0 - t * t
def _sigmoid(a): s = _logistic(a); return s, s * (1.0 - s)
def _relu(a):    return (a, 1.0) if a > 0 else (0.0, 0.0)
def _softplus(a): return max(a, 0.0) + math.log1p(math.exp(-abs(a))), _logistic(a)
def _sin(a):     return math.sin(a), math.cos(a)
def _cos(a):     return math.cos(a), -math.sin(a)

def _leaky_relu(a, slope): return (a, 1.0, 0.0) if a > 0 else (slope * a, slope, a)
# fmt: on


# The helpers the rules use: stable formulas, and the math module's errors.


def _logistic(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)  # a < 0, so no overflow
    return e / (1.0 + e)


def _check_domain(op, a, ok, needs):
    if not ok:
        raise ValueError(f"{op}({a!r}): math domain error, {op} needs an operand {needs}")


def _check_sqrt(a):
    _check_domain('sqrt', a, not a < 0, '>= 0')
    return math.sqrt(a)


def _check_exp(a):
    try:
        return math.exp(a)
    except OverflowError:
        raise OverflowError(f"exp({a!r}): math range error, the result is too large") from None


def _check_div(a, b):
    if b == 0:
        raise ZeroDivisionError(f"division by zero in {a!r} / {b!r}")
    return a / b


def _check_pow(a, b):
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power in {a!r} ** {b!r}")
    if a < 0 and not b.is_integer():
        raise ValueError(
            f"math domain error in {a!r} ** {b!r}: a negative base needs an integer exponent"
        )
    try:
        return a**b
    except OverflowError:
        raise OverflowError(f"math range error in {a!r} ** {b!r}: result too large") from None


def _dpow_da(a, b):  # b * a**(b-1), with the limits PyTorch uses at a == 0
    if b == 0:
        return 0.0
    if a == 0:
        return 0.0 if b > 1 else (1.0 if b == 1 else math.inf)
    return b * a ** (b - 1)


def _dpow_db(a, b, p):  # a**b * log(a); 0 at a == 0, undefined (nan) for a < 0
    if a > 0:
        return p * math.log(a)
    return 0.0 if a == 0 else math.nan


# -----------------------------------------------------------------------------
# 2. The Value.
# -----------------------------------------------------------------------------


class Value:
    """One number in a computation graph, with its gradient.

    ``data`` is the number, ``grad`` is d(root)/d(this) after ``root.backward()``,
    ``op`` names the operation that made it ('' for a leaf), ``parents`` are its
    inputs and ``local_grads`` the derivative of this node with respect to each.
    """

    # _edges interleaves each parent with its local derivative: (p0, d0, p1, d1, ...).
    # One tuple instead of two keeps a node small (see BENCHMARKS.md, memory per op).
    __slots__ = ('data', 'grad', 'label', 'op', '_edges', '_name', '_site')

    def __init__(self, data: Any, label: str = '') -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = _to_float(data)
        self.grad = 0.0
        self.label = label
        self.op = ''
        self._edges: tuple = ()
        self._name: str | None = None
        self._site: str | None = None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this node was computed from (a parent used twice appears twice)."""
        return self._edges[0::2]

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(this)/d(parent) for each parent, in the order of ``parents``."""
        return self._edges[1::2]

    @staticmethod
    def from_op(data: Any, parents: Iterable[Value], local_grads: Iterable[Any], op: str) -> Value:
        """Make your own op: a node with the given data, parents and local derivatives."""
        parents, local_grads = tuple(parents), tuple(local_grads)
        if len(parents) != len(local_grads):
            raise ValueError(
                f"from_op({op!r}): {len(parents)} parents but {len(local_grads)} local_grads"
            )
        for p in parents:
            if not isinstance(p, Value):
                raise TypeError(f"from_op({op!r}): parents must be Values, got {type(p).__name__}")
        if not isinstance(op, str) or not op:
            raise TypeError(f"from_op: op must be a non-empty str, got {op!r}")
        grads = [_to_float(g) for g in local_grads]
        node = _node(_to_float(data), op, tuple(chain.from_iterable(zip(parents, grads))))
        if _mode:
            _special(node, parents)
        return node

    # fmt: off
    # -- arithmetic: each line picks a rule; constants are not nodes ------------
    def __add__(self, other):      return _binary(self, other, '+', _add)
    def __radd__(self, other):     return _binary(other, self, '+', _add)
    def __sub__(self, other):      return _binary(self, other, '-', _sub)
    def __rsub__(self, other):     return _binary(other, self, '-', _sub)
    def __mul__(self, other):      return _binary(self, other, '*', _mul)
    def __rmul__(self, other):     return _binary(other, self, '*', _mul)
    def __truediv__(self, other):  return _binary(self, other, '/', _div)
    def __rtruediv__(self, other): return _binary(other, self, '/', _div)
    def __pow__(self, other):      return _binary(self, other, '**', _pow)
    def __rpow__(self, other):     return _binary(other, self, '**', _pow)
    def __neg__(self):             return _unary(self, 'neg', _neg)
    def __pos__(self):             return self
    def __abs__(self):             return _unary(self, 'abs', _abs)

    # -- functions ------------------------------------------------------------
    def exp(self) -> Value:        return _unary(self, 'exp', _exp)
    def log(self) -> Value:        return _unary(self, 'log', _log)
    def sqrt(self) -> Value:       return _unary(self, 'sqrt', _sqrt)
    def tanh(self) -> Value:       return _unary(self, 'tanh', _tanh)
    def sigmoid(self) -> Value:    return _unary(self, 'sigmoid', _sigmoid)
    def relu(self) -> Value:       return _unary(self, 'relu', _relu)
    def softplus(self) -> Value:   return _unary(self, 'softplus', _softplus)
    def sin(self) -> Value:        return _unary(self, 'sin', _sin)
    def cos(self) -> Value:        return _unary(self, 'cos', _cos)
    # fmt: on

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope * x otherwise."""
        if type(slope) is not Value:
            slope = _require_number(slope, 'leaky_relu slope')
        return _binary(self, slope, 'leaky_relu', _leaky_relu)

    # fmt: off
    # -- comparisons look at data (for max(), sorting, if statements) -----------
    def __lt__(self, other): return self.data < _data(other)
    def __le__(self, other): return self.data <= _data(other)
    def __gt__(self, other): return self.data > _data(other)
    def __ge__(self, other): return self.data >= _data(other)
    # fmt: on
    __hash__ = object.__hash__  # identity, so Values work in sets and dicts

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        label = f"{self.label!r}, " if self.label else ''
        op = f", op={self.op!r}" if self.op else ''
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g}{op})"

    # -- 3. backward ------------------------------------------------------------
    def backward(self, grad: Any = 1.0) -> None:
        """Fill ``grad`` of every node this one depends on, by the chain rule.

        As in PyTorch, each call propagates its own gradient: interior nodes hold
        the result of the latest call, leaves accumulate until zeroed.
        """
        order = _topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad += _to_float(grad)
        if _mode & _ANOMALY:
            return _checked_backward(order)
        for node in reversed(order):
            g = node.grad
            edges = iter(node._edges)
            for parent, local in zip(edges, edges):  # pairs (parent, d node/d parent)
                parent.grad += local * g

    def backward_steps(self, grad: Any = 1.0) -> Iterator[Step]:
        """backward(), one chain-rule application at a time: a seed step, then one per edge."""
        order = _topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad += _to_float(grad)
        yield Step(self, None, 1.0, self.grad, self.grad, self.grad)
        for node in reversed(order):
            edges = iter(node._edges)
            for parent, local in zip(edges, edges):
                contribution = local * node.grad
                parent.grad += contribution
                yield Step(node, parent, local, node.grad, contribution, parent.grad)


def _node(data: float, op: str, edges: tuple) -> Value:
    """Make an op's result node quickly (no type checks: the rules give floats)."""
    v = _new_value(Value)
    v.data = data
    v.grad = 0.0
    v.label = ''
    v.op = op
    v._edges = edges
    v._name = None
    v._site = None
    return v


_new_value = object.__new__


def _unary(x: Value, op: str, rule) -> Value:
    out, d = rule(x.data)
    node = _node(out, op, (x, d))
    if _mode:
        _special(node, (x,))
    return node


def _binary(x, y, op: str, rule):
    """Apply a two-operand rule; either side may be a plain number (a constant)."""
    a = x.data if type(x) is Value else _number(x)
    b = y.data if type(y) is Value else _number(y)
    if a is None or b is None:
        return NotImplemented
    out, da, db = rule(a, b)
    if type(x) is Value:
        edges = (x, da, y, db) if type(y) is Value else (x, da)
    else:
        edges = (y, db)
    node = _node(out, op, edges)
    if _mode:
        _special(node, (x, y))
    return node


def sum(values: Iterable[Any]) -> Value:  # noqa: A001 - microgrid.sum, as torch.sum
    """The sum of values as ONE node whose parents are all the Value inputs."""
    values = values if type(values) is list else list(values)
    constants: list = []  # the numbers among values: they are added but get no edge
    data = [v.data if type(v) is Value else _constant(v, 'sum', constants) for v in values]
    parents = [v for v in values if type(v) is Value] if constants else values
    edges: list = [1.0] * (2 * len(parents))  # (p0, 1.0, p1, 1.0, ...): d sum/d p = 1
    edges[0::2] = parents
    node = _node(builtins.sum(data, 0.0), 'sum', tuple(edges))
    if _mode:
        _special(node, values)
    return node


def dot(ws: Iterable[Any], xs: Iterable[Any]) -> Value:
    """sum(w * x) as ONE node: d/dw_i = x_i and d/dx_i = w_i."""
    ws = ws if type(ws) is list else list(ws)
    xs = xs if type(xs) is list else list(xs)
    if len(ws) != len(xs):
        raise ValueError(f"dot: the two sequences differ in length ({len(ws)} and {len(xs)})")
    constants: list = []  # the numbers among ws and xs: they get no edge
    wd = [w.data if type(w) is Value else _constant(w, 'dot', constants) for w in ws]
    w_constants = len(constants)
    xd = [x.data if type(x) is Value else _constant(x, 'dot', constants) for x in xs]
    edges = _dot_edges(ws, wd, xs, xd, w_constants, len(constants) - w_constants)
    node = _node(builtins.sum(map(operator.mul, wd, xd), 0.0), 'dot', edges)
    if _mode:
        _special(node, (ws, xs))
    return node


def _dot_edges(ws: list, wd: list, xs: list, xd: list, w_constants: int, x_constants: int):
    """The edges of a dot: (w_i, x_i.data, x_i, w_i.data) for each i, constants left out.

    Speed: slice assignments interleave the four lists in C. Constants are looked for
    only if there are some, from the end (where a neuron's bias input 1.0 sits).
    """
    n = len(ws)
    if x_constants == n and not w_constants:  # weights times a row of data
        edges = [None] * (2 * n)
        edges[0::2], edges[1::2] = ws, xd
        return tuple(edges)
    edges = [None] * (4 * n)
    edges[0::4], edges[1::4], edges[2::4], edges[3::4] = ws, xd, xs, wd
    left, i = w_constants + x_constants, n
    while left:
        i -= 1
        if type(xs[i]) is not Value:
            del edges[4 * i + 2 : 4 * i + 4]
            left -= 1
        if type(ws[i]) is not Value:
            del edges[4 * i : 4 * i + 2]
            left -= 1
    return tuple(edges)


# -- numbers in, numbers out ------------------------------------------------


def _number(x: Any) -> float | None:
    """A plain real number as a float, or None if x is not one."""
    if type(x) is float:
        return x
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, (str, bytes, Value)) or (isinstance(x, Complex) and not isinstance(x, Real)):
        return None
    if hasattr(type(x), '__float__'):
        try:
            return float(x)
        except (TypeError, ValueError):
            return None
    return None


def _to_float(x: Any) -> float:
    f = _number(x)
    if f is None:
        raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r:.60}")
    return f


def _constant(x: Any, op: str, met: list) -> float:
    """A number given to sum() or dot(), noted in met, as a float (else a TypeError)."""
    met.append(x)
    return x if type(x) is float else _require_number(x, op)


def _require_number(x: Any, op: str) -> float:
    f = _number(x)
    if f is None:
        raise TypeError(f"{op}: expected Values or real numbers, got {type(x).__name__}")
    return f


def _data(x: Any) -> float:
    return x.data if type(x) is Value else _to_float(x)


# -----------------------------------------------------------------------------
# 3. The order of backward: every interior node after all of its parents.
#    A depth-first search with an explicit stack instead of recursion, so a chain of
#    any depth works. Leaves have nothing to pass on, so they are never pushed.
# -----------------------------------------------------------------------------


def _topological_order(root: Value) -> list[Value]:
    order: list[Value] = []
    if not root._edges:
        return order
    seen = set()  # interior nodes once expanded, leaves once met
    stack: list = [root]
    # Speed: the stack holds nodes only, no per-node tuples or iterators. A node is
    # pushed again under a None marker when it is expanded; its parents go on top, so
    # when the marker comes off, every parent is placed and the node can follow.
    while stack:
        node = stack.pop()
        if node is None:  # the marker: its node's parents are all placed
            order.append(stack.pop())
        elif node not in seen:  # (a node pushed twice is expanded once)
            seen.add(node)
            stack += (node, None)
            parents = node._edges[0::2]
            if not seen.issuperset(parents):  # Speed: often all seen; a test in C
                for p in reversed(parents):  # reversed: the first parent comes off first
                    if p not in seen:
                        if p._edges:
                            stack.append(p)
                        else:
                            seen.add(p)
    return order


# -----------------------------------------------------------------------------
# 4. Switches. One global flag word, so that the normal path costs one check.
# -----------------------------------------------------------------------------

_NO_GRAD, _ANOMALY, _TRACE = 1, 2, 4
_mode = 0
_tracers: list = []  # callbacks (node, operands) for microgrid.compile


def _set_mode(bit: int, on: bool) -> None:
    global _mode
    _mode = (_mode | bit) if on else (_mode & ~bit)


@contextmanager
def _switched_on(bit: int) -> Iterator[None]:
    before = _mode & bit
    _set_mode(bit, True)
    try:
        yield
    finally:
        _set_mode(bit, bool(before))  # an inner exit leaves an outer switch on


def no_grad() -> AbstractContextManager[None]:
    """Inside, ops record no parents: results are plain leaves (for updates, evaluation)."""
    return _switched_on(_NO_GRAD)


def detect_anomaly() -> AbstractContextManager[None]:
    """Inside, a NaN or infinite result or gradient raises FloatingPointError at its source."""
    return _switched_on(_ANOMALY)


def _special(node: Value, operands: Any) -> None:
    """The slow path of node creation, taken only while a switch is on."""
    if _mode & _NO_GRAD:
        node._edges = ()
        node.op = ''
        return
    if _mode & _ANOMALY:
        node._site = _user_site()
        values = [v.data for v in _flat(operands) if type(v) is Value]
        bad = math.isnan(node.data) or (
            math.isinf(node.data) and all(math.isfinite(v) for v in values)
        )
        if bad:
            shown = ', '.join(_show(v) for v in _flat(operands))
            raise FloatingPointError(
                f"detect_anomaly: {node.op} gave {node.data!r} from operands ({shown}), "
                f"created at {node._site}"
            )
    if _mode & _TRACE:
        for tracer in _tracers:
            tracer(node, operands)


def _flat(operands: Any) -> list:
    out: list = []
    for o in operands:
        out.extend(o) if isinstance(o, (list, tuple)) else out.append(o)
    return out


def _show(v: Any) -> str:
    return f"{name_of(v)}={v.data!r}" if type(v) is Value else repr(v)


def _checked_backward(order: list[Value]) -> None:
    for node in reversed(order):
        g = node.grad
        edges = iter(node._edges)
        for parent, local in zip(edges, edges):
            contribution = local * g
            if not math.isfinite(contribution) and math.isfinite(g) or math.isnan(contribution):
                raise FloatingPointError(
                    f"detect_anomaly: backward through {node.op} node {name_of(node)} "
                    f"(created at {node._site or 'an unknown place'}) gave its parent "
                    f"{name_of(parent)} the gradient {local!r} * {g!r} = {contribution!r}"
                )
            parent.grad += contribution


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_site() -> str:
    """file:line of the first caller outside the microgrid package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return 'an unknown place'
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


# -----------------------------------------------------------------------------
# Names for display: the label, or a short automatic name (v1, v2, ...) that a node
# keeps once it has been shown.
# -----------------------------------------------------------------------------

_names_given = 0


def name_of(v: Value) -> str:
    """The label of v, or its automatic name such as 'v3'."""
    global _names_given
    if v.label:
        return v.label
    if v._name is None:
        _names_given += 1
        v._name = f"v{_names_given}"
    return v._name


def _fmt(x: float) -> str:
    """A number as a learner wants to read it: short, but exact when it is short."""
    r = repr(x)
    return r if len(r) <= 10 else f"{x:.6g}"


class Step:
    """One chain-rule application of backward_steps(): parent.grad += local_grad * upstream."""

    __slots__ = ('node', 'parent', 'local_grad', 'upstream', 'contribution', 'parent_grad')

    def __init__(self, node, parent, local_grad, upstream, contribution, parent_grad):
        self.node, self.parent, self.local_grad = node, parent, local_grad
        self.upstream, self.contribution, self.parent_grad = upstream, contribution, parent_grad

    @property
    def is_seed(self) -> bool:
        """True for the first step, which sets the root's gradient."""
        return self.parent is None

    def __str__(self) -> str:
        n = name_of(self.node)
        if self.parent is None:
            return f"{n}.grad = {_fmt(self.upstream)}  (seed: d{n}/d{n})"
        p = name_of(self.parent)
        return (
            f"{p}.grad += d{n}/d{p} * {n}.grad = {_fmt(self.local_grad)} * {_fmt(self.upstream)}"
            f" = {_fmt(self.contribution)}  ({p}.grad = {_fmt(self.parent_grad)})"
        )

    def __repr__(self) -> str:
        return f"<Step {self}>"
