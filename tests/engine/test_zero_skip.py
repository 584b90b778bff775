"""backward() skips a node whose grad is 0 when its op's local derivatives are finite
(engine._FINITE_LOCALS): 0 * local adds 0. These tests pin why that is exact, and that
where a local derivative can be infinite a zero gradient still gives NaN, as in PyTorch.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
import torch

from microgrid import Value, engine
from microgrid.engine import _FINITE_LOCALS, OPS, topological_order

EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0,
         709.0, -745.0, 1e154, -1e154, 1e300, -1e300, math.inf, -math.inf, math.nan]  # fmt: skip


def _outcomes(op: str):
    """(result, locals) of op's rule over every edge input that does not raise."""
    rule = OPS[op]
    if op == 'sum':
        cases = [(list(p),) for p in itertools.product(EDGES, repeat=2)]
    elif op == 'dot':
        pairs = list(itertools.product(EDGES, repeat=2))
        cases = [(list(a), list(b)) for a, b in itertools.product(pairs, repeat=2)]
    else:
        cases = list(itertools.product(EDGES, repeat=rule.__code__.co_argcount))
    for args in cases:
        try:
            out = rule(*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            continue
        result, locals_ = out[0], out[1:]
        flat = []
        for d in locals_:
            flat += d if isinstance(d, list) else [d]
        yield args, result, flat


@pytest.mark.parametrize('op', sorted(_FINITE_LOCALS))
def test_a_finite_result_has_finite_local_derivatives(op: str) -> None:
    checked = 0
    for args, result, locals_ in _outcomes(op):
        if math.isfinite(result):
            checked += 1
            assert all(math.isfinite(d) for d in locals_), (op, args, result, locals_)
    assert checked > 10


@pytest.mark.parametrize('op', sorted(set(OPS) - _FINITE_LOCALS))
def test_the_ops_left_out_can_have_an_infinite_local_under_a_finite_result(op: str) -> None:
    found = [
        (args, locals_)
        for args, result, locals_ in _outcomes(op)
        if math.isfinite(result) and not all(math.isfinite(d) for d in locals_)
    ]
    assert found, f"{op} could join _FINITE_LOCALS"


def _both(build):
    """The leaf gradients of build(...) in microgrid and in torch float64."""
    xs = [Value(0.0), Value(1e-300), Value(2.0)]
    build(*xs).backward()
    ts = [torch.tensor(x.data, dtype=torch.float64, requires_grad=True) for x in xs]
    build(*ts).backward()
    return [x.grad for x in xs], [t.grad.item() if t.grad is not None else 0.0 for t in ts]


GRAPHS = {
    'sqrt(0) * 0': lambda a, b, c: a.sqrt() * 0.0,
    'relu(sqrt(0) - 1) * c': lambda a, b, c: (a.sqrt() - 1.0).relu() * c,
    'sqrt(0) * (c - c)': lambda a, b, c: a.sqrt() * (c - c),
    'a ** 0.5 * 0 + c': lambda a, b, c: a**0.5 * 0.0 + c,
    'tanh(c) * 0 + c * c': lambda a, b, c: c.tanh() * 0.0 + c * c,
}


@pytest.mark.parametrize('name', GRAPHS)
def test_zero_gradients_through_infinite_locals_agree_with_torch(name: str) -> None:
    got, want = _both(GRAPHS[name])
    for g, w in zip(got, want):
        assert (math.isnan(g) and math.isnan(w)) or g == w, (name, got, want)


def test_the_skip_gives_the_same_bits_as_propagating_every_edge() -> None:
    """A relu network with dead units and points past the margin: the grads equal, bit
    for bit, those of node.propagate() on every node (0 * finite adds a zero)."""
    rng = random.Random(3)
    w = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(6)]
    v = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    leaves = [p for row in w for p in row] + v
    xs = [[rng.uniform(-2, 2) for _ in range(3)] + [1.0] for _ in range(20)]

    def loss() -> Value:
        terms = []
        for i, x in enumerate(xs):
            h = [s.relu() for s in engine.dots(w, x)]
            score = engine.dot(v, h)
            terms.append((1.0 - (1 if i % 2 else -1) * score).relu())
        return engine.sum(terms) * (1.0 / len(xs))

    root = loss()
    root.backward()
    skipped = [p.grad for p in leaves]
    zero_nodes = sum(1 for n in topological_order(root) if n.grad == 0.0)
    for p in leaves:
        p.grad = 0.0
    root = loss()
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        node.propagate()
    assert [p.grad for p in leaves] == skipped
    assert zero_nodes > 10  # the test did exercise the skip
    assert any(g != 0.0 for g in skipped)
