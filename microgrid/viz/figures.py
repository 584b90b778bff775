"""The figures' plumbing, shared by plot.py and animation.py: a matplotlib Figure that
shows itself in Jupyter (no pyplot), saving, checked numbers and points, and the
decision grid of a model (its score over a grid of points, computed without a graph).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import Any

from microgrid.autograd.modes import no_grad
from microgrid.engine import Value

__all__ = ['decision_grid']


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
