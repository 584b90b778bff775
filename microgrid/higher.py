"""Derivatives of derivatives: grad(), hessian(), jacobian(), hvp() and forward-mode jvp().

backward() multiplies numbers: each edge holds d(node)/d(parent) as a float, computed in
the forward pass. To differentiate a gradient again, the backward pass itself has to
build a graph. So every op also has a *symbolic* rule (the table SYMBOLIC): its local
derivative written in Value operations. With ``create_graph=True`` the backward pass
multiplies and adds Values instead of floats, and the gradient it returns is a Value
whose graph is the derivative itself: draw it, explain it, or differentiate it again.

The float rules stay as they are and are used by every normal backward(); a test checks
that the two tables agree on every op at random points.

Names and semantics follow PyTorch: ``torch.autograd.grad`` and
``torch.autograd.functional.{hessian, jacobian, hvp, jvp}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from microgrid import engine
from microgrid.engine import Value, _topological_order
from microgrid.switches import enable_grad
from microgrid.text import fmt as _fmt
from microgrid.text import name_of

__all__ = ['SYMBOLIC', 'grad', 'hessian', 'hvp', 'jacobian', 'jvp']

# -----------------------------------------------------------------------------
# The symbolic rules: (out, *operands) -> d out/d operand, one per operand, written in
# Value operations (a plain number where the derivative is a constant). out is the node
# itself, so tanh's rule reuses tanh(x), as the float rule does. A constant operand is
# passed as a number; its derivative is never used. The table sits here rather than
# beside the float rules because engine.py, the lesson, is held to 300 lines; the float
# path never reads it, and tests/test_higher.py checks that the two tables agree.
# -----------------------------------------------------------------------------

# fmt: off
SYMBOLIC: dict[str, Callable[..., Sequence[Any]]] = {
    '+':          lambda o, a, b: (1.0, 1.0),
    '-':          lambda o, a, b: (1.0, -1.0),
    '*':          lambda o, a, b: (b, a),
    '/':          lambda o, a, b: (1.0 / b, -o / b),
    '**':         lambda o, a, b: (_dpow_da(a, b), _dpow_db(o, a, b)),
    'neg':        lambda o, a: (-1.0,),
    'abs':        lambda o, a: o.local_grads,  # piecewise linear: a piecewise constant
    'exp':        lambda o, a: (o,),
    'log':        lambda o, a: (1.0 / a,),
    'sqrt':       lambda o, a: (0.5 / o if o.data else math.inf,),  # inf at 0, as the float rule
    'tanh':       lambda o, a: (1.0 - o * o,),
    'sigmoid':    lambda o, a: (o * (1.0 - o),),
    'relu':       lambda o, a: o.local_grads,  # piecewise linear: a piecewise constant
    'softplus':   lambda o, a: (a.sigmoid(),),
    'sin':        lambda o, a: (a.cos(),),
    'cos':        lambda o, a: (-a.sin(),),
    'leaky_relu': lambda o, a, s: (1.0, 0.0) if a.data > 0 else (s, a),
    'sum':        lambda o, *ps: (1.0,) * len(ps),
    'dot':        lambda o, *wx: [wx[i ^ 1] for i in range(len(wx))],  # (w, x) -> (x, w)
}
"""Each op's local derivatives as Values built from Values (op -> rule(out, *parents)),
so that create_graph=True records them and a second backward differentiates them."""
# fmt: on


def _dpow_da(a: Any, b: Any) -> Any:  # b * a**(b-1); 0 for a constant exponent 0
    if type(a) is not Value or (type(b) is not Value and b == 0):
        return 0.0
    k = b.data if type(b) is Value else b
    if a.data == 0 and k < 1:  # 0 ** (k - 1) has no value: the float rule's limit
        return engine._dpow_da(0.0, k)
    try:
        return b * a ** (b - 1)
    except OverflowError:  # the float rule's signed infinity
        return engine._dpow_da(a.data, k)


def _dpow_db(o: Any, a: Any, b: Any) -> Any:  # a**b * log(a); 0 at a == 0, nan for a < 0
    if type(b) is not Value:
        return 0.0
    base = a.data if type(a) is Value else a
    if base > 0:
        return o * (a.log() if type(a) is Value else math.log(a))
    return 0.0 if base == 0 else math.nan


# -----------------------------------------------------------------------------
# From a node to its operands: the parents, with a constant operand put back where it
# was (the engine records no node for a constant).
# -----------------------------------------------------------------------------

_BINARY = frozenset(('+', '-', '*', '/', '**', 'leaky_relu'))


def _operands(node: Value) -> Sequence[Any]:
    e, op = node._edges, node.op
    if op == 'dot':
        return _dot_operands(e)
    if op not in _BINARY or len(e) == 4:
        return e[0::2]
    (p, d), q = e, node.data  # one Value p and one constant, d = d node/d p
    if op in ('*', 'leaky_relu'):
        return (p, d)  # the constant factor (the slope) is the derivative itself
    if op == '+':
        return (p, 0.0)
    if op == '-':
        return (p, 0.0) if d > 0 else (0.0, p)
    if op == '/':  # c / p if d is what the float rule gives a denominator: -q / p
        return (0.0, p) if p.data != 0 and d == -q / p.data else (p, 1.0 / d)
    meta = getattr(node, '_meta', None) or {}
    if 'exponent' in meta:
        return (p, meta['exponent'])
    if 'base' in meta:
        return (meta['base'], p)
    raise NotImplementedError(
        f"the '**' node {name_of(node)} has a constant operand that was not recorded"
    )


def _dot_operands(e: tuple) -> list:
    """(w0, x0, w1, x1, ...) from dot's edges (w, x.data, x, w.data), constants left out."""
    out: list = []
    i, n = 0, len(e)
    while i < n:
        p, d = e[i], e[i + 1]
        if i + 2 < n and d is e[i + 2].data and e[i + 3] is p.data:  # a Value times a Value
            out += (p, e[i + 2])
            i += 4
        else:  # a Value times a constant: the constant is its derivative
            out += (p, d)
            i += 2
    return out


def symbolic_local_grads(node: Value) -> list:
    """d node/d parent for each parent of node (in the order of ``node.parents``),
    as Values built from the graph, or numbers where the derivative is constant."""
    rule = SYMBOLIC.get(node.op)
    if rule is None:
        raise NotImplementedError(
            f"the '{node.op}' node {name_of(node)} has no symbolic derivative rule (ops made "
            "with Value.from_op have none), so its gradient cannot be differentiated again: "
            "use create_graph=False, or build the op from Value operations"
        )
    operands = _operands(node)
    derivatives = rule(node, *operands)
    return [d for x, d in zip(operands, derivatives) if type(x) is Value]


def _check_agreement(node: Value, symbolic: list) -> None:
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


# -----------------------------------------------------------------------------
# The backward pass, with floats or with Values.
# -----------------------------------------------------------------------------


def _order(roots: Sequence[Value]) -> list[Value]:
    """Every interior node below the roots, each after all of its parents."""
    if len(roots) == 1:
        return _topological_order(roots[0])
    order: list[Value] = []
    placed: set = set()
    for r in roots:
        for node in _topological_order(r):
            if node not in placed:
                placed.add(node)
                order.append(node)
    return order


def _times(d: Any, g: Any) -> Any:
    if type(d) is float and d == 1.0:  # 1 * g is g (for every g, inf and nan too)
        return g
    if type(g) is float and g == 1.0:
        return d
    return d * g


def _reaching(order: list[Value], inputs: Sequence[Value]) -> set:
    """The inputs and every node of order on a path down to one of them."""
    wanted = set(inputs)
    for node in order:  # parents first
        if not wanted.isdisjoint(node._edges[0::2]):
            wanted.add(node)
    return wanted


def _backward(
    roots: Sequence[Value],
    seeds: Sequence[Any],
    inputs: Sequence[Value] | None,
    create_graph: bool,
    prepared: tuple[list[Value], set] | None = None,
) -> dict:
    """The gradient of sum(seed * root) for every node on a path to one of the inputs
    (every node if inputs is None): floats, or Values when create_graph. ``prepared``
    is (order, the nodes reaching the inputs), when several passes share them."""
    if prepared is None:
        order = _order(roots)
        wanted = None if inputs is None else _reaching(order, inputs)
    else:
        order, wanted = prepared
    grads: dict = {}
    for r, s in zip(roots, seeds):
        if wanted is None or r in wanted:
            grads[r] = s if r not in grads else grads[r] + s
    if create_graph:
        with enable_grad():  # create_graph decides, not no_grad (as in PyTorch)
            for node in reversed(order):
                g = grads.get(node)
                if g is None:
                    continue
                symbolic = symbolic_local_grads(node)
                _check_agreement(node, symbolic)
                for p, d in zip(node._edges[0::2], symbolic):
                    if wanted is None or p in wanted:
                        c = _times(d, g)
                        grads[p] = c if p not in grads else grads[p] + c
        return grads
    for node in reversed(order):
        g = grads.get(node)
        if g is None:
            continue
        edges = iter(node._edges)
        for p, d in zip(edges, edges):
            if wanted is None or p in wanted:
                grads[p] = grads.get(p, 0.0) + d * g
    return grads


def backward_create_graph(root: Value, grad: Any = 1.0) -> None:
    """``root.backward(create_graph=True)``: every ``.grad`` as backward() leaves it, and
    each leaf's gradient also as a Value, added to ``leaf.grad_value``."""
    seed = grad if type(grad) is Value else engine._to_float(grad)
    grads = _backward([root], [seed], None, True)
    for node in _topological_order(root):  # interior nodes: this call's gradient
        node.grad = 0.0
    with enable_grad():
        for node, g in grads.items():
            if node._edges:
                node.grad = g.data if type(g) is Value else g
                continue
            g = g if type(g) is Value else Value(g)
            node.grad += g.data
            before = node.grad_value
            node.grad_value = g if before is None else before + g


def _get_grad_value(v: Value) -> Value | None:
    return v._meta.get('grad_value') if v._meta else None


def _set_grad_value(v: Value, g: Value | None) -> None:
    if g is None:
        if v._meta:
            v._meta.pop('grad_value', None)
    elif type(g) is not Value:
        raise TypeError(f"grad_value must be a Value or None, got {type(g).__name__}")
    else:
        v._meta = {**(v._meta or {}), 'grad_value': g}


# The gradient as a Value, kept in the node's _meta dict (no slot on every Value).
Value.grad_value = property(
    _get_grad_value,
    _set_grad_value,
    doc="This leaf's gradient as a Value (None until backward(create_graph=True)): a graph "
    "that can be drawn, explained and differentiated again. Accumulates like .grad; set "
    "it to None to reset (its graph refers back to the leaf, so that also frees it at once).",
)
engine._graph_backward = backward_create_graph

# -----------------------------------------------------------------------------
# The public functions.
# -----------------------------------------------------------------------------


def _as_values(xs: Any, what: str, who: str) -> tuple[list[Value], bool]:
    single = isinstance(xs, Value)
    xs = [xs] if single else list(xs)
    for i, x in enumerate(xs):
        if type(x) is not Value:
            raise TypeError(f"{who}: {what} {i} must be a Value, got {type(x).__name__}")
    return xs, single


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """d(sum of grad_outputs[k] * outputs[k]) / d(input) for each input, as a tuple.

    As ``torch.autograd.grad``: floats, or Values that can be differentiated again when
    ``create_graph=True`` (a derivative may be a node of the forward graph itself: d/dx
    of x * w is w). No ``.grad`` is touched. An input that the outputs do not depend on
    raises RuntimeError, or gives None with ``allow_unused=True``. Ops made with
    ``Value.from_op`` have no symbolic rule: create_graph through one raises
    NotImplementedError naming it.
    """
    outs, _ = _as_values(outputs, 'output', 'grad')
    xs, _ = _as_values(inputs, 'input', 'grad')
    if grad_outputs is None:
        seeds: list = [1.0] * len(outs)
    else:
        seeds = (
            [grad_outputs]
            if isinstance(grad_outputs, Value)
            else list(grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs])
        )
        if len(seeds) != len(outs):
            raise ValueError(f"grad: {len(seeds)} grad_outputs for {len(outs)} outputs")
        seeds = [s if (type(s) is Value and create_graph) else engine._data(s) for s in seeds]
    grads = _backward(outs, seeds, xs, create_graph)
    result: list = []
    for i, x in enumerate(xs):
        g = grads.get(x)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} ({name_of(x)} = {_fmt(x.data)}) is not used in "
                    "computing the outputs; pass allow_unused=True to get None for it"
                )
        elif create_graph and type(g) is not Value:
            g = Value(g)  # a constant derivative: a leaf
        elif not create_graph and type(g) is Value:
            g = g.data
        result.append(g)
    return tuple(result)


def _leaves(inputs: Any, who: str) -> tuple[list[Value], bool]:
    """Fresh leaves holding the inputs' numbers (numbers or Values), and whether one."""
    single = not isinstance(inputs, (list, tuple))
    items = [inputs] if single else list(inputs)
    leaves = []
    for i, x in enumerate(items):
        number = x.data if type(x) is Value else engine._number(x)
        if number is None:
            raise TypeError(f"{who}: input {i} must be a number or a Value, got {type(x).__name__}")
        leaves.append(Value(number))
    return leaves, single


def _floats(gs: Sequence[Any]) -> list[float]:
    return [0.0 if g is None else g for g in gs]


def hessian(fn: Callable[..., Any], inputs: Any) -> Any:
    """The matrix of second derivatives of fn(*inputs), as nested lists of floats.

    As ``torch.autograd.functional.hessian``: ``inputs`` are numbers or Values (their
    numbers are used; no ``.grad`` is touched). One input, not in a list, gives a float.
    """
    xs, single = _leaves(inputs, 'hessian')
    out = fn(*xs)
    n = len(xs)
    if type(out) is not Value:
        _check_number(out, 'hessian')
        rows = [[0.0] * n for _ in range(n)]
    else:
        first = grad(out, xs, create_graph=True, allow_unused=True)
        gs = [g for g in first if g is not None]
        order = _order(gs)  # sorted once: every row's backward pass walks the same graph
        prepared = (order, _reaching(order, xs))
        rows = []
        for g in first:
            grads = {} if g is None else _backward([g], [1.0], xs, False, prepared)
            rows.append([grads.get(x, 0.0) for x in xs])
    return rows[0][0] if single else rows


def jacobian(fn: Callable[..., Any], inputs: Any) -> Any:
    """d output_i / d input_j of fn(*inputs), as nested lists of floats.

    ``fn`` returns one Value (a row of n floats) or a list of them (m rows). As
    ``torch.autograd.functional.jacobian``, an input not in a list drops that level.
    """
    xs, single_in = _leaves(inputs, 'jacobian')
    out = fn(*xs)
    single_out = not isinstance(out, (list, tuple))
    outs = [out] if single_out else list(out)
    rows = []
    for o in outs:
        if type(o) is Value:
            rows.append(_floats(grad(o, xs, allow_unused=True)))
        else:
            _check_number(o, 'jacobian')
            rows.append([0.0] * len(xs))
    table = [r[0] for r in rows] if single_in else rows
    return table[0] if single_out else table


def hvp(fn: Callable[..., Any], inputs: Any, v: Any) -> tuple[float, Any]:
    """(fn(*inputs), H v): the Hessian times the vector v, without forming the Hessian.

    As ``torch.autograd.functional.hvp``: one backward pass with create_graph gives the
    gradient as Values, a second one differentiates gradient . v.
    """
    xs, single = _leaves(inputs, 'hvp')
    vs = [v] if single else list(v)
    if len(vs) != len(xs):
        raise ValueError(f"hvp: v has {len(vs)} entries for {len(xs)} inputs")
    vs = [engine._data(t) for t in vs]
    out = fn(*xs)
    if type(out) is not Value:
        return _check_number(out, 'hvp'), 0.0 if single else [0.0] * len(xs)
    first = grad(out, xs, create_graph=True, allow_unused=True)
    terms = [g * t for g, t in zip(first, vs) if g is not None]
    if not terms:
        hv = [0.0] * len(xs)
    else:
        hv = _floats(grad(engine.sum(terms), xs, allow_unused=True))
    return out.data, hv[0] if single else hv


def jvp(fn: Callable[..., Any], inputs: Any, tangents: Any) -> tuple[Any, Any]:
    """(fn(*inputs), J t): forward mode, the directional derivative along the tangents.

    The tangents are pushed forward along the graph, parents before children:
    tangent(node) = sum over its parents of d node/d parent * tangent(parent). One pass
    gives the derivative along one direction (reverse mode gives all of them at once).
    As ``torch.autograd.functional.jvp``; fn may return one Value or a list of them.
    """
    xs, single = _leaves(inputs, 'jvp')
    ts = [tangents] if single else list(tangents)
    if len(ts) != len(xs):
        raise ValueError(f"jvp: {len(ts)} tangents for {len(xs)} inputs")
    out = fn(*xs)
    single_out = not isinstance(out, (list, tuple))
    outs = [out] if single_out else list(out)
    tangent: dict = {x: engine._data(t) for x, t in zip(xs, ts)}
    for node in _order([o for o in outs if type(o) is Value]):
        edges = iter(node._edges)
        t = 0.0
        for p, d in zip(edges, edges):
            if p in tangent:
                t += d * tangent[p]
        tangent[node] = t
    values = [o.data if type(o) is Value else _check_number(o, 'jvp') for o in outs]
    dirs = [tangent.get(o, 0.0) if type(o) is Value else 0.0 for o in outs]
    return (values[0], dirs[0]) if single_out else (values, dirs)


def _check_number(x: Any, who: str) -> float:
    f = engine._number(x)
    if f is None:
        raise TypeError(f"{who}: fn must return a Value or a number, got {type(x).__name__}")
    return f
