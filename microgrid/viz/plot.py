"""Pictures of learning: loss curves, decision boundaries, weights, and a training GIF.

matplotlib, numpy and Pillow are imported inside the functions, so importing this module
is cheap. Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot, no GUI
backend), so they work headless; each function returns its figure and saves it when
given a ``path``. The figures know how to show themselves: a figure that is a Jupyter
cell's result is displayed as a PNG under the normal inline backend, without pyplot.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

from microgrid.engine import Value
from microgrid.switches import no_grad

__all__ = [
    'decision_grid',
    'plot_decision_boundary',
    'plot_history',
    'plot_weights',
    'training_animation',
]


_FIGURE_CLASS: Any = None


def _figure_class() -> Any:
    """matplotlib's Figure with a ``_repr_png_``, made on first use (matplotlib is lazy)."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class ShownFigure(Figure):
            """A Figure that Jupyter displays as a PNG when it is a cell's result."""

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format='png', dpi=100)
                return buffer.getvalue()

        _FIGURE_CLASS = ShownFigure
    return _FIGURE_CLASS


def _figure(size: tuple[float, float]) -> Any:
    return _figure_class()(figsize=size, layout='constrained')


def _save(fig: Any, path: str | Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=100)


def _numbers(values: Any, what: str) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{what} must be a list of numbers, got {type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{what}[{i}] must be a number, got {type(v).__name__}")
        out.append(float(v))
    return out


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


def _check_xy(X: Any, y: Any) -> tuple[list[list[float]], list[Any]]:
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence) or not len(X):
        raise TypeError("X must be a non-empty list of 2-D points")
    points = []
    for i, x in enumerate(X):
        row = _numbers(x, f'X[{i}]')
        if len(row) != 2:
            raise ValueError(f"decision boundaries are drawn for 2-D inputs; X[{i}] has {len(row)}")
        points.append(row)
    if isinstance(y, (str, bytes)) or not isinstance(y, Sequence) or len(y) != len(points):
        raise ValueError(f"y must be a list of {len(points)} labels, one per point of X")
    return points, list(y)


def _score(out: Any) -> float | list[float]:
    """A model output as a number (one score) or a list of numbers (logits)."""
    if isinstance(out, Value):
        return out.data
    if isinstance(out, Real) and not isinstance(out, bool):
        return float(out)
    if isinstance(out, (list, tuple)) and out:
        values = [_score(o) for o in out]
        if all(isinstance(v, float) for v in values):
            return values[0] if len(values) == 1 else values  # type: ignore[return-value]
    raise TypeError(
        f"the model must return a Value score or a list of logits, got {type(out).__name__}"
    )


def decision_grid(
    model: Any, X: Sequence[Sequence[float]], resolution: int = 50, margin: float = 0.5
) -> tuple[Any, Any, Any, bool]:
    """(xx, yy, Z, binary) over the box around X: Z is the score (binary) or the class.

    The model runs under no_grad (no graph is kept). A one-output model gives its score,
    class 1 where it is > 0; a model returning logits gives the index of the largest.
    """
    import numpy as np

    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    pts = np.asarray(X, dtype=float)
    lo, hi = pts.min(axis=0) - margin, pts.max(axis=0) + margin
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    with no_grad():
        scores = [_score(model([float(a), float(b)])) for a, b in zip(xx.ravel(), yy.ravel())]
    binary = not isinstance(scores[0], list)
    if binary:
        Z = np.asarray(scores, dtype=float)
    else:
        rows: list[list[float]] = scores  # type: ignore[assignment]
        Z = np.asarray([max(range(len(s)), key=s.__getitem__) for s in rows], dtype=float)
    return xx, yy, Z.reshape(xx.shape), binary


def _draw_boundary(ax: Any, grid: tuple, points: list, labels: list, title: str | None) -> None:
    import numpy as np

    xx, yy, Z, binary = grid
    if binary:
        limit = float(np.nanmax(np.abs(Z))) or 1.0
        ax.contourf(
            xx,
            yy,
            np.clip(Z, -limit, limit),
            levels=20,
            cmap='RdBu_r',
            alpha=0.35,
            vmin=-limit,
            vmax=limit,
        )
        if np.nanmin(Z) < 0 < np.nanmax(Z):
            ax.contour(xx, yy, Z, levels=[0.0], colors='k', linewidths=1.2)
    else:
        n = int(Z.max()) + 1
        ax.contourf(
            xx, yy, Z, levels=np.arange(-0.5, n + 0.5), cmap='tab10', alpha=0.3, vmin=0, vmax=9
        )
    pts = np.asarray(points)
    classes = sorted(set(labels), key=lambda c: float(c))
    for c in classes:
        mask = np.asarray([lab == c for lab in labels])
        ax.scatter(
            pts[mask, 0], pts[mask, 1], s=18, edgecolors='k', linewidths=0.5, label=f'class {c}'
        )
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), xlabel='x0', ylabel='x1')
    if title:
        ax.set_title(title)
    if len(classes) <= 10:
        ax.legend(loc='upper right', fontsize=7, framealpha=0.7)


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


# -----------------------------------------------------------------------------
# Weights as images
# -----------------------------------------------------------------------------


def _weight_rows(model_or_layer: Any) -> list[list[float]]:
    """Each neuron's input weights: of an MLP's first layer, a Layer, or one Neuron."""
    obj = model_or_layer
    if hasattr(obj, 'layers') and obj.layers:
        obj = obj.layers[0]
    if hasattr(obj, 'neurons'):
        return [[w.data for w in n.w] for n in obj.neurons]
    if hasattr(obj, 'w'):
        return [[w.data for w in obj.w]]
    raise TypeError(
        f"plot_weights needs an MLP, a Layer or a Neuron, got {type(model_or_layer).__name__}"
    )


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
    fig = _figure((1.4 * cols + 0.8, 1.4 * nrows + 0.3))
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


def _frame_image(fig: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return Image.frombuffer('RGBA', canvas.get_width_height(), canvas.buffer_rgba()).convert('RGB')


def training_animation(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    loss: Any,
    optimizer: Any,
    epochs: int,
    path: str | Path,
    every: int = 1,
    scheduler: Any = None,
    batch_size: int | None = None,
    resolution: int = 40,
    duration: int = 200,
    l2: float = 0.0,
    seed: Any = None,
    progress: bool = False,
) -> tuple[Path, dict[str, list[float]]]:
    """Train with microgrid.training.fit and save a GIF of the decision boundary and loss.

    The first frame shows the untrained model (epoch 0); then one frame is recorded after
    every ``every``-th epoch (and after the last one), so ``1 + ceil(epochs / every)``
    frames, each ``duration`` ms. The frames share fixed axes, so the loss curve grows
    into a still picture. The model, data, loss, optimizer, scheduler and progress bar
    are those fit() takes. Returns (path, history).
    """
    from microgrid.training import fit

    points, labels = _check_xy(X, y)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an int >= 1, got {every!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 1:
        raise ValueError(f"duration must be a positive int (milliseconds), got {duration!r}")
    # (epoch, grid, losses so far, accuracy): drawn after training, on fixed axes
    snapshots: list[tuple[int, Any, list[float], float | None]] = [
        (0, decision_grid(model, points, resolution), [], None)
    ]

    def record(epoch: int, history: dict) -> None:
        if (epoch + 1) % every and epoch != epochs - 1:
            return
        acc = history['accuracy'][-1] if 'accuracy' in history else None
        snapshots.append(
            (epoch + 1, decision_grid(model, points, resolution), list(history['loss']), acc)
        )

    history = fit(
        model,
        points,
        labels,
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        scheduler=scheduler,
        l2=l2,
        seed=seed,
        progress=progress,
        callback=record,
    )
    top = max(history['loss']) * 1.05 if history['loss'] else 1.0
    frames = []
    for epoch, grid, seen, acc in snapshots:
        fig = _figure((9.0, 4.0))
        left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
        _draw_boundary(left, grid, points, labels, f'epoch {epoch} / {epochs}')
        right.plot(range(1, len(seen) + 1), seen, color='tab:blue', marker='.')
        right.set(xlim=(0, epochs + 0.5), ylim=(0, top), xlabel='epoch', ylabel='loss')
        right.set_title('loss' if acc is None else f'loss (accuracy {acc:.0%})')
        right.grid(alpha=0.3)
        frames.append(_frame_image(fig))
    target = Path(path)
    palette = [f.convert('P', palette=1, colors=255) for f in frames]  # 1 = ADAPTIVE
    palette[0].save(
        target,
        format='GIF',
        save_all=True,
        append_images=palette[1:],
        duration=duration,
        loop=0,
        optimize=False,
    )
    return target, history
