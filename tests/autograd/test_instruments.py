"""Teaching instruments: backward_steps, from_op, detect_anomaly, names (explain and
gradcheck are tested in tests/autograd/)."""

from __future__ import annotations

import math
import random

import pytest
from catalogue import lesson_graph
from hypothesis import given, settings
from hypothesis import strategies as st

import microgrid
from microgrid import Value


def test_step_strings_for_a_known_graph() -> None:
    *_, L = lesson_graph()
    assert [str(s) for s in L.backward_steps()] == [
        'L.grad = 1.0  (seed: dL/dL)',
        'd.grad += dL/dd * L.grad = -2.0 * 1.0 = -2.0  (d.grad = -2.0)',
        'f.grad += dL/df * L.grad = 4.0 * 1.0 = 4.0  (f.grad = 4.0)',
        'e.grad += dd/de * d.grad = 1.0 * -2.0 = -2.0  (e.grad = -2.0)',
        'c.grad += dd/dc * d.grad = 1.0 * -2.0 = -2.0  (c.grad = -2.0)',
        'a.grad += de/da * e.grad = -3.0 * -2.0 = 6.0  (a.grad = 6.0)',
        'b.grad += de/db * e.grad = 2.0 * -2.0 = -4.0  (b.grad = -4.0)',
    ]


def test_step_attributes() -> None:
    a, b, c, e, d, f, L = lesson_graph()
    steps = list(L.backward_steps())
    seed, last = steps[0], steps[-1]
    assert seed.is_seed and seed.node is L and seed.parent is None and seed.upstream == 1.0
    assert (last.node, last.parent) == (e, b)
    assert (last.local_grad, last.upstream, last.contribution, last.parent_grad) == (
        2.0,
        -2.0,
        -4.0,
        -4.0,
    )
    assert len(steps) == 1 + 6  # a seed, then one step per edge


def random_graph(rng: random.Random, n_leaves: int = 4, n_ops: int = 25):
    """A random DAG with heavy reuse of earlier nodes."""
    nodes = [Value(rng.uniform(-1.5, 1.5)) for _ in range(n_leaves)]
    leaves = list(nodes)
    unary = [Value.tanh, Value.sigmoid, Value.sin, Value.relu, lambda v: v * 0.5 + 1.0]
    binary = [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: a - b,
        lambda a, b: microgrid.sum([a, b, a]),
        lambda a, b: microgrid.dot([a, b], [b, 2.0]),
    ]
    for _ in range(n_ops):
        if rng.random() < 0.4:
            nodes.append(rng.choice(unary)(rng.choice(nodes)))
        else:
            nodes.append(rng.choice(binary)(rng.choice(nodes), rng.choice(nodes)))
    root = microgrid.sum(nodes[-5:])
    return leaves, nodes, root


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_running_every_step_leaves_exactly_backwards_grads(seed: int) -> None:
    leaves, nodes, root = random_graph(random.Random(seed))
    root.backward()
    expected = [v.grad for v in nodes]
    for v in nodes:
        v.grad = 0.0
    for _ in root.backward_steps():
        pass
    assert [v.grad for v in nodes] == expected  # bit for bit: the same additions in order
    # the same semantics on a second call: leaves accumulate, interior nodes do not
    for _ in root.backward_steps():
        pass
    root2 = [v.grad for v in nodes]
    for v in nodes:
        v.grad = 0.0
    root.backward()
    root.backward()
    assert [v.grad for v in nodes] == root2


def test_stopping_halfway_leaves_a_consistent_partial_state() -> None:
    leaves, nodes, root = random_graph(random.Random(7))
    steps = root.backward_steps()
    taken = [next(steps) for _ in range(12)]
    # every grad is exactly the sum of the contributions it has received so far
    received: dict[int, float] = {}
    for s in taken[1:]:
        received[id(s.parent)] = received.get(id(s.parent), 0.0) + s.contribution
        assert s.parent_grad == received[id(s.parent)]  # the running total at that step
    for v in nodes:
        if id(v) in received:
            assert v.grad == received[id(v)]
        elif v.parents:  # an interior node not reached yet: reset, waiting
            assert v.grad == 0.0
    assert root.grad == 1.0


# -- from_op ------------------------------------------------------------------------


def cube(x: Value) -> Value:
    return Value.from_op(x.data**3, (x,), (3 * x.data**2,), 'cube')


def wrong_cube(x: Value) -> Value:
    return Value.from_op(x.data**3, (x,), (2 * x.data**2,), 'wrong_cube')


def test_from_op_makes_a_node() -> None:
    x = Value(2.0)
    y = cube(x)
    assert (y.data, y.op, y.parents, y.local_grads) == (8.0, 'cube', (x,), (12.0,))
    (y * 2).backward()
    assert x.grad == 24.0
    with pytest.raises(ValueError, match='1 parents but 2 local_grads'):
        Value.from_op(1.0, [x], [1.0, 2.0], 'bad')
    with pytest.raises(TypeError, match='parents must be Values'):
        Value.from_op(1.0, [1.0], [1.0], 'bad')
    with pytest.raises(TypeError, match='str'):
        Value.from_op(1.0, [x], ['a'], 'bad')


# -- detect_anomaly ---------------------------------------------------------------------


def test_anomaly_inf_minus_inf_names_op_operands_and_place() -> None:
    a, b = Value(math.inf, 'a'), Value(math.inf, 'b')
    assert math.isnan((a - b).data)  # outside: NaN flows silently, as in Python
    with microgrid.detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            a - b  # the line named in the message
    message = str(info.value)
    assert "- gave nan from operands (a=inf, b=inf)" in message
    assert f'{__file__}:' in message and 'test_instruments.py' in message


def test_anomaly_infinite_from_finite_inputs() -> None:
    with microgrid.detect_anomaly():
        x = Value(1e200, 'x')
        with pytest.raises(FloatingPointError, match=r'\* gave inf from operands \(x=1e\+200'):
            x * x


def test_anomaly_log_of_a_tiny_value_in_backward() -> None:
    with microgrid.detect_anomaly():
        x = Value(1e-320, 'x')
        y = x.log()  # finite: about -737, but its slope 1/x is infinite
        assert math.isfinite(y.data)
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    assert 'backward through log node' in message and 'parent x' in message and 'inf' in message
    assert 'test_instruments.py:' in message


def test_anomaly_nan_gradient() -> None:
    with microgrid.detect_anomaly():
        x = Value(0.0, 'x')
        s = x.sqrt()  # slope +inf at 0
        z = s * 0.0  # upstream 0: inf * 0 is NaN
        z.label = 'z'
        with pytest.raises(FloatingPointError, match=r'sqrt node .* gave its parent x .*nan'):
            z.backward()
    x.grad = 0.0
    z.backward()  # outside the switch the same graph gives NaN silently
    assert math.isnan(x.grad)


def test_anomaly_mode_changes_no_results() -> None:
    leaves, nodes, root = random_graph(random.Random(3))
    root.backward()
    expected = [v.grad for v in leaves]
    for v in leaves:
        v.grad = 0.0
    with microgrid.detect_anomaly():
        root.backward()
    assert [v.grad for v in leaves] == expected
