"""The demo step of micrograd, written five ways, all from the same data and weights.

The workload is micrograd's own demo: MLP(2, [16, 16, 1]) with relu on the hidden
layers, 100 two-moons points with labels -1/+1, hinge loss ``relu(1 - y * score)``
averaged, plus 1e-4 * sum(p * p), then backward and a plain SGD update with the
demo's learning-rate schedule ``1.0 - 0.9 * k / 100``.

Each ``make_*`` function returns ``step(k) -> loss`` (a float, the loss before the
update). All of them start from the same weights, so their losses must agree to
rounding: run_all.py checks it, which shows that every row measures the same work.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

SIZES = [2, 16, 16, 1]
N_POINTS = 100
ALPHA = 1e-4

Step = Callable[[int], float]


def learning_rate(k: int) -> float:
    """The demo's schedule."""
    return 1.0 - 0.9 * k / 100


def make_moons(n: int = N_POINTS, noise: float = 0.1, seed: int = 1337):
    """Two interleaving half circles with labels -1 and +1 (as lists of floats)."""
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    xs: list[list[float]] = []
    ys: list[float] = []
    for i in range(n_out):
        t = math.pi * i / (n_out - 1)
        xs.append([math.cos(t), math.sin(t)])
        ys.append(-1.0)
    for i in range(n_in):
        t = math.pi * i / (n_in - 1)
        xs.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        ys.append(1.0)
    xs = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in xs]
    return xs, ys


def initial_weights(seed: int = 42):
    """Per layer: W as nout lists of nin floats (uniform in -1..1, as micrograd), b as zeros."""
    rng = random.Random(seed)
    layers = []
    for nin, nout in zip(SIZES[:-1], SIZES[1:]):
        w = [[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(nout)]
        b = [0.0] * nout
        layers.append((w, b))
    return layers


# -- 1. micrograd 0.1.0, exactly as its demo notebook ------------------------------


def make_micrograd(xs, ys, layers) -> Step:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(SIZES[0], SIZES[1:])
    for layer, (w, b) in zip(model.layers, layers):
        for neuron, wrow, bias in zip(layer.neurons, w, b):
            for p, v in zip(neuron.w, wrow):
                p.data = v
            neuron.b.data = bias

    def step(k: int) -> float:
        inputs = [list(map(Value, xrow)) for xrow in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        lr = learning_rate(k)
        for p in model.parameters():
            p.data -= lr * p.grad
        return total_loss.data

    return step


# -- 2 and 3. microgrid: nn.MLP, losses.hinge + losses.l2, optim.SGD, eager or compiled ----


def microgrid_model(layers):
    """microgrid's MLP(2, [16, 16, 1]) holding the given weights, its SGD, and the loss."""
    from microgrid import losses, nn, optim

    model = nn.MLP(SIZES[0], SIZES[1:])
    for layer, (w, b) in zip(model.layers, layers):
        for neuron, wrow, bias in zip(layer.neurons, w, b):
            for p, v in zip(neuron.w, wrow):
                p.data = v
            neuron.b.data = bias
    opt = optim.SGD(model.parameters(), lr=1.0)

    def loss_fn(xs, ys):
        scores = [model(x) for x in xs]
        return losses.hinge(scores, ys) + ALPHA * losses.l2(model)

    return opt, loss_fn


def make_microgrid(xs, ys, layers, compiled: bool = False) -> Step:
    opt, loss_fn = microgrid_model(layers)
    if compiled:
        import microgrid

        loss_fn = microgrid.compile(loss_fn, static_argnums=(1,))  # labels: static

    def step(k: int) -> float:
        loss = loss_fn(xs, ys)
        opt.zero_grad()
        loss.backward()
        opt.lr = learning_rate(k)
        opt.step()
        return loss.data

    return step


def make_microgrid_compiled(xs, ys, layers) -> Step:
    return make_microgrid(xs, ys, layers, compiled=True)


# -- 4. hand-written numpy: the same MLP as matrices, backprop by hand ----------------


def make_numpy(xs, ys, layers) -> Step:
    import numpy as np

    X = np.array(xs, dtype=np.float64)
    y = np.array(ys, dtype=np.float64)
    n = len(y)
    (W1, b1), (W2, b2), (W3, b3) = [
        (np.array(w, dtype=np.float64), np.array(b, dtype=np.float64)) for w, b in layers
    ]
    params = [W1, b1, W2, b2, W3, b3]

    def step(k: int) -> float:
        h1 = X @ W1.T + b1
        a1 = np.maximum(h1, 0.0)
        h2 = a1 @ W2.T + b2
        a2 = np.maximum(h2, 0.0)
        s = (a2 @ W3.T + b3)[:, 0]
        margin = 1.0 - y * s
        loss = np.maximum(margin, 0.0).sum() / n + ALPHA * sum((p * p).sum() for p in params)
        ds = np.where(margin > 0.0, -y / n, 0.0)[:, None]  # (n, 1)
        dh2 = (ds @ W3) * (h2 > 0.0)
        dh1 = (dh2 @ W2) * (h1 > 0.0)
        grads = [dh1.T @ X, dh1.sum(0), dh2.T @ a1, dh2.sum(0), ds.T @ a2, ds.sum(0)]
        lr = learning_rate(k)
        for p, g in zip(params, grads):
            p -= lr * (g + 2.0 * ALPHA * p)
        return float(loss)

    return step


# -- 5. PyTorch CPU eager, float64 ---------------------------------------------------


def make_torch(xs, ys, layers) -> Step:
    import torch

    X = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys, dtype=torch.float64)
    mods: list[torch.nn.Module] = []
    for i, (w, b) in enumerate(layers):
        lin = torch.nn.Linear(len(w[0]), len(w), dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float64))
        mods.append(lin)
        if i != len(layers) - 1:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=1.0)

    def step(k: int) -> float:
        s = model(X)[:, 0]
        data_loss = torch.relu(1.0 - y * s).mean()
        loss = data_loss + ALPHA * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        for group in opt.param_groups:
            group['lr'] = learning_rate(k)
        opt.step()
        return loss.item()

    return step


ROWS = {
    'micrograd': make_micrograd,
    'microgrid eager': make_microgrid,
    'microgrid compiled': make_microgrid_compiled,
    'hand-written numpy': make_numpy,
    'PyTorch CPU eager (float64)': make_torch,
}
