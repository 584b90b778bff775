"""The main job, ``microgrid demo``: train micrograd's classic network and picture it.

micrograd's demo setup: MLP(2, [16, 16, 1]) with relu on 100 two-moons points (noise
0.1), the mean hinge loss plus 1e-4 times the sum of squared parameters, full-batch SGD
whose learning rate falls linearly from 1.0 to 0.1 (lr = 1.0 - 0.9 * k / steps). Then
it writes, into one folder:

- ``neuron.svg``: the chain rule's teaching example (``chain_rule_example``): a hidden
  tanh neuron feeding an output tanh neuron, with a squared-error loss above them, after
  backward, with the local derivative on every edge;
- ``neuron_backprop.html``: the backprop player for it, one chain-rule step per frame:
  every step multiplies a local derivative by an upstream gradient, and neither is a
  trivial 1.0 all the way down;
- ``training.gif``: the decision boundary and the loss while training;
- ``loss.png``: the loss and accuracy curves.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from microgrid.engine import Value

__all__ = [
    'DEFAULT_OUT',
    'DemoResult',
    'classic_schedule',
    'chain_rule_example',
    'classic_setup',
    'run_demo',
]

DEFAULT_OUT = 'microgrid-demo'
"""The folder the demo writes its pictures to, unless told otherwise."""
N_SAMPLES = 100
NOISE = 0.1
L2 = 1e-4
LR_START, LR_END = 1.0, 0.1
FRAMES = 20  # training.gif shows about this many epochs
FILES = {
    'neuron.svg': 'a hidden neuron feeding an output neuron and a loss, local derivatives shown',
    'neuron_backprop.html': 'its backward pass, step by step (open in a browser)',
    'training.gif': 'the decision boundary while training',
    'loss.png': 'the loss and accuracy curves',
}


class DemoResult(NamedTuple):
    """What run_demo() did: final loss and accuracy, the history, the files, the time."""

    loss: float
    accuracy: float
    history: dict[str, list[float]]
    files: dict[str, Path]
    seconds: float


def classic_setup(seed: int = 1337) -> tuple[Any, list[list[float]], list[int], Any]:
    """(model, X, y, optimizer): micrograd's demo network, data and SGD, seeded."""
    from microgrid import nn
    from microgrid.nn import data, optim

    X, y = data.make_moons(n_samples=N_SAMPLES, noise=NOISE, seed=seed)
    model = nn.MLP(2, [16, 16, 1], activation='relu', init='uniform', seed=seed)
    optimizer = optim.SGD(model.parameters(), lr=LR_START)
    return model, X, y, optimizer


def classic_schedule(optimizer: Any, steps: int) -> Any:
    """micrograd's schedule lr = 1.0 - 0.9 * k / steps, as a LinearLR."""
    from microgrid.nn.optim import LinearLR

    return LinearLR(optimizer, 1.0, LR_END / LR_START, total_iters=steps)


def chain_rule_example() -> Value:
    """L = (o - y)**2 where o = tanh(h*v + c) and h = tanh(x1*w1 + x2*w2 + b), target y = 1:
    the loss of an output neuron fed by one hidden neuron, nodes labelled as in the lecture.

    Small enough to read, and below the loss every backward step multiplies a local
    derivative by an upstream gradient that is not 1 (dL/do = 2(o - y), do/dm = 1 - o**2).
    """

    def named(v: Value, label: str) -> Value:
        v.label = label
        return v

    x1, x2 = Value(2.0, 'x1'), Value(0.5, 'x2')
    w1, w2, b = Value(-0.6, 'w1'), Value(0.8, 'w2'), Value(0.4, 'b')
    v, c = Value(1.5, 'v'), Value(0.3, 'c')
    x1w1 = named(x1 * w1, 'x1*w1')
    x2w2 = named(x2 * w2, 'x2*w2')
    s = named(x1w1 + x2w2, 'x1*w1 + x2*w2')
    h = named(named(s + b, 'n').tanh(), 'h')
    m = named(named(h * v, 'h*v') + c, 'm')
    o = named(m.tanh(), 'o')
    y = Value(1.0, 'y')  # the target
    return named(named(o - y, 'o - y') ** 2, 'L')


def _check_int(value: Any, what: str, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{what} must be at least {low}, got {value}")
    return value


def run_demo(
    out: str | os.PathLike = DEFAULT_OUT,
    steps: int = 100,
    seed: int = 1337,
    *,
    progress: bool = True,
    frames: int = FRAMES,
    echo: Callable[[str], Any] = print,
) -> DemoResult:
    """Train the classic network, write the four files into ``out`` and report on ``echo``.

    ``steps`` epochs of full-batch training; ``seed`` fixes the data and the initial
    weights; ``frames`` is about how many epochs training.gif shows; ``progress``
    shows a progress bar (tqdm, on stderr).
    """
    start = time.perf_counter()
    steps = _check_int(steps, 'steps', 1)
    seed = _check_int(seed, 'seed')
    frames = _check_int(frames, 'frames', 1)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path, got {type(out).__name__}")
    folder = Path(out)

    from microgrid.viz.draw import draw, find_renderer
    from microgrid.viz.player import backprop_player
    from microgrid.viz.plot import plot_history, training_animation

    find_renderer()  # no renderer: say so now, not after training
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in FILES}

    model, X, y, optimizer = classic_setup(seed)
    echo(
        f"microgrid demo: MLP(2, [16, 16, 1]) relu on {N_SAMPLES} two-moons points"
        f" (noise {NOISE}), hinge loss + {L2:g} L2, SGD lr {LR_START:g} -> {LR_END:g},"
        f" {steps} steps, seed {seed}"
    )
    _, history = training_animation(
        model,
        X,
        y,
        'hinge',
        optimizer,
        steps,
        files['training.gif'],
        every=max(1, math.ceil(steps / frames)),
        scheduler=classic_schedule(optimizer, steps),
        l2=L2,
        duration=250,
        resolution=30,
        progress=progress,
    )
    loss, accuracy = history['loss'][-1], history['accuracy'][-1]
    echo(f"final loss {loss:.4f}, accuracy {accuracy:.0%}")

    L = chain_rule_example()
    L.backward()
    svg = draw(L, show_local_grads=True).pipe(format='svg')
    files['neuron.svg'].write_bytes(svg)
    backprop_player(L, files['neuron_backprop.html'], show_local_grads=True)
    plot_history(history, files['loss.png'])

    width = max(len(str(p)) for p in files.values())
    for name, path in files.items():
        echo(f"wrote {str(path):<{width}}  {FILES[name]}")
    seconds = time.perf_counter() - start
    echo(f"done in {seconds:.1f} s")
    return DemoResult(loss, accuracy, history, files, seconds)
