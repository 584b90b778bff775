"""microgrid.compiler.hessian: the numpy replay of the gradient graph, row by row (issue 25).

Its rows must agree with torch float64 and with the exact eager path (to 1e-12: numpy sums
in another order), touch no .grad, and fall back to the eager path where the replay
cannot run.
"""

from __future__ import annotations

import math

import pytest

from microgrid import Value, higher, losses, nn
from microgrid.compiler import hessian

torch = pytest.importorskip('torch', reason='torch (a dev dependency) is the reference here')

X = [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7], [2.0, 0.1], [-1.2, -0.4]]
Y = [1.0, -1.0, 1.0, -1.0, 1.0]


def _model_and_loss():
    model = nn.MLP(2, [4, 1], activation='tanh', seed=3)
    first = model.layers[0].neurons[0]
    start = [p.data for p in (*first.w, first.b)]

    def loss_of(w0, w1, b):
        first.w[0], first.w[1], first.b = w0, w1, b
        return losses.mse([model(x) for x in X], Y) + 1e-3 * losses.l2(model)

    return model, loss_of, start


def _torch_hessian(model, start):
    # the same model in torch float64, as a function of the first neuron's w0, w1, b
    layers = [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64),
            torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64),
        )
        for layer in model.layers
    ]
    X_t = torch.tensor(X, dtype=torch.float64)
    y_t = torch.tensor(Y, dtype=torch.float64)

    def f(p):
        (W1, b1), (W2, b2) = layers
        W1 = torch.cat([p[:2][None, :], W1[1:]])
        b1 = torch.cat([p[2:], b1[1:]])
        s = (torch.tanh(X_t @ W1.T + b1) @ W2.T + b2)[:, 0]
        l2 = sum((t * t).sum() for t in (W1, b1, W2, b2))
        return ((s - y_t) ** 2).mean() + 1e-3 * l2

    return torch.autograd.functional.hessian(f, torch.tensor(start, dtype=torch.float64)).tolist()


def _close(a, b):
    return all(
        math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-13)
        for ra, rb in zip(a, b)
        for x, y in zip(ra, rb)
    )


def test_replayed_rows_agree_with_torch_and_eager_and_touch_no_grad():
    model, loss_of, start = _model_and_loss()
    eager = higher.hessian(loss_of, start)
    reference = _torch_hessian(model, start)
    assert _close(eager, reference)
    for _ in range(3):  # eager, then traced, then replayed
        assert _close(hessian(loss_of, start), reference)
    assert all(p.grad == 0.0 for p in model.parameters())
    moved = [s + 0.25 for s in start]  # another point: the replay, not a new trace
    assert _close(hessian(loss_of, moved), higher.hessian(loss_of, moved))


def test_a_fn_the_replay_cannot_run_gets_the_eager_answer():
    def const(x, y):
        return 3.0  # a number: nothing to trace

    for _ in range(3):
        assert hessian(const, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]

    def custom(x):
        return Value.from_op('cube', [x], x.data**3, [3 * x.data**2]) + x * x

    for _ in range(3):
        with pytest.raises(Exception) as info:
            hessian(custom, 2.0)  # eager refuses create_graph through a custom op
        assert type(info.value) is type(_eager_error(custom))


def _eager_error(fn):
    try:
        higher.hessian(fn, 2.0)
    except Exception as e:
        return e
    raise AssertionError('eager should refuse')


def test_one_input_not_in_a_list_gives_a_float():
    def f(x):
        return (x * x * x).tanh()

    results = [hessian(f, 0.3) for _ in range(3)]
    expected = higher.hessian(f, 0.3)
    assert all(type(r) is float and math.isclose(r, expected, rel_tol=1e-12) for r in results)
