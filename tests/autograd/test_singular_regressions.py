"""The singular-point defects of issue 21, one test each, against PyTorch float64."""

from __future__ import annotations

import math

import pytest
import torch

import microgrid
from microgrid import Value

torch.set_default_dtype(torch.float64)


def second_derivative(f, x: float) -> float:
    v = Value(x)
    (g,) = microgrid.grad(f(v), v, create_graph=True)
    (h,) = microgrid.grad(g, v)  # must not say that v is unused
    return h.data if isinstance(h, Value) else h


def torch_second_derivative(f, x: float) -> float:
    t = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(f(t), t, create_graph=True)
    return torch.autograd.grad(g, t)[0].item()


def test_sqrt_second_derivative_at_zero_is_minus_inf() -> None:
    """It said the input was unused: the first derivative had become a constant inf."""
    assert second_derivative(lambda x: x.sqrt(), 0.0) == -math.inf
    assert torch_second_derivative(lambda t: t.sqrt(), 0.0) == -math.inf
    v = Value(0.0)
    (g,) = microgrid.grad(v.sqrt(), v, create_graph=True)
    assert g.data == math.inf and g.parents  # a graph, not a constant


def test_sqrt_at_minus_zero_follows_torch() -> None:
    v = Value(-0.0)
    out = v.sqrt()
    out.backward()
    assert v.grad == -math.inf  # 0.5 / sqrt(-0.0), as torch
    assert second_derivative(lambda x: x.sqrt(), -0.0) == math.inf
    assert torch_second_derivative(lambda t: t.sqrt(), -0.0) == math.inf


def test_second_derivative_of_a_reciprocal_overflows_to_inf() -> None:
    assert second_derivative(lambda x: x**-1, 1e-308) == math.inf
    assert torch_second_derivative(lambda t: t**-1, 1e-308) == math.inf
    assert second_derivative(lambda x: x**0.5, 0.0) == -math.inf


NAN_CASES = {
    'exp': (lambda x: x.exp(), lambda t: t.exp()),
    'tanh': (lambda x: x.tanh(), lambda t: t.tanh()),
    'sin': (lambda x: x.sin(), lambda t: t.sin()),
    'sigmoid': (lambda x: x.sigmoid(), lambda t: t.sigmoid()),
    'sqrt of a square': (lambda x: (x * x).sqrt(), lambda t: (t * t).sqrt()),
    'reciprocal': (lambda x: 3.0 / x, lambda t: 3.0 / t),
    'power': (lambda x: x**2.5, lambda t: t**2.5),
    'cube': (lambda x: x * x * x, lambda t: t * t * t),  # the third derivative is 6
    'dot': (lambda x: microgrid.dot([x, x], [x, 1.0]), lambda t: t * t + t),
}


@pytest.mark.parametrize('name', NAN_CASES)
def test_nan_in_gives_nan_out_at_every_order_as_torch(name: str) -> None:
    """A derivative that depends on the input is NaN at NaN; a constant one is not."""
    f, tf = NAN_CASES[name]
    v, t = Value(math.nan), torch.tensor(math.nan, requires_grad=True)
    g, tg = f(v), tf(t)
    assert math.isnan(g.data) and math.isnan(tg.item())
    for order in (1, 2, 3):
        if not tg.requires_grad:  # torch: a constant; microgrid: a leaf or unused
            assert type(g) is not Value or not g.parents, order
            break
        (g,) = microgrid.grad(g, v, create_graph=True, allow_unused=True)
        (tg,) = torch.autograd.grad(tg, t, create_graph=True)
        ours = 0.0 if g is None else g.data
        assert ours == tg.item() or (math.isnan(ours) and math.isnan(tg.item())), order


def test_grad_of_x_over_inf_at_zero_does_not_raise() -> None:
    """It raised a bare ZeroDivisionError: float division by zero."""
    x = Value(0.0)
    (g,) = microgrid.grad(x / math.inf, x, create_graph=True)
    assert g.data == 0.0
    assert microgrid.hessian(lambda v: v / math.inf, 0.0) == 0.0


def test_third_derivative_of_sqrt_at_zero_follows_torch() -> None:
    """create_graph at a singular point builds the graph as torch does (inf / 0 is inf)."""
    xs = [Value(0.0)]
    ts = [torch.tensor(0.0, requires_grad=True)]
    g, tg = xs[0].sqrt(), ts[0].sqrt()
    for order in (1, 2, 3):
        (g,) = microgrid.grad(g, xs[0], create_graph=True)
        (tg,) = torch.autograd.grad(tg, ts[0], create_graph=True)
        assert g.data == tg.item(), order  # inf, -inf, inf


def test_a_derivative_that_cannot_be_built_names_the_op(monkeypatch) -> None:
    from microgrid.autograd import symbolic

    monkeypatch.setitem(symbolic.SYMBOLIC_RULES, 'tanh', lambda o, a: (1.0 / 0.0,))
    x = Value(0.5, label='x')
    with pytest.raises(ZeroDivisionError, match=r"derivative of the 'tanh' node"):
        microgrid.grad(x.tanh(), x, create_graph=True)


@pytest.mark.parametrize(
    ('outputs', 'inputs', 'names'),
    [
        (lambda y, x: y, lambda y, x: 2.0, 'inputs must be a Value or a list'),
        (lambda y, x: 3.0, lambda y, x: x, 'outputs must be a Value or a list'),
        (lambda y, x: y, lambda y, x: [x, 2.0], r'input 1 must be a Value, got float'),
        (lambda y, x: [y, 3.0], lambda y, x: x, r'output 1 must be a Value, got float'),
    ],
)
def test_grad_names_a_wrong_argument(outputs, inputs, names: str) -> None:
    x = Value(2.0)
    y = x * x
    with pytest.raises(TypeError, match=names):
        microgrid.grad(outputs(y, x), inputs(y, x))
