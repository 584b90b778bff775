"""The symbolic rules: each op's local derivative written in Value operations.

backward() multiplies numbers: each edge holds d(node)/d(parent) as a float, computed in
the forward pass. To differentiate a gradient again, the backward pass itself has to
build a graph. So every op also has a *symbolic* rule (the table SYMBOLIC_RULES, keyed
by the same op names as the engine's float rules): its local derivative written in
Value operations. With ``create_graph=True`` the backward pass multiplies and adds these
Values instead of floats, and the gradient it returns is a graph of its own.

At singular points the rules follow PyTorch float64, which follows C's arithmetic: the
derivative of sqrt at 0 is inf and its second derivative -inf; a power that overflows
is inf, not an error. Where the forward pass itself raises (log(0), 1 / 0), so does the
derivative, as in Python's math module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from microgrid import _numbers
from microgrid.engine import Value
from microgrid.text import fmt as _fmt
from microgrid.text import name_of

__all__ = ['SYMBOLIC_RULES', 'check_agreement', 'symbolic_local_grads']


def _sqrt_rule(o: Value, a: Value) -> tuple:
    return (_over(0.5, o),)


def _leaky_relu_rule(o: Value, a: Value, s: Any) -> tuple:
    return (1.0, 0.0) if a.data > 0 else (s, a)


def _dot_rule(o: Value, *wx: Any) -> list:
    return [wx[i ^ 1] for i in range(len(wx))]  # (w, x) -> (x, w)


SYMBOLIC_RULES: dict[str, Callable[..., Sequence[Any]]] = {
    '+': lambda o, a, b: (1.0, 1.0),
    '-': lambda o, a, b: (1.0, -1.0),
    '*': lambda o, a, b: (b, a),
    '/': lambda o, a, b: (_over(1.0, b), _over(-o, b)),
    '**': lambda o, a, b: (_dpow_da(a, b), _dpow_db(o, a, b)),
    'leaky_relu': _leaky_relu_rule,
    'neg': lambda o, a: (-1.0,),
    'abs': lambda o, a: o.local_grads,  # piecewise linear: a piecewise constant
    'exp': lambda o, a: (o,),
    'log': lambda o, a: (1.0 / a,),
    'sqrt': _sqrt_rule,
    'tanh': lambda o, a: (1.0 - o * o,),
    'sigmoid': lambda o, a: (o * (1.0 - o),),
    'relu': lambda o, a: o.local_grads,  # piecewise linear: a piecewise constant
    'softplus': lambda o, a: (a.sigmoid(),),
    'sin': lambda o, a: (a.cos(),),
    'cos': lambda o, a: (-a.sin(),),
    'sum': lambda o, *ps: (1.0,) * len(ps),
    'dot': _dot_rule,
}
"""Each op's local derivatives as Values built from Values: op -> rule(out, *operands),
one per operand, where out is the node itself (tanh's rule reuses tanh(x), as the float
rule does). A plain number stands for a derivative that is constant."""


# -----------------------------------------------------------------------------
# Division and powers as C computes them (and so PyTorch): inf where Python raises.
# -----------------------------------------------------------------------------


def _ieee_div(a: float, b: float) -> float:
    """a / b as C divides: +-inf or nan at b == 0, where Python raises."""
    if b != 0:
        return a / b
    return math.copysign(math.inf, a) * math.copysign(1.0, b) if a and a == a else math.nan


def _over(n: Any, v: Value) -> Value:
    """n / v as a node (n a number or a Value); at v == 0 the node and its derivatives
    are +-inf or nan, as torch gives them, where Value division raises."""
    x = v.data
    if x != 0:
        return n / v
    q = _ieee_div(n.data if type(n) is Value else n, x)
    parents, local_grads = [v], [_ieee_div(-q, x)]
    if type(n) is Value:
        parents, local_grads = [n, v], [_ieee_div(1.0, x), local_grads[0]]
    return Value.from_op(q, parents, local_grads, '/')


def _odd(k: float) -> bool:
    return math.isfinite(k) and k.is_integer() and k % 2 == 1


def _c_pow(x: float, k: float) -> float:
    """x ** k as C's pow: +-inf at 0 for k < 0 and on overflow (Python raises there)."""
    if x == 0 and k < 0:
        return math.copysign(math.inf, x) if _odd(k) else math.inf
    try:
        return x**k
    except OverflowError:
        return -math.inf if x < 0 and _odd(k) else math.inf


def _power(a: Value, k: float) -> Value:
    """a ** k for a constant k, as a '**' node that is inf where Python would raise."""
    if not (a.data == 0 and k < 0):
        try:
            return a**k
        except OverflowError:
            pass
    x = a.data
    node = Value.from_op(_c_pow(x, k), [a], [k * _c_pow(x, k - 1) if k else 0.0], '**')
    node._meta = {**(node._meta or {}), 'exponent': k}
    return node


def _dpow_da(a: Any, b: Any) -> Any:  # b * a**(b-1); 0 for a constant exponent 0
    if type(a) is not Value or (type(b) is not Value and b == 0):
        return 0.0
    if type(b) is not Value:
        return b * _power(a, b - 1.0)
    k = b.data
    if a.data == 0 and k < 1:  # 0 ** (k - 1) has no value: the float rule's limit
        return _numbers.dpow_da(0.0, k)
    try:
        return b * a ** (b - 1)
    except OverflowError:  # the float rule's signed infinity
        return _numbers.dpow_da(a.data, k)


def _dpow_db(o: Any, a: Any, b: Any) -> Any:  # a**b * log(a); 0 at a == 0, nan for a < 0
    if type(b) is not Value:
        return 0.0
    base = a.data if type(a) is Value else a
    if base > 0:
        return o * (a.log() if type(a) is Value else math.log(a))
    return 0.0 if base == 0 else math.nan


# -----------------------------------------------------------------------------
# From a node to its operands. The engine records no node for a constant operand.
# -----------------------------------------------------------------------------

_BINARY = frozenset(('+', '-', '*', '/', '**', 'leaky_relu'))


def _is_denominator(node: Value) -> bool:
    """For c / p or p / c with one Value p: whether p is the denominator, from the
    edge: d = -q / p there (the float rule), 1 / c otherwise. The two agree only where
    d is 0, and there the derivative is 0 either way; a NaN d takes the rule."""
    d, q, x = node._edges[1], node.data, node._edges[0].data
    if d != d:
        return True
    if d == 0:
        return False
    return math.isinf(q) if x == 0 else d == -q / x


def _operands(node: Value) -> Sequence[Any] | None:
    """The operands of node, a constant put back as a number; None if the one Value
    operand's derivative is the recorded number (x + c, c * x, x / c, ...)."""
    e, op = node._edges, node.op
    if op == 'dot':
        return _dot_operands(node)
    if op not in _BINARY or len(e) == 4:
        return e[0::2]
    p = e[0]
    if op == '/':
        return (math.nan, p) if _is_denominator(node) else None
    if op != '**':
        return None
    meta = node._meta or {}
    if 'exponent' in meta:
        return (p, meta['exponent'])
    if 'base' in meta:
        return (meta['base'], p)
    raise NotImplementedError(
        f"the '**' node {name_of(node)} has a constant operand that was not recorded"
    )


def _dot_operands(node: Value) -> list:
    """(w0, x0, w1, x1, ...) of a dot node, a number where the operand was a number (its
    partner's local derivative), read from the record the engine keeps of which operands
    were numbers (never from the numbers themselves: equal floats may be one object)."""
    e = node._edges
    numbers = node._meta.get('dot') if node._meta else None
    if numbers is None:  # every w_i a Value, every x_i a number: the edges are (w_i, x_i)
        return list(e)
    slots = len(e) // 2 + len(numbers)  # 2n: w_i is slot 2i, x_i slot 2i+1
    constant = {slots + s for s in numbers}
    out: list = []
    k = 0
    for i in range(0, slots, 2):
        w_number, x_number = i in constant, i + 1 in constant
        if w_number and x_number:  # no edge: 0 for both, never used
            out += (0.0, 0.0)
        elif w_number:
            out += (e[k + 1], e[k])  # the edge (x_i, w_i)
            k += 2
        elif x_number:
            out += (e[k], e[k + 1])  # the edge (w_i, x_i)
            k += 2
        else:  # the edges (w_i, x_i.data, x_i, w_i.data)
            out += (e[k], e[k + 2])
            k += 4
    return out


def symbolic_local_grads(node: Value) -> list:
    """d node/d parent for each parent of node (in the order of ``node.parents``),
    as Values built from the graph, or numbers where the derivative is constant."""
    rule = SYMBOLIC_RULES.get(node.op)
    if rule is None:
        raise NotImplementedError(
            f"the '{node.op}' node {name_of(node)} has no symbolic derivative rule (ops made "
            "with Value.from_op have none), so its gradient cannot be differentiated again: "
            "use create_graph=False, or build the op from Value operations"
        )
    operands = _operands(node)
    if operands is None:
        return [node._edges[1]]
    try:
        derivatives = rule(node, *operands)
    except (ArithmeticError, ValueError) as error:
        raise type(error)(
            f"create_graph: the derivative of the '{node.op}' node {name_of(node)} "
            f"(= {_fmt(node.data)}) cannot be built: {error}"
        ) from error
    return [d for x, d in zip(operands, derivatives) if type(x) is Value]


def check_agreement(node: Value, symbolic: list) -> None:
    """The symbolic rule must give the number the float rule recorded. It does not when
    a from_op node carries a built-in op's name, or when data changed after the forward
    pass (PyTorch raises for a tensor modified in place, too)."""
    recorded = node._edges[1::2]
    for d, f in zip(symbolic, recorded):
        v = d.data if type(d) is Value else d
        if not (v == f or abs(v - f) <= 1e-9 * abs(f) or v != v or f != f):
            raise RuntimeError(
                f"create_graph: the '{node.op}' node {name_of(node)} recorded the local "
                f"derivative {f!r}, but its symbolic rule gives {v!r} now. Was the node made "
                "by Value.from_op under a built-in op's name, or was some .data changed after "
                "the forward pass? Rebuild the graph from the current numbers."
            )
    if len(symbolic) != len(recorded):
        raise RuntimeError(
            f"create_graph: the '{node.op}' node {name_of(node)} has {len(recorded)} parents, "
            f"which the symbolic rule of '{node.op}' does not expect (a from_op node?)"
        )
