"""gradcheck(): compare backward() with central finite differences.

When an input's gradient is wrong, gradcheck also finds WHICH node is to blame: it
nudges the input, watches every node of the graph move, and checks each node's
recorded local derivatives against how the node actually moved (forward-mode chain
rule, node by node). The first node whose local rule disagrees is named; this catches
a wrong custom op made with Value.from_op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from microgrid.engine import Value, _topological_order
from microgrid.labels import fmt as _fmt
from microgrid.names import name_of


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
    return [(n, n.data, tuple(p.data for p in n.parents)) for n in _topological_order(out)]
