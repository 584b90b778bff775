"""Animations of learning, as GIFs that show inline in Jupyter: the decision boundary
while a model trains, and a neuron's weights epoch by epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from microgrid.viz.figures import _check_xy, _draw_boundary, _figure, decision_grid
from microgrid.viz.raster import save_gif

__all__ = ['training_animation', 'weights_animation']


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
    from microgrid.nn.training import fit

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
    return save_gif(frames, path, duration), history


def weights_animation(
    frames: Sequence[tuple[str, Sequence[float]]], path: str | Path, duration: int = 300
) -> Path:
    """A GIF of one neuron's weights as an image, one (caption, weights) frame each."""
    limit = max(abs(w) for _, ws in frames for w in ws) or 1.0
    images = []
    for caption, ws in frames:
        fig = _figure((3.4, 3.2))
        ax = fig.subplots()
        side = math.isqrt(len(ws))
        ax.imshow(
            [list(ws[r * side : (r + 1) * side]) for r in range(side)],
            cmap='RdBu_r',
            vmin=-limit,
            vmax=limit,
            interpolation='nearest',
        )
        ax.set(xticks=[], yticks=[], title=caption)
        images.append(_frame_image(fig))
    return save_gif(images, path, duration)
