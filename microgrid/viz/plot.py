"""Pictures of learning: loss curves, decision boundaries, weights, and a training GIF.

matplotlib, numpy and Pillow are imported inside the functions, so importing this module
is cheap. Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot, no GUI
backend), so they work headless; each function returns its figure and saves it when
given a ``path``. The figures know how to show themselves: a figure that is a Jupyter
cell's result is displayed as a PNG under the normal inline backend, without pyplot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from microgrid.viz.animation import training_animation, weights_animation
from microgrid.viz.figures import (
    _check_xy,
    _draw_boundary,
    _figure,
    _numbers,
    _save,
    _weight_rows,
    decision_grid,
)

__all__ = [
    'decision_grid',
    'plot_bars',
    'plot_confusion',
    'plot_curves',
    'plot_decision_boundary',
    'plot_history',
    'plot_images',
    'plot_paths',
    'plot_points',
    'plot_weights',
    'training_animation',
    'weights_animation',
]


# -----------------------------------------------------------------------------
# Loss and accuracy
# -----------------------------------------------------------------------------


def plot_history(history: Mapping[str, Sequence[float]], path: str | Path | None = None) -> Any:
    """Loss (and accuracy, if present) per epoch from fit()'s history; returns the Figure."""
    if not isinstance(history, Mapping) or 'loss' not in history:
        raise TypeError("history must be fit()'s dict with a 'loss' list (and maybe 'accuracy')")
    loss = _numbers(history['loss'], "history['loss']")
    if not loss:
        raise ValueError("history['loss'] is empty: train for at least one epoch")
    acc = _numbers(history['accuracy'], "history['accuracy']") if 'accuracy' in history else None
    if acc is not None and len(acc) != len(loss):
        raise ValueError(f"history has {len(loss)} losses but {len(acc)} accuracies")
    fig = _figure((9.0 if acc is not None else 5.0, 3.5))
    axes = fig.subplots(1, 2 if acc is not None else 1, squeeze=False)[0]
    epochs = range(1, len(loss) + 1)
    axes[0].plot(epochs, loss, color='tab:blue', marker='.' if len(loss) < 40 else None)
    axes[0].set(xlabel='epoch', ylabel='loss', title='loss')
    if min(loss) > 0 and max(loss) / min(loss) > 100:
        axes[0].set_yscale('log')
    if acc is not None:
        axes[1].plot(epochs, acc, color='tab:green', marker='.' if len(acc) < 40 else None)
        axes[1].set(xlabel='epoch', ylabel='accuracy', title='accuracy', ylim=(-0.02, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
    _save(fig, path)
    return fig


# -----------------------------------------------------------------------------
# Decision boundaries
# -----------------------------------------------------------------------------


def plot_decision_boundary(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    path: str | Path | None = None,
    resolution: int = 60,
    margin: float = 0.5,
    title: str | None = None,
) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    ``model(x)`` returns a Value score (class 1 where > 0, boundary at 0) or a list of
    logits (the largest wins). Returns the Figure; saves it to ``path`` if given.
    """
    points, labels = _check_xy(X, y)
    grid = decision_grid(model, points, resolution, margin)
    fig = _figure((5.0, 4.5))
    _draw_boundary(fig.subplots(), grid, points, labels, title)
    _save(fig, path)
    return fig


def plot_points(X: Sequence[Sequence[float]], y: Sequence[Any], title: str | None = None) -> Any:
    """A 2-D data set as points coloured by class (the colours of the decision plots)."""
    points, labels = _check_xy(X, y)
    fig = _figure((4.2, 3.4))
    ax = fig.subplots()
    for c in sorted(set(labels), key=lambda c: float(c)):
        mine = [p for p, lab in zip(points, labels) if lab == c]
        ax.scatter(
            [p[0] for p in mine],
            [p[1] for p in mine],
            s=18,
            edgecolors='k',
            linewidths=0.5,
            label=f'class {c}',
        )
    ax.set(xlabel='x0', ylabel='x1', title=title)
    ax.legend(fontsize=7)
    return fig


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    x: Sequence[float] | None = None,
    xlabel: str = 'epoch',
    ylabel: str = 'loss',
    title: str | None = None,
    log: bool = False,
) -> Any:
    """Several named curves on one axes (x defaults to 1, 2, ...); returns the Figure."""
    fig = _figure((6.0, 3.4))
    ax = fig.subplots()
    for name, values in curves.items():
        ys = _numbers(list(values), f'curves[{name!r}]')
        ax.plot(range(1, len(ys) + 1) if x is None else list(x), ys, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, yscale='log' if log else 'linear')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


# -----------------------------------------------------------------------------
# Weights as images
# -----------------------------------------------------------------------------


def plot_weights(
    model_or_layer: Any,
    path: str | Path | None = None,
    shape: tuple[int, int] | None = None,
    max_neurons: int = 64,
) -> Any:
    """Each neuron's incoming weights as an image (8x8 for the digits); returns the Figure.

    For an MLP the first layer is shown. Red is positive, blue negative, on one scale.
    ``shape`` defaults to a square (64 inputs -> 8x8).
    """
    import numpy as np

    rows = _weight_rows(model_or_layer)[:max_neurons]
    nin = len(rows[0])
    if shape is None:
        side = math.isqrt(nin)
        if side * side != nin:
            raise ValueError(f"{nin} inputs do not make a square image: pass shape=(rows, cols)")
        shape = (side, side)
    if len(shape) != 2 or shape[0] * shape[1] != nin:
        raise ValueError(f"shape {shape} does not hold {nin} weights")
    cols = min(len(rows), 8)
    nrows = math.ceil(len(rows) / cols)
    cell = 1.4 if len(rows) > 2 else 3.2  # one or two neurons: big enough to read
    fig = _figure((cell * cols + 0.8, cell * nrows + 0.3))
    axes = fig.subplots(nrows, cols, squeeze=False)
    limit = max(abs(w) for row in rows for w in row) or 1.0
    image = None
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(rows):
            ax.set_axis_off()
            continue
        image = ax.imshow(
            np.asarray(rows[i]).reshape(shape),
            cmap='RdBu_r',
            vmin=-limit,
            vmax=limit,
            interpolation='nearest',
        )
        ax.set_title(f'neuron {i}', fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8)
    _save(fig, path)
    return fig


# -----------------------------------------------------------------------------
# Training, as an animation
# -----------------------------------------------------------------------------


def plot_images(
    images: Sequence[Sequence[float]],
    titles: Sequence[str] = (),
    cmap: str = 'gray_r',
    signed: bool = False,
) -> Any:
    """Square images (64 numbers -> 8x8) side by side; ``signed`` centres the colours on 0."""
    fig = _figure((2.2 * len(images) + 0.2, 2.5))
    for i, ax in enumerate(fig.subplots(1, len(images), squeeze=False)[0]):
        side = math.isqrt(len(images[i]))
        limit = max(abs(v) for v in images[i]) or 1.0
        scale = {'vmin': -limit, 'vmax': limit} if signed else {}
        rows = [list(images[i][r * side : (r + 1) * side]) for r in range(side)]
        ax.imshow(rows, cmap=cmap, interpolation='nearest', **scale)
        ax.set(xticks=[], yticks=[], title=titles[i] if i < len(titles) else None)
    return fig


def plot_confusion(matrix: Sequence[Sequence[int]], title: str | None = None) -> Any:
    """Counts of (true class, predicted class) as a grid, each count written in its cell."""
    top = max(max(row) for row in matrix) or 1
    fig = _figure((5.0, 4.4))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap='Blues', vmin=0, vmax=top)
    for r, row in enumerate(matrix):
        for c, count in enumerate(row):
            if count:
                ax.text(
                    c,
                    r,
                    count,
                    ha='center',
                    va='center',
                    fontsize=9,
                    color='white' if count > 0.5 * top else 'black',
                    fontweight='bold' if r == c else None,
                )
    n = len(matrix)
    ax.set(xlabel='predicted class', ylabel='true class', xticks=range(n), yticks=range(n))
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def plot_bars(
    bars: Mapping[str, Sequence[float]],
    labels: Sequence[str],
    marks: Mapping[str, Sequence[float]] | None = None,
    title: str | None = None,
) -> Any:
    """Groups of bars side by side, one group per label; ``marks`` draws points on top."""
    fig = _figure((6.0, 3.2))
    ax = fig.subplots()
    width = 0.8 / len(bars)
    for k, (name, values) in enumerate(bars.items()):
        offset = (k - (len(bars) - 1) / 2) * width
        ax.bar([i + offset for i in range(len(labels))], values, width=width, label=name)
    for name, values in (marks or {}).items():
        ax.plot(range(len(labels)), values, 'kD', label=name)
    ax.axhline(0, color='grey', lw=0.5)
    ax.set(xticks=list(range(len(labels))), xticklabels=list(labels), title=title)
    ax.legend(fontsize=8)
    return fig


def plot_paths(
    loss: Any,
    paths: Mapping[str, Sequence[tuple[float, float]]],
    a_range: tuple[float, float],
    b_range: tuple[float, float],
    title: str | None = None,
    names: tuple[str, str] = ('a', 'b'),
    minimum: tuple[float, float] | None = None,
) -> Any:
    """Optimizer paths over the contour lines of a two-parameter ``loss(a, b)``.

    ``names`` label the two axes; ``minimum``, if given, is marked with a star.
    """
    import numpy as np

    grid_a = np.linspace(*a_range, 141)
    grid_b = np.linspace(*b_range, 81)
    surface = [[loss(float(a), float(b)) for a in grid_a] for b in grid_b]
    fig = _figure((8.0, 4.2))
    ax = fig.subplots()
    ax.contour(
        grid_a, grid_b, surface, levels=[0.05, 0.2, 0.5, 1, 2, 4], colors='grey', linewidths=0.7
    )
    for (name, points), style in zip(paths.items(), ['o-', 's-', '^-', 'v-', 'D-']):
        ax.plot([p[0] for p in points], [p[1] for p in points], style, ms=3, label=name)
    if minimum is not None:
        ax.plot([minimum[0]], [minimum[1]], 'k*', ms=12, label='the minimum')
    ax.set(xlabel=names[0], ylabel=names[1], aspect='equal', title=title)
    ax.legend(fontsize=8, loc='lower right')
    return fig
