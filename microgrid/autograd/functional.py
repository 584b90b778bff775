"""Derivatives of derivatives: grad(), hessian(), jacobian(), hvp() and forward-mode jvp().

With ``create_graph=True`` the backward pass multiplies and adds the symbolic rules'
Values (microgrid.autograd.symbolic) instead of floats, and the gradient it returns is a
Value whose graph is the derivative itself: draw it, explain it, or differentiate it
again. ``Value.backward(create_graph=True)`` runs ``backward_with_graph``.

Names and semantics follow PyTorch: ``torch.autograd.grad`` and
``torch.autograd.functional.{hessian, jacobian, hvp, jvp}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from microgrid import _numbers, engine
from microgrid.autograd.modes import enable_grad
from microgrid.autograd.symbolic import SYMBOLIC_RULES, check_agreement, symbolic_local_grads
from microgrid.engine import Value, topological_order
from microgrid.text import fmt as _fmt
from microgrid.text import name_of

__all__ = ['SYMBOLIC', 'backward_with_graph', 'grad', 'hessian', 'hvp', 'jacobian', 'jvp']

SYMBOLIC = SYMBOLIC_RULES  # the name lesson 11 reads as microgrid.higher.SYMBOLIC
"""The symbolic rule table, microgrid.autograd.symbolic.SYMBOLIC_RULES."""

# -----------------------------------------------------------------------------
# The backward pass, with floats or with Values.
# -----------------------------------------------------------------------------


def _order(roots: Sequence[Value]) -> list[Value]:
    """Every interior node below the roots, each after all of its parents."""
    if len(roots) == 1:
        return topological_order(roots[0])
    order: list[Value] = []
    placed: set = set()
    for r in roots:
        for node in topological_order(r):
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
                check_agreement(node, symbolic)
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


def backward_with_graph(root: Value, grad: Any = 1.0) -> None:
    """``root.backward(create_graph=True)``: every ``.grad`` as backward() leaves it, and
    each leaf's gradient also as a Value, added to ``leaf.grad_value``."""
    seed = grad if type(grad) is Value else _numbers.to_float(grad)
    grads = _backward([root], [seed], None, True)
    for node in topological_order(root):  # interior nodes: this call's gradient
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


# -----------------------------------------------------------------------------
# The public functions.
# -----------------------------------------------------------------------------


def _as_values(xs: Any, what: str, who: str) -> tuple[list[Value], bool]:
    single = isinstance(xs, Value)
    if not single and not isinstance(xs, (list, tuple)):
        raise TypeError(
            f"{who}: {what}s must be a Value or a list or tuple of Values, got "
            f"{type(xs).__name__} (a plain number has no graph to differentiate)"
        )
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
        number = x.data if type(x) is Value else _numbers.number(x)
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
    f = _numbers.number(x)
    if f is None:
        raise TypeError(f"{who}: fn must return a Value or a number, got {type(x).__name__}")
    return f
