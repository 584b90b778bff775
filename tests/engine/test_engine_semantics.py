"""The engine's answers that must never be silently wrong (issue 13) and micrograd's
names on Value (issue 15)."""

from __future__ import annotations

import math

import pytest
import torch

import microgrid
from microgrid import Value, detect_anomaly, no_grad

NAN, INF = float('nan'), float('inf')


@pytest.mark.parametrize('op', ['relu', 'abs', 'leaky_relu'])
def test_nan_travels_through_relu_abs_and_leaky_relu_as_in_torch(op) -> None:
    x = Value(NAN)
    y = getattr(x, op)() if op != 'abs' else abs(x)
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)
    t = torch.tensor(NAN, dtype=torch.float64)
    tout = {
        'relu': torch.relu,
        'abs': torch.abs,
        'leaky_relu': lambda v: torch.nn.functional.leaky_relu(v, 0.01),
    }[op](t)
    assert math.isnan(tout.item())


def test_an_mlp_fed_one_nan_reports_a_nan_loss() -> None:
    from microgrid import losses, nn

    model = nn.MLP(2, [4, 1], seed=0)
    out = model([NAN, 1.0])
    loss = losses.mse([out], [1.0])
    assert math.isnan(loss.data)


def test_a_finite_power_with_an_overflowing_slope() -> None:
    x = Value(1e-300)
    y = x**-1
    assert y.data == pytest.approx(1e300)
    y.backward()
    t = torch.tensor(1e-300, dtype=torch.float64, requires_grad=True)
    (t**-1).backward()
    assert x.grad == t.grad.item() == -INF
    with detect_anomaly(), pytest.raises(FloatingPointError, match='backward through \\*\\*'):
        (Value(1e-300) ** -1).backward()
    w = Value(-1e-200)
    z = w**-1  # a negative base: the slope -w**-2 overflows to -inf
    z.backward()
    tw = torch.tensor(-1e-200, dtype=torch.float64, requires_grad=True)
    (tw**-1).backward()
    assert z.data == pytest.approx(-1e200) and w.grad == tw.grad.item() == -INF


@pytest.mark.parametrize('op', ['sin', 'cos'])
def test_trig_of_infinity_names_op_and_operand(op) -> None:
    with pytest.raises(ValueError, match=f"{op}\\(inf\\): math domain error"):
        getattr(Value(INF), op)()
    with pytest.raises(ValueError, match=f"{op}\\(-inf\\)"):
        getattr(Value(-INF), op)()


def test_detect_anomaly_inside_no_grad_checks_the_forward_pass() -> None:
    with no_grad(), detect_anomaly(), pytest.raises(FloatingPointError, match='gave nan'):
        Value(INF) - Value(INF)
    with detect_anomaly(), no_grad(), pytest.raises(FloatingPointError, match='gave nan'):
        Value(0.0) * INF


def test_truth_is_data_not_zero() -> None:
    assert not Value(0.0) and not Value(-0.0)
    assert Value(2.0) and Value(-1e-300) and Value(NAN)
    assert bool(torch.tensor(0.0)) is bool(Value(0.0)) is False


# -- micrograd's spellings -----------------------------------------------------------------


def test_prev_and_op_are_micrograds_spellings() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    assert c._prev == {a, b} and isinstance(c._prev, set)
    assert (a * a)._prev == {a}
    assert c._op == '*' and (a + b)._op == '+' and a._op == ''
    assert (a**2)._op == '**2' and (a**-1)._op == '**-1' and (a**0.5)._op == '**0.5'
    assert a.relu()._op == 'ReLU' and a.tanh()._op == 'tanh' and a.exp()._op == 'exp'
    with pytest.raises(AttributeError):
        c._prev = set()  # read-only
    import sys

    assert sys.getsizeof(c) == sys.getsizeof(a)  # no memory per node for the spellings


def test_backward_by_hand_node_by_node_as_in_the_lecture() -> None:
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, s, x2w2, x1w1):
        node._backward()
    assert n.grad == pytest.approx(0.5, rel=1e-12)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), rel=1e-12)
    ref = [Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)]
    (ref[0] * ref[2] + ref[1] * ref[3] + ref[4]).tanh().backward()
    assert [v.grad for v in (x1, x2, w1, w2, b)] == [v.grad for v in ref]


def test_propagate_is_backwards_one_node_share() -> None:
    a = Value(3.0)
    y = a * a
    y.grad = 2.0
    y.propagate()
    assert a.grad == 12.0  # both edges: 3*2 + 3*2


def test_micrograds_private_constructor_points_to_from_op() -> None:
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match='from_op'):
        Value(3.0, (a, b), '+')
    with pytest.raises(TypeError, match='from_op'):
        Value(3.0, _children=(a, b), _op='+')
    with pytest.raises(TypeError, match='label must be a str'):
        Value(1.0, label=5)
    assert Value(2.0, label='a').label == 'a'


def test_the_lecture_draw_dot_walk_works() -> None:
    """A draw_dot-style walk over _prev and _op, written the way the lecture's is."""
    a, b = Value(2.0, label='a'), Value(-3.0, label='b')
    L = (a * b + 10).tanh()
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(L)
    assert len(nodes) == 5 and len(edges) == 4
    ops = sorted(v._op for v in nodes if v._op)
    assert ops == ['*', '+', 'tanh']


def test_public_switch_names() -> None:
    for name in ('no_grad', 'enable_grad', 'set_grad_enabled', 'is_grad_enabled', 'detect_anomaly'):
        assert name in microgrid.__all__ and callable(getattr(microgrid, name))


@pytest.mark.parametrize('op', ['log', 'sqrt', 'exp', 'tanh', 'sigmoid', 'softplus', 'sin', 'cos'])
def test_nan_goes_through_every_unary_op_as_nan(op) -> None:
    x = Value(NAN)
    y = getattr(x, op)()
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)
