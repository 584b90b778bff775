"""The microgrid engine: backpropagation in one file, read top to bottom.

A Value holds one number, ``data``. A Value made by an operation also remembers where
it came from: for each parent (operand), the *local derivative* d(node)/d(parent),
worked out in the forward pass by the rule for its op. ``backward()`` puts the graph
in topological order (every node after its parents) and walks it in reverse,
repeating one line of the chain rule for every edge:

    parent.grad += local_derivative * node.grad

That is all of backpropagation. Here: 1. the derivative rules, one line each;
2. the Value, whose operators apply them and record the graph; 3. sum() and dot(),
one node from many inputs; 4. the topological order that backward() walks.
Machinery lives in modules named for their jobs, which import this one (never the
reverse): switches.py (no_grad, detect_anomaly: per thread), anomaly.py, tracing.py
(for compile), names.py and labels.py (names, numbers), steps.py (backward step by step).
They reach in by hooks: two called only while ``_hooks`` (threads with a switch on) is
not 0, and higher.py's ``_graph_backward``. Only the standard library is used.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Iterable
from itertools import chain
from numbers import Complex, Real
from typing import Any


# -- 1. The rules: floats in, (result, d result/d operand, ...) out -----------------
#    Domain errors follow Python's math module, naming op and operand; NaN stays NaN.
# fmt: off
def _add(a, b):  return a + b, 1.0, 1.0
def _sub(a, b):  return a - b, 1.0, -1.0
def _mul(a, b):  return a * b, b, a
def _div(a, b):  q = _check_div(a, b); return q, 1.0 / b, -q / b
def _pow(a, b):  p = _check_pow(a, b); return p, _dpow_da(a, b), _dpow_db(a, b, p)
def _leaky_relu(a, k): return (a, 1.0, 0.0) if a > 0 else (k * a, k if a == a else a, a)

def _neg(a):     return -a, -1.0
def _abs(a):     return abs(a), (a > 0) - (a < 0) + 0.0 if a == a else a
def _exp(a):     e = _check_exp(a); return e, e
def _log(a):     _check_domain('log', a, not a <= 0, '> 0'); return math.log(a), 1.0 / a
def _sqrt(a):    s = _check_sqrt(a); return s, 0.5 / s if s else math.inf
def _tanh(a):    t = math.tanh(a); return t, 1.0 - t * t
def _sigmoid(a): s = _logistic(a); return s, s * (1.0 - s)
def _relu(a):    return (a, 1.0) if a > 0 else (0.0, 0.0) if a == a else (a, a)
def _softplus(a): return max(a, 0.0) + math.log1p(math.exp(-abs(a))), _logistic(a)
def _sin(a):     _check_finite('sin', a); return math.sin(a), math.cos(a)
def _cos(a):     _check_finite('cos', a); return math.cos(a), -math.sin(a)
# The rules' helpers: the logistic 1/(1+e^-a) without overflow, a**b's derivatives, the math module's errors.
def _logistic(a): return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
def _check_domain(op, a, ok, needs):
    if not ok: raise ValueError(f"{op}({a!r}): math domain error, {op} needs an operand {needs}")
def _check_finite(op, a): _check_domain(op, a, not math.isinf(a), 'that is finite')
def _check_sqrt(a):       _check_domain('sqrt', a, not a < 0, '>= 0'); return math.sqrt(a)

def _check_exp(a):
    try: return math.exp(a)
    except OverflowError: raise OverflowError(f"exp({a!r}): math range error, the result is too large") from None

def _check_div(a, b):
    if b == 0: raise ZeroDivisionError(f"division by zero in {a!r} / {b!r}")
    return a / b

def _check_pow(a, b):
    if a == 0 and b < 0: raise ZeroDivisionError(f"0.0 cannot be raised to a negative power in {a!r} ** {b!r}")
    if a < 0 and not b.is_integer(): raise ValueError(f"math domain error in {a!r} ** {b!r}: a negative base needs an integer exponent")
    try: return a**b
    except OverflowError: raise OverflowError(f"math range error in {a!r} ** {b!r}: result too large") from None

def _dpow_da(a, b):  # b * a**(b-1), with PyTorch's limits at a == 0 and inf on overflow
    if a == 0 or b == 0: return 0.0 if b == 0 or b > 1 else (1.0 if b == 1 else math.inf)
    try: return b * a ** (b - 1)
    except OverflowError: return math.copysign(math.inf, b if a > 0 or (b - 1) % 2 == 0 else -b)

def _dpow_db(a, b, p): return p * math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
# fmt: on


# -- 2. The Value -----------------------------------------------------------------------
class Value:
    """One number in a computation graph: ``data``, and ``grad`` = d(root)/d(this) after
    ``root.backward()``. ``op`` names the operation that made it ('' for a leaf),
    ``parents`` are its inputs and ``local_grads`` d(this)/d(parent) for each.
    Truth is ``data != 0``, as for a PyTorch scalar."""

    # _edges interleaves each parent with its local derivative: (p0, d0, p1, d1, ...);
    # one tuple keeps a node small. _meta is None or a dict of rare extras: a display
    # name, where detect_anomaly saw the node made, the constant of a pow.
    __slots__ = ('data', 'grad', 'label', 'op', '_edges', '_meta')
    _edges: tuple; _meta: dict | None; backward_steps: Any; grad_value: Any  # (steps.py, higher.py install them)  # fmt: skip

    def __init__(self, data: Any, label: str = '', _op: Any = None, **micrograd: Any) -> None:
        if isinstance(label, (tuple, list, set)) or _op is not None or micrograd:
            raise TypeError("Value(data, children, op) is micrograd's private form; a node also needs each parent's local derivative: use Value.from_op(data, parents, local_grads, op). A leaf is Value(data, label='a').")  # fmt: skip
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data, self.grad, self.label, self.op, self._edges, self._meta = _to_float(data), 0.0, label, '', (), None  # fmt: skip

    parents = property(lambda self: self._edges[0::2], doc="The Values this node was computed from (a parent used twice appears twice).")  # fmt: skip
    local_grads = property(lambda self: self._edges[1::2], doc="d(this)/d(parent) for each parent, in the order of ``parents``.")  # fmt: skip
    _prev = property(lambda self: set(self._edges[0::2]), doc="micrograd's name for the set of parents.")  # fmt: skip

    @property
    def _op(self) -> str:
        """micrograd's spelling of ``op``: '**2' for a constant power, 'ReLU' for relu."""
        k = self._meta.get('exponent') if self.op == '**' and self._meta else None
        return f"**{k:g}" if k is not None else 'ReLU' if self.op == 'relu' else self.op

    def propagate(self) -> None:
        """This node's share of backward: each parent.grad += local * self.grad."""
        edges = iter(self._edges)
        for parent, local in zip(edges, edges):  # pairs (parent, d self/d parent)
            parent.grad += local * self.grad

    _backward = propagate  # micrograd's name, for backprop by hand as in the lecture

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Fill ``grad`` of every node this one depends on, by the chain rule. As in
        PyTorch, interior nodes hold the latest call's result; leaves accumulate.
        create_graph=True also leaves each leaf's gradient as a Value, ``grad_value``."""
        if create_graph: return _graph_backward(self, grad)  # higher.py's pass, in Values  # fmt: skip
        order = _topological_order(self)
        for node in order:  # a fresh pass: interior grads start from 0
            node.grad = 0.0
        self.grad += _to_float(grad)
        if _hooks and _on_backward(order):  # detect_anomaly() ran a checked pass
            return
        for node in reversed(order):  # node.propagate(), written out: the hot loop
            g = node.grad
            edges = iter(node._edges)
            for parent, local in zip(edges, edges):
                parent.grad += local * g

    @staticmethod
    def from_op(data: Any, parents: Iterable[Value], local_grads: Iterable[Any], op: str) -> Value:
        """Make your own op: a node with the given data, parents and local derivatives."""
        parents, local_grads = tuple(parents), tuple(local_grads)
        if len(parents) != len(local_grads):
            raise ValueError(f"from_op({op!r}): {len(parents)} parents but {len(local_grads)} local_grads")  # fmt: skip
        if not isinstance(op, str) or not op or not all(isinstance(p, Value) for p in parents):
            raise TypeError(f"from_op({op!r}): parents must be Values and op a non-empty str, got parents of types {[type(p).__name__ for p in parents]}")  # fmt: skip
        edges = tuple(chain.from_iterable(zip(parents, map(_to_float, local_grads))))
        return _node(_to_float(data), op, edges, parents)

    # fmt: off
    # -- arithmetic: each line picks a rule; constants are not nodes --------------------
    def __add__(self, other):      return _binary(self, other, '+', _add)
    def __radd__(self, other):     return _binary(other, self, '+', _add)
    def __sub__(self, other):      return _binary(self, other, '-', _sub)
    def __rsub__(self, other):     return _binary(other, self, '-', _sub)
    def __mul__(self, other):      return _binary(self, other, '*', _mul)
    def __rmul__(self, other):     return _binary(other, self, '*', _mul)
    def __truediv__(self, other):  return _binary(self, other, '/', _div)
    def __rtruediv__(self, other): return _binary(other, self, '/', _div)
    def __pow__(self, other):      return _noted(_binary(self, other, '**', _pow), 'exponent', other)
    def __rpow__(self, other):     return _noted(_binary(other, self, '**', _pow), 'base', other)
    def __neg__(self):             return _unary(self, 'neg', _neg)
    def __pos__(self):             return self
    def __abs__(self):             return _unary(self, 'abs', _abs)

    # -- functions ----------------------------------------------------------------------
    def exp(self) -> Value:        return _unary(self, 'exp', _exp)
    def log(self) -> Value:        return _unary(self, 'log', _log)
    def sqrt(self) -> Value:       return _unary(self, 'sqrt', _sqrt)
    def tanh(self) -> Value:       return _unary(self, 'tanh', _tanh)
    def sigmoid(self) -> Value:    return _unary(self, 'sigmoid', _sigmoid)
    def relu(self) -> Value:       return _unary(self, 'relu', _relu)
    def softplus(self) -> Value:   return _unary(self, 'softplus', _softplus)
    def sin(self) -> Value:        return _unary(self, 'sin', _sin)
    def cos(self) -> Value:        return _unary(self, 'cos', _cos)

    def leaky_relu(self, slope: Any = 0.01) -> Value:
        """x for x > 0, slope * x otherwise."""
        return _binary(self, slope if type(slope) is Value else _to_float(slope, 'leaky_relu slope'), 'leaky_relu', _leaky_relu)  # fmt: skip

    # -- comparisons and truth look at data (for max(), sorting, if statements) ---------
    def __lt__(self, other): return self.data < _data(other)
    def __le__(self, other): return self.data <= _data(other)
    def __gt__(self, other): return self.data > _data(other)
    def __ge__(self, other): return self.data >= _data(other)
    def __bool__(self):      return self.data != 0
    __hash__ = object.__hash__  # identity, so Values work in sets and dicts

    def __format__(self, spec: str) -> str: return format(self.data, spec) if spec else repr(self)
    def __repr__(self) -> str:
        label, op = f"{self.label!r}, " if self.label else '', f", op={self.op!r}" if self.op else ''
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g}{op})"
    # fmt: on


# -- making nodes: each op's result, with its edges -------------------------------------
# fmt: off
_hooks = 0  # how many threads have a switch on (switches.py keeps the count)
_on_create: Any = None; _on_backward: Any = None; _graph_backward: Any = None  # switches.py's: (node, operands) for each node made; (order) -> True if it ran backward itself; higher.py's backward(create_graph=True)
_new_value = object.__new__

def _node(data: float, op: str, edges: tuple, operands: Any = ()) -> Value:
    """Make an op's result node quickly (no type checks: the rules give floats)."""
    v = _new_value(Value)
    v.data = data; v.grad = 0.0; v.label = ''; v.op = op; v._edges = edges; v._meta = None
    if _hooks: _on_create(v, operands)
    return v

def _unary(x: Value, op: str, rule) -> Value:  # one operand, one edge
    out, d = rule(x.data); return _node(out, op, (x, d), _hooks and (x,))

def _binary(x, y, op: str, rule):
    """Apply a two-operand rule; either side may be a plain number (a constant)."""
    a = x.data if type(x) is Value else _number(x)
    b = y.data if type(y) is Value else _number(y)
    if a is None or b is None: return NotImplemented
    (out, da, db), operands = rule(a, b), _hooks and (x, y)  # operands: only for the hooks
    if type(x) is not Value: return _node(out, op, (y, db), operands)
    return _node(out, op, (x, da, y, db) if type(y) is Value else (x, da), operands)

def _noted(node, role: str, constant):
    """Keep the constant of a pow (x ** 2, 2 ** x): no edge records it."""
    if type(constant) is not Value and node is not NotImplemented and node._edges:
        node._meta = {**(node._meta or {}), role: _to_float(constant)}
    return node

# -- 3. many inputs, one node -----------------------------------------------------------
def sum(values: Iterable[Any]) -> Value:  # microgrid.sum, as torch.sum
    """The sum of values as ONE node whose parents are all the Value inputs."""
    values = values if type(values) is list else list(values)
    constants: list = []  # the numbers among values: they are added but get no edge
    data = [v.data if type(v) is Value else _constant(v, 'sum', constants) for v in values]
    parents = [v for v in values if type(v) is Value] if constants else values
    edges: list = [1.0] * (2 * len(parents))  # (p0, 1.0, p1, 1.0, ...): d sum/d p = 1
    edges[0::2] = parents
    return _node(builtins.sum(data, 0.0), 'sum', tuple(edges), values)

def dot(ws: Iterable[Any], xs: Iterable[Any]) -> Value:
    """sum(w * x) as ONE node: d/dw_i = x_i and d/dx_i = w_i."""
    ws, xs = ws if type(ws) is list else list(ws), xs if type(xs) is list else list(xs)
    if len(ws) != len(xs): raise ValueError(f"dot: the two sequences differ in length ({len(ws)} and {len(xs)})")
    wk: list = []; xk: list = []  # the numbers among ws, and among xs: they get no edge
    wd = [w.data if type(w) is Value else _constant(w, 'dot', wk) for w in ws]
    xd = [x.data if type(x) is Value else _constant(x, 'dot', xk) for x in xs]
    edges = _dot_edges(ws, wd, xs, xd, len(wk), len(xk))
    return _node(builtins.sum(map(operator.mul, wd, xd), 0.0), 'dot', edges, _hooks and (ws, xs))

def _dot_edges(ws: list, wd: list, xs: list, xd: list, w_constants: int, x_constants: int):
    """(w_i, x_i.data, x_i, w_i.data) for each i, constants left out. Speed: slices
    interleave the lists in C, and constants are sought from the end (a bias's 1.0)."""
    n = len(ws)
    if x_constants == n and not w_constants:  # weights times a row of data
        edges = [None] * (2 * n); edges[0::2], edges[1::2] = ws, xd
        return tuple(edges)
    edges = [None] * (4 * n)
    edges[0::4], edges[1::4], edges[2::4], edges[3::4] = ws, xd, xs, wd
    left, i = w_constants + x_constants, n
    while left:
        i -= 1
        for j, v in ((2, xs[i]), (0, ws[i])):  # x_i's edge, then w_i's
            if type(v) is not Value:
                del edges[4 * i + j : 4 * i + j + 2]
                left -= 1
    return tuple(edges)

# -- numbers in, numbers out ------------------------------------------------------------
def _number(x: Any) -> float | None:  # a plain real number as a float, or None if x is not one
    if type(x) is float: return x
    if isinstance(x, (int, float)): return float(x)
    if isinstance(x, (str, bytes, Value)) or (isinstance(x, Complex) and not isinstance(x, Real)): return None
    try: return float(x) if hasattr(type(x), '__float__') else None
    except (TypeError, ValueError): return None

def _to_float(x: Any, op: str = '') -> float:
    f = _number(x)
    if f is None: raise TypeError(f"{op}: expected Values or real numbers, got {type(x).__name__}" if op else f"Value needs a real number, got {type(x).__name__}: {x!r:.60}")
    return f

def _constant(x: Any, op: str, met: list) -> float:  # a number in sum() or dot(), noted in met
    met.append(x); return x if type(x) is float else _to_float(x, op)

def _data(x: Any) -> float: return x.data if type(x) is Value else _to_float(x)

# -- 4. The order of backward: every node after all of its parents ----------------------
#    A depth-first search with an explicit stack, no recursion: a chain of any depth works.
def _topological_order(root: Value) -> list[Value]:
    order: list[Value] = []; stack: list = [root] if root._edges else []
    seen = set()  # interior nodes once expanded, leaves once met
    while stack:  # a node goes back on the stack under a None marker, its parents on
        node = stack.pop()  # top: when the marker comes off, every parent is placed
        if node is None: order.append(stack.pop())
        elif node not in seen:  # (a node pushed twice is expanded once)
            seen.add(node)
            stack += (node, None)
            parents = node._edges[0::2]
            if not seen.issuperset(parents):  # speed: often all seen, a test in C
                for p in reversed(parents):  # reversed: the first parent comes off first
                    if p not in seen:  # an interior parent to expand, or a leaf to mark
                        stack.append(p) if p._edges else seen.add(p)
    return order
# fmt: on
