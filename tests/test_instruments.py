"""Teaching instruments: backward_steps, explain, from_op, gradcheck, detect_anomaly, names."""

from __future__ import annotations

import math
import random

import pytest
from catalogue import BINARY, UNARY
from hypothesis import given, settings
from hypothesis import strategies as st

import microgrid
from microgrid import GradcheckError, Value, explain, gradcheck
from microgrid.explain import paths

# -- a small known graph: the one every lesson uses -----------------------------------


def lesson_graph():
    a, b, c = Value(2.0, 'a'), Value(-3.0, 'b'), Value(10.0, 'c')
    e = a * b
    e.label = 'e'
    d = e + c
    d.label = 'd'
    f = Value(-2.0, 'f')
    L = d * f
    L.label = 'L'
    return a, b, c, e, d, f, L


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


# -- explain --------------------------------------------------------------------------


def test_explain_one_path() -> None:
    a, b, c, e, d, f, L = lesson_graph()
    L.backward()
    assert explain(a, L) == 'dL/da = dL/dd * dd/de * de/da = (-2.0)(1.0)(-3.0) = 6.0'
    assert explain(f, L) == 'dL/df = dL/df = (4.0) = 4.0'
    assert explain(L, L).startswith('dL/dL = 1.0')
    assert explain(Value(1.0, 'z'), L) == 'dL/dz = 0.0  (z is not used in computing L)'


def test_explain_reused_node() -> None:
    a = Value(3.0, 'a')
    b = a + a
    b.label = 'b'
    c = b * a
    c.label = 'c'
    c.backward()  # dc/da = b + a * 2 = 6 + 6 = 12
    text = explain(a, c)
    assert text.splitlines() == [
        'dc/da = the sum over 3 paths of the local derivatives multiplied:',
        '  path 1: dc/db * db/da = (3.0)(1.0) = 3.0',
        '  path 2: dc/db * db/da = (3.0)(1.0) = 3.0',
        '  path 3: dc/da = (6.0) = 6.0',
        'dc/da = 3.0 + 3.0 + 6.0 = 12.0',
    ]
    assert a.grad == 12.0


def test_explain_summarises_many_paths_and_totals_match_backward() -> None:
    x = Value(0.3, 'x')
    y = x
    for _ in range(12):  # 2**12 paths
        y = y * 0.9 + y.sin()
    y.label = 'y'
    y.backward()
    text = explain(x, y)
    lines = text.splitlines()
    assert lines[0] == 'dy/dx = the sum over 4096 paths of the local derivatives multiplied:'
    assert sum(line.startswith('  path') for line in lines) == 20
    assert '... and 4076 more paths, which add up to' in text
    total = float(lines[-1].rsplit('= ', 1)[1])
    assert total == pytest.approx(x.grad, rel=1e-5)
    assert sum(1 for _ in paths(x, y)) == 4096
    # an explicit product of every path equals backward's gradient
    assert math.fsum(math.prod(g for _, _, g in p) for p in paths(x, y)) == pytest.approx(
        x.grad, rel=1e-12
    )


def test_explain_notes_accumulated_leaf_grads() -> None:
    a, b, c, e, d, f, L = lesson_graph()
    L.backward()
    L.backward()
    assert explain(a, L).splitlines()[1] == (
        '  (note: a.grad holds 12.0, not 6.0; one backward() from zeroed grads gives 6.0, '
        'and a leaf adds up the gradients of every backward() until it is zeroed)'
    )
    a.grad = 0.0  # never backpropagated: no note
    assert explain(a, L) == 'dL/da = dL/dd * dd/de * de/da = (-2.0)(1.0)(-3.0) = 6.0'


# -- from_op and gradcheck --------------------------------------------------------------


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


@pytest.mark.parametrize('op', UNARY, ids=lambda o: o.name)
def test_gradcheck_passes_every_unary_op(op) -> None:
    a = 0.7 if op.name not in ('relu', 'abs', 'leaky_relu') else -0.6
    assert gradcheck(op.mg, [Value(a)]) is True


@pytest.mark.parametrize('op', BINARY, ids=lambda o: o.name)
def test_gradcheck_passes_every_binary_op(op) -> None:
    assert gradcheck(op.mg, [Value(1.3), Value(0.8)]) is True


def test_gradcheck_passes_sum_dot_and_custom_ops() -> None:
    xs = [Value(v) for v in (0.3, -1.2, 2.0)]
    assert gradcheck(lambda *v: microgrid.sum(v) * microgrid.dot(v, v[::-1]), xs)
    assert gradcheck(lambda x: cube(x).tanh(), [Value(0.4)])


def test_gradcheck_catches_and_names_a_wrong_custom_op() -> None:
    x, w = Value(0.7, 'x'), Value(1.5, 'w')
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w: (wrong_cube(x * w) + w).tanh(), [x, w])
    message = str(info.value)
    assert 'input 0 (x = 0.7)' in message and 'backward gives' in message
    assert "the 'wrong_cube' node" in message
    assert x.grad == 0.0 and x.data == 0.7  # the inputs are left as they were


def test_gradcheck_message_has_both_numbers() -> None:
    x = Value(2.0, 'x')
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong_cube, [x])
    first_line = str(info.value).splitlines()[0]
    assert 'backward gives 8.0, finite differences give 12.0000' in first_line


def test_gradcheck_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match='input 0 must be a Value'):
        gradcheck(lambda x: x, [1.0])
    with pytest.raises(TypeError, match='must return a Value'):
        gradcheck(lambda x: 1.0, [Value(1.0)])


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
