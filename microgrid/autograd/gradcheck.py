"""gradcheck(): compare backward() with central finite differences.

When an input's gradient is wrong, gradcheck also finds WHICH node is to blame: it
nudges the input, watches every node of the graph move, and checks each node's
recorded local derivatives against how the node actually moved (forward-mode chain
rule, node by node). The first node whose local rule disagrees is named; this catches
a wrong custom op made with Value.from_op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from microgrid.engine import Value, topological_order
from microgrid.text import fmt as _fmt
from microgrid.text import name_of

__all__ = ['GradcheckError', 'gradcheck', 'gradgradcheck']


class GradcheckError(RuntimeError):
    """backward() and finite differences disagree (as torch.autograd.GradcheckError)."""


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Return True if backward() matches central differences for every input, else raise."""
    inputs = _check_inputs(inputs)
    saved = [x.grad for x in inputs]
    try:
        out = _call(fn, inputs)
        for x in inputs:
            x.grad = 0.0
        out.backward()
        analytic = [x.grad for x in inputs]
    finally:
        for x, g in zip(inputs, saved):
            x.grad = g
    for i, x in enumerate(inputs):
        numeric = _central_difference(fn, inputs, i, eps)
        if not abs(analytic[i] - numeric) <= atol + rtol * abs(numeric):
            message = (
                f'gradcheck: the gradient of input {i} ({name_of(x)} = {_fmt(x.data)}) is wrong: '
                f'backward gives {analytic[i]!r}, finite differences give {numeric!r}'
            )
            culprit = _first_bad_node(fn, inputs, i, eps, atol, rtol)
            raise GradcheckError(message + (f'.\n{culprit}' if culprit else '.'))
    return True


def _check_inputs(inputs: Sequence[Value]) -> list[Value]:
    if isinstance(inputs, Value):
        inputs = [inputs]
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f'gradcheck: input {i} must be a Value, got {type(x).__name__}')
    return inputs


def _call(fn: Callable[..., Value], inputs: list[Value]) -> Value:
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f'gradcheck: fn must return a Value, got {type(out).__name__}')
    return out


def _central_difference(fn, inputs: list[Value], i: int, eps: float) -> float:
    x = inputs[i]
    original = x.data
    try:
        x.data = original + eps
        up = _call(fn, inputs).data
        x.data = original - eps
        down = _call(fn, inputs).data
    finally:
        x.data = original
    return (up - down) / (2 * eps)


def _first_bad_node(fn, inputs: list[Value], i: int, eps: float, atol: float, rtol: float):
    """Name the first node whose local derivatives disagree with how it moves."""
    x = inputs[i]
    original = x.data
    try:
        base = _graph(_call(fn, inputs))
        x.data = original + eps
        up = _graph(_call(fn, inputs))
        x.data = original - eps
        down = _graph(_call(fn, inputs))
    finally:
        x.data = original
    if not (len(base) == len(up) == len(down)):
        return 'fn builds a different graph when the input moves, so nodes cannot be compared.'
    for (node, _, _), (_, hi, p_hi), (_, lo, p_lo) in zip(base, up, down):  # parents first
        moved = (hi - lo) / (2 * eps)
        predicted = 0.0
        for g, a, b in zip(node.local_grads, p_hi, p_lo):
            predicted += g * (a - b) / (2 * eps)
        if not abs(predicted - moved) <= atol + rtol * abs(moved):
            parents = ', '.join(f'{name_of(p)}={_fmt(p.data)}' for p in node.parents)
            grads = ', '.join(_fmt(g) for g in node.local_grads)
            return (
                f"The first node with a wrong local derivative is the '{node.op}' node "
                f'{name_of(node)} = {_fmt(node.data)} (parents {parents}): its local_grads '
                f'({grads}) predict it moves by {predicted!r} per unit of {name_of(x)}, '
                f'but it moves by {moved!r}.'
            )
    return None


def _graph(out: Value) -> list[tuple[Value, float, tuple[float, ...]]]:
    """Each interior node with its data and its parents' data, as they are now."""
    return [(n, n.data, tuple(p.data for p in n.parents)) for n in topological_order(out)]


def gradgradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Return True if second derivatives by ``create_graph`` match finite differences of
    the gradient for every pair of inputs, else raise GradcheckError naming the first op
    whose symbolic derivative rule is wrong."""
    from microgrid.autograd.functional import grad

    inputs = _check_inputs(inputs)
    out = _call(fn, inputs)
    plain = grad(out, inputs, allow_unused=True)
    try:
        first = grad(out, inputs, create_graph=True, allow_unused=True)
    except RuntimeError as e:  # a rule that disagrees with its float rule in value
        if isinstance(e, NotImplementedError):
            raise
        culprit = _second_order_culprit(fn, inputs, 0, eps, atol, rtol)
        raise GradcheckError(f'gradgradcheck: {e}{culprit}') from None
    for i, (g, f) in enumerate(zip(first, plain)):
        value = 0.0 if g is None else g.data
        f = 0.0 if f is None else f
        if not abs(value - f) <= atol + rtol * abs(f):
            message = (
                f'gradgradcheck: the gradient of input {i} ({name_of(inputs[i])}) built with '
                f'create_graph is {value!r}, but backward gives {f!r}'
            )
            raise GradcheckError(message + _second_order_culprit(fn, inputs, i, eps, atol, rtol))
    for j, x in enumerate(inputs):
        numeric = _gradient_difference(fn, inputs, j, eps)
        for i, g in enumerate(first):
            analytic = 0.0 if g is None else _or_zero(grad(g, [x], allow_unused=True)[0])
            if not abs(analytic - numeric[i]) <= atol + rtol * abs(numeric[i]):
                message = (
                    f'gradgradcheck: d2/d{name_of(inputs[i])} d{name_of(x)} is wrong: '
                    f'create_graph gives {analytic!r}, finite differences of the gradient '
                    f'give {numeric[i]!r}'
                )
                raise GradcheckError(
                    message + _second_order_culprit(fn, inputs, j, eps, atol, rtol)
                )
    return True


def _or_zero(g):
    return 0.0 if g is None else g


def _gradient_difference(fn, inputs: list[Value], j: int, eps: float) -> list[float]:
    """d gradient / d input j by central differences of backward's gradient."""
    from microgrid.autograd.functional import grad

    x = inputs[j]
    original = x.data
    try:
        x.data = original + eps
        up = grad(_call(fn, inputs), inputs, allow_unused=True)
        x.data = original - eps
        down = grad(_call(fn, inputs), inputs, allow_unused=True)
    finally:
        x.data = original
    return [(_or_zero(u) - _or_zero(d)) / (2 * eps) for u, d in zip(up, down)]


def _second_order_culprit(fn, inputs: list[Value], j: int, eps, atol, rtol) -> str:
    """Name the first node whose symbolic rule disagrees with its float rule in value, or
    in how it moves when input j moves."""
    from microgrid.autograd.functional import grad, symbolic_local_grads

    x = inputs[j]
    original = x.data
    try:
        base = _call(fn, inputs)
        nodes = topological_order(base)
        x.data = original + eps
        up = [n.local_grads for n in topological_order(_call(fn, inputs))]
        x.data = original - eps
        down = [n.local_grads for n in topological_order(_call(fn, inputs))]
    finally:
        x.data = original
    if not (len(nodes) == len(up) == len(down)):
        return '.\nfn builds a different graph when the input moves, so nodes cannot be compared.'
    for node, hi, lo in zip(nodes, up, down):  # parents first
        for k, (d, fd) in enumerate(zip(symbolic_local_grads(node), node.local_grads)):
            value = d.data if isinstance(d, Value) else d
            moved = (hi[k] - lo[k]) / (2 * eps)
            rule = 0.0 if not isinstance(d, Value) else _or_zero(grad(d, [x], allow_unused=True)[0])
            if not abs(value - fd) <= atol + rtol * abs(fd):
                problem = f'gives {_fmt(value)} where the float rule gives {_fmt(fd)}'
            elif not abs(rule - moved) <= atol + rtol * abs(moved):
                problem = (
                    f'changes by {rule!r} per unit of {name_of(x)}, but the float rule\'s '
                    f'local derivative changes by {moved!r}'
                )
            else:
                continue
            parent = name_of(node.parents[k])
            return (
                f".\nThe first node with a wrong symbolic derivative is the '{node.op}' node "
                f'{name_of(node)} = {_fmt(node.data)}: its symbolic d{name_of(node)}/d{parent} '
                f'{problem}.'
            )
    return '.'
