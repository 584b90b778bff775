"""The Playground's settings and data: the choices, their checks, the data sets and features.

Every setting is checked here, from Python or from the browser, with an error that names
what was wrong. ``FEATURES`` are TensorFlow Playground's inputs, computed from (x1, x2).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from numbers import Real
from typing import Any

from microgrid.nn import ACTIVATIONS
from microgrid.nn import data as datasets

__all__ = [
    'CLASSIFICATION',
    'DATASETS',
    'FEATURES',
    'OPTIMIZERS',
    'REGRESSION',
    'SPEEDS',
    'check',
    'featurize',
    'make',
    'problem_of',
]

CLASSIFICATION = ('moons', 'circles', 'xor', 'spiral', 'blobs')
REGRESSION = ('plane', 'gaussians')  # a target in [-1, 1] for each point
DATASETS = CLASSIFICATION + REGRESSION
_BUMPS = ((-0.8, -0.8, 1.0), (0.8, 0.8, 1.0), (-0.8, 0.8, -1.0), (0.8, -0.8, -1.0))
OPTIMIZERS = ('sgd', 'momentum', 'adam')
FEATURES = ('x1', 'x2', 'x1^2', 'x2^2', 'x1*x2', 'sin x1', 'sin x2')
SPEEDS = (0, 1, 3, 10, 30, 100)  # updates per second; 0: as fast as the kernel can


def problem_of(dataset: str) -> str:
    """'regression' for the data sets with a number to predict, else 'classification'."""
    return 'regression' if dataset in REGRESSION else 'classification'


def _regression(name: str, n: int, noise: float, seed: int) -> tuple[list, list]:
    """n points uniform in [-1.5, 1.5]^2 with a target in [-1, 1]: a plane, or four bumps."""
    rng = random.Random(seed)
    X = [[rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)] for _ in range(n)]
    y = []
    for a, b in X:
        if name == 'plane':
            t = (a + b) / 3.0
        else:
            t = sum(s * math.exp(-((a - u) ** 2 + (b - v) ** 2) / 0.245) for u, v, s in _BUMPS)
        y.append(max(-1.0, min(1.0, t + noise * rng.gauss(0.0, 0.5))))
    return X, y


def make(name: str, n: int, noise: float, seed: int) -> tuple[list, list]:
    """n points of a two-class set (labels 0 and 1) or of a regression set (targets in
    [-1, 1]), centred near the origin, within about [-1.5, 1.5]^2."""
    if name in REGRESSION:
        return _regression(name, n, noise, seed)
    if name == 'moons':
        X, y = datasets.make_moons(n, noise=noise, seed=seed)
        X = [[a - 0.5, b - 0.25] for a, b in X]
    elif name == 'circles':
        X, y = datasets.make_circles(n, noise=noise, factor=0.5, seed=seed)
    elif name == 'xor':
        X, y = datasets.make_xor(n, noise=noise, seed=seed)
        X = [[2 * a - 1, 2 * b - 1] for a, b in X]
    elif name == 'spiral':
        X, y = datasets.make_spiral(2, (n + 1) // 2, noise=noise, seed=seed)
        X, y = X[:n], y[:n]
    else:
        X, y = datasets.make_blobs(
            n, centers=[[-0.7, -0.7], [0.7, 0.7]], cluster_std=0.25 + noise, seed=seed
        )
    return X, y


def featurize(features: Sequence[str], x1: Any, x2: Any, sin: Any = math.sin) -> list:
    """The chosen features of a point (floats) or of a grid (numpy arrays, with np.sin)."""
    table = {
        'x1': lambda: x1,
        'x2': lambda: x2,
        'x1^2': lambda: x1 * x1,
        'x2^2': lambda: x2 * x2,
        'x1*x2': lambda: x1 * x2,
        'sin x1': lambda: sin(x1),
        'sin x2': lambda: sin(x2),
    }
    return [table[f]() for f in features]


def _real(x: Any, what: str, low: float, high: float = math.inf, low_ok: bool = True) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__}: {x!r:.40}")
    f = float(x)
    if not (math.isfinite(f) and (f >= low if low_ok else f > low) and f <= high):
        bound = f"{'>=' if low_ok else '>'} {low}" + (f" and <= {high}" if high < math.inf else '')
        raise ValueError(f"{what} must be {bound}, got {x!r}")
    return f


def _int(x: Any, what: str, low: int, high: int | None = None) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{what} must be an int, got {type(x).__name__}: {x!r:.40}")
    if x < low or (high is not None and x > high):
        top = f" and <= {high}" if high is not None else ''
        raise ValueError(f"{what} must be >= {low}{top}, got {x}")
    return x


def _choice(x: Any, choices: tuple, what: str) -> Any:
    if isinstance(x, bool) or x not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}; got {x!r:.40}")
    return x


def _hidden(x: Any) -> list[int]:
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"hidden must be a list of layer widths such as [8, 8], got {x!r:.40}")
    out = []
    for i, w in enumerate(x):
        if isinstance(w, bool) or not isinstance(w, int):
            raise TypeError(f"hidden[{i}] must be an int width, got {w!r:.40}")
        if not 1 <= w <= 64:
            raise ValueError(f"hidden[{i}] is a layer of width {w}; every width must be 1 to 64")
        out.append(w)
    if len(out) > 6:
        raise ValueError(f"hidden has {len(out)} layers; at most 6")
    return out


def _features(x: Any) -> list[str]:
    if isinstance(x, str) or not isinstance(x, Sequence):
        raise TypeError(f"features must be a list such as ['x1', 'x2'], got {x!r:.40}")
    chosen = [_choice(f, FEATURES, 'each feature') for f in x]
    if not chosen:
        raise ValueError(f"features: choose at least one of {', '.join(FEATURES)}")
    return [f for f in FEATURES if f in chosen]  # one order, no repeats


_CHECKS = {
    'dataset': lambda x: _choice(x, DATASETS, 'dataset'),
    'noise': lambda x: _real(x, 'noise', 0.0, 1.0),
    'n_points': lambda x: _int(x, 'n_points', 8, 5000),
    'hidden': _hidden,
    'features': _features,
    'activation': lambda x: _choice(x, ACTIVATIONS, 'activation'),
    'lr': lambda x: _real(x, 'lr', 0.0, 10.0, low_ok=False),
    'batch_size': lambda x: _int(x, 'batch_size', 1),
    'l1': lambda x: _real(x, 'l1', 0.0, 10.0),
    'l2': lambda x: _real(x, 'l2', 0.0, 10.0),
    'optimizer': lambda x: _choice(x, OPTIMIZERS, 'optimizer'),
    'seed': lambda x: _int(x, 'seed', 0),
    'val_fraction': lambda x: _real(x, 'val_fraction', 0.05, 0.9),
    'resolution': lambda x: _int(x, 'resolution', 4, 200),
    'speed': lambda x: _int(x, 'speed', 0),
    'show_test': lambda x: _choice(x, (True, False), 'show_test'),
    'discretize': lambda x: _choice(x, (True, False), 'discretize'),
}


def check(name: str, x: Any) -> Any:
    """The setting ``name`` checked (and normalised), or a TypeError/ValueError saying why."""
    if name in ('show_test', 'discretize'):
        if not isinstance(x, bool):
            raise TypeError(f"{name} must be True or False, got {x!r:.40}")
        return x
    return _CHECKS[name](x)
