"""The Playground's pictures and scores, with numpy from the current weights.

No engine graph is built for a picture: the weights are copied into arrays and the
network is evaluated on a grid over the input plane (the decision boundary and every
hidden neuron's output) and on the whole training and test sets (loss, accuracy, dead
units). Pictures are bytes, one per grid cell: 0 is class 0, 255 class 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microgrid.live._pg_data import featurize

__all__ = ['dead', 'forward', 'maps', 'scores', 'weights']


def act(name: str, z: Any) -> Any:
    """numpy versions of the activations."""
    import numpy as np

    if name == 'relu':
        return np.maximum(z, 0.0)
    if name == 'tanh':
        return np.tanh(z)
    if name == 'sigmoid':
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if name == 'leaky_relu':
        return np.where(z > 0, z, 0.01 * z)
    return z


def weights(model: Any) -> list[tuple[Any, Any]]:
    """Each layer's (W, b) as arrays, copied from the model's Values."""
    import numpy as np

    return [
        (
            np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]),
        )
        for layer in model.layers
    ]


def inputs(features: Sequence[str], points: Any) -> Any:
    """The feature columns for rows of (x1, x2)."""
    import numpy as np

    P = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.column_stack(featurize(features, P[:, 0], P[:, 1], sin=np.sin))


def forward(layers: list, activation: str, X: Any) -> list[Any]:
    """Every layer's outputs for the rows of X, the last being the logits."""
    outs = []
    a = X
    for i, (W, b) in enumerate(layers):
        z = a @ W.T + b
        a = z if i == len(layers) - 1 else act(activation, z)
        outs.append(a)
    return outs


def scores(outs: list, y: Sequence[float], regression: bool = False) -> tuple[float, float]:
    """(binary cross-entropy, accuracy) of the logits in outs[-1] against labels y; for a
    regression, (mean squared error, nan)."""
    import numpy as np

    z = outs[-1][:, 0]
    t = np.asarray(y, dtype=float)
    if len(t) == 0:
        return float('nan'), float('nan')
    if regression:
        return float(np.mean((z - t) ** 2)), float('nan')
    loss = np.mean(np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z))))
    acc = np.mean((z > 0) == (t > 0.5))
    return float(loss), float(acc)


def dead(outs: list, activation: str) -> list[int]:
    """Flat indices of the hidden relu units that output 0 on every row (as dead_units)."""
    import numpy as np

    if activation != 'relu':
        return []
    found, base = [], 0
    for a in outs[:-1]:
        found += [base + int(j) for j in np.flatnonzero(np.all(a <= 0.0, axis=0))]
        base += a.shape[1]
    return found


def maps(
    layers: list,
    activation: str,
    features: Sequence[str],
    box: Sequence[float],
    res: int,
    neuron_res: int,
    discretize: bool,
    regression: bool = False,
) -> tuple[bytes, bytes]:
    """The output's picture (res x res) and every hidden neuron's (neuron_res square)."""
    import numpy as np

    x0, x1, y0, y1 = box

    def grid(n: int) -> list:
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y1, y0, n)  # row 0 at the top
        gx, gy = np.meshgrid(xs, ys)
        return forward(
            layers, activation, inputs(features, np.column_stack([gx.ravel(), gy.ravel()]))
        )

    outs = grid(res)
    z = outs[-1][:, 0]
    # p(class 1) in [0, 1]; for a regression, the output's value in [-1, 1] mapped to [0, 1]
    prob = 0.5 * (1.0 + (np.clip(z, -1.0, 1.0) if regression else np.tanh(0.5 * z)))
    if discretize:
        prob = np.where(prob > 0.5, 1.0, 0.0)
    boundary = np.clip(np.round(prob * 255), 0, 255).astype(np.uint8).tobytes()
    pictures = []
    for a in (grid(neuron_res) if neuron_res != res else outs)[:-1]:
        scale = np.max(np.abs(a), axis=0)
        scale[scale == 0] = 1.0
        pictures.append(np.clip(np.round(127.5 + 127.5 * a / scale), 0, 255).astype(np.uint8).T)
    return boundary, (np.concatenate(pictures).tobytes() if pictures else b'')
