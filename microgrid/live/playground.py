"""``Playground(...)``: train a small MLP on a 2-D data set and watch it learn, live.

The engine trains in a background thread, one batch per update, so the kernel stays
free: other cells run, ``pause()`` answers within a step, and ``p.model`` is the live
microgrid MLP. A few times a second (``fps``) a frame is published: the decision
boundary and every hidden neuron's output over the input plane, evaluated on a grid
with numpy from the current weights (no engine graph is built for pictures), and the
loss and accuracy on the whole training and validation sets.

Every data set has two classes; the model has one output, a logit, trained with binary
cross-entropy (plus ``l2`` times the sum of squared parameters).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from numbers import Real
from typing import Any

import traitlets

from microgrid import data as datasets
from microgrid import losses
from microgrid.live._base import LiveWidget, script
from microgrid.nn import ACTIVATIONS, MLP
from microgrid.optim import SGD, Adam, Optimizer

__all__ = ['DATASETS', 'OPTIMIZERS', 'Playground']

DATASETS = ('moons', 'circles', 'xor', 'spiral', 'blobs')
OPTIMIZERS = ('sgd', 'momentum', 'adam')
MOMENTUM = 0.9
_HISTORY = 400  # points kept per curve; older ones are thinned out


def _make(name: str, n: int, noise: float, seed: int) -> tuple[list, list]:
    """n points of a two-class set, centred near the origin, within about [-1.5, 1.5]^2."""
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


def _real(x: Any, what: str, low: float, high: float = math.inf, low_ok: bool = True) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__}: {x!r:.40}")
    f = float(x)
    if not (math.isfinite(f) and (f >= low if low_ok else f > low) and f <= high):
        bound = f"{'>=' if low_ok else '>'} {low}" + (f" and <= {high}" if high < math.inf else '')
        raise ValueError(f"{what} must be {bound}, got {x!r}")
    return f


def _int(x: Any, what: str, low: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{what} must be an int, got {type(x).__name__}: {x!r:.40}")
    if x < low:
        raise ValueError(f"{what} must be >= {low}, got {x}")
    return x


def _choice(x: Any, choices: tuple, what: str) -> str:
    if not isinstance(x, str) or x not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}; got {x!r:.40}")
    return x


def _hidden(x: Any) -> list[int]:
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"hidden must be a list of layer widths such as [8, 8], got {x!r:.40}")
    out = []
    for i, w in enumerate(x):
        if isinstance(w, bool) or not isinstance(w, int):
            raise TypeError(f"hidden[{i}] must be an int width, got {w!r:.40}")
        if w < 1:
            raise ValueError(f"hidden[{i}] is a layer of width {w}; every width must be >= 1")
        out.append(w)
    return out


# numpy versions of the activations, for the pictures and the whole-set losses
def _np_act(name: str, z: Any) -> Any:
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


class Playground(LiveWidget):
    """TensorFlow Playground's lessons on microgrid's engine: play, pause, step, reset.

    ``dataset``: 'moons', 'circles', 'xor', 'spiral' or 'blobs'; ``noise``; ``n_points``
    (a quarter of them, ``val_fraction``, kept for validation); ``hidden`` layer widths;
    ``activation``; ``lr``; ``batch_size``; ``l2``; ``optimizer``: 'sgd', 'momentum'
    (0.9) or 'adam'. Changing the data or the network (dataset, noise, n_points, seed,
    hidden, activation) starts over; lr, batch_size, l2 and optimizer change live.
    """

    _esm = script('playground.js')

    dataset = traitlets.Unicode('moons').tag(sync=True)
    noise = traitlets.Float(0.1).tag(sync=True)
    n_points = traitlets.Int(200).tag(sync=True)
    hidden = traitlets.List(traitlets.Int(), [8, 8]).tag(sync=True)
    activation = traitlets.Unicode('tanh').tag(sync=True)
    lr = traitlets.Float(0.03).tag(sync=True)
    batch_size = traitlets.Int(10).tag(sync=True)
    l2 = traitlets.Float(0.0).tag(sync=True)
    optimizer = traitlets.Unicode('adam').tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)

    running = traitlets.Bool(False).tag(sync=True)
    steps = traitlets.Int(0).tag(sync=True)
    epoch = traitlets.Float(0.0).tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    history = traitlets.Dict().tag(sync=True)
    resolution = traitlets.Int(40).tag(sync=True)
    box: traitlets.List[float] = traitlets.List().tag(sync=True)
    points: traitlets.List[list] = traitlets.List().tag(sync=True)
    boundary = traitlets.Bytes(b'').tag(sync=True)
    neurons = traitlets.Bytes(b'').tag(sync=True)

    def __init__(
        self,
        dataset: str = 'moons',
        *,
        noise: float = 0.1,
        n_points: int = 200,
        hidden: Sequence[int] = (8, 8),
        activation: str = 'tanh',
        lr: float = 0.03,
        batch_size: int = 10,
        l2: float = 0.0,
        optimizer: str = 'adam',
        seed: int = 0,
        val_fraction: float = 0.25,
        resolution: int = 40,
        fps: float = 10.0,
    ) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._opt: Optimizer
        self._generation = 0
        settings = {
            'dataset': _choice(dataset, DATASETS, 'dataset'),
            'noise': _real(noise, 'noise', 0.0, 1.0),
            'n_points': _int(n_points, 'n_points', 8),
            'hidden': _hidden(hidden),
            'activation': _choice(activation, ACTIVATIONS, 'activation'),
            'lr': _real(lr, 'lr', 0.0, 10.0, low_ok=False),
            'batch_size': _int(batch_size, 'batch_size', 1),
            'l2': _real(l2, 'l2', 0.0, 10.0),
            'optimizer': _choice(optimizer, OPTIMIZERS, 'optimizer'),
            'seed': _int(seed, 'seed', 0),
        }
        self.val_fraction = _real(val_fraction, 'val_fraction', 0.0, 0.9, low_ok=False)
        self.fps = _real(fps, 'fps', 0.0, 1000.0, low_ok=False)
        self._model_lock = threading.RLock()  # training steps and rebuilds
        self._sync_lock = threading.RLock()  # messages to the browser
        self._building = True
        super().__init__(resolution=_int(resolution, 'resolution', 4), **settings)
        self._building = False
        self.reset()
        self.on_msg(self._message)

    # -- validation of changes (from Python or from the browser) ------------------------
    @traitlets.validate('dataset', 'noise', 'n_points', 'hidden', 'activation', 'lr',
                        'batch_size', 'l2', 'optimizer', 'seed')  # fmt: skip
    def _valid(self, proposal: Any) -> Any:
        name, x = proposal['trait'].name, proposal['value']
        try:
            return {
                'dataset': lambda: _choice(x, DATASETS, 'dataset'),
                'noise': lambda: _real(x, 'noise', 0.0, 1.0),
                'n_points': lambda: _int(x, 'n_points', 8),
                'hidden': lambda: _hidden(x),
                'activation': lambda: _choice(x, ACTIVATIONS, 'activation'),
                'lr': lambda: _real(x, 'lr', 0.0, 10.0, low_ok=False),
                'batch_size': lambda: _int(x, 'batch_size', 1),
                'l2': lambda: _real(x, 'l2', 0.0, 10.0),
                'optimizer': lambda: _choice(x, OPTIMIZERS, 'optimizer'),
                'seed': lambda: _int(x, 'seed', 0),
            }[name]()
        except (TypeError, ValueError) as e:
            raise traitlets.TraitError(str(e)) from None

    @traitlets.observe('dataset', 'noise', 'n_points', 'hidden', 'activation', 'seed')
    def _start_over(self, change: Any) -> None:
        if not self._building:
            self.reset()

    @traitlets.observe('lr', 'optimizer')
    def _new_optimizer(self, change: Any) -> None:
        if self._building:
            return
        with self._model_lock:
            if change['name'] == 'lr':
                self._opt.lr = self.lr  # the optimizer keeps its moments or momentum
            else:
                self._opt = self._make_optimizer()

    @traitlets.observe('running')
    def _run_changed(self, change: Any) -> None:
        if change['new']:
            self._start()
        else:
            self._halt()

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event = content.get('event')
        if event == 'step':
            if not self.running:
                self.step()
        elif event == 'reset':
            self.reset()

    # -- the model and its data -------------------------------------------------------
    def _make_optimizer(self) -> Optimizer:
        params = self.model.parameters()
        if self.optimizer == 'adam':
            return Adam(params, lr=self.lr)
        return SGD(params, lr=self.lr, momentum=MOMENTUM if self.optimizer == 'momentum' else 0.0)

    def reset(self) -> None:
        """Pause, make the data and a new model from the settings, and show frame 0."""
        self.pause()
        with self._model_lock:
            X, y = _make(self.dataset, self.n_points, self.noise, self.seed)
            n_val = max(1, min(len(X) - 1, round(self.val_fraction * len(X))))
            self.X_val, self.y_val = X[:n_val], y[:n_val]
            self.X_train, self.y_train = X[n_val:], y[n_val:]
            self.model = MLP(2, [*self.hidden, 1], activation=self.activation, seed=self.seed)
            self._opt = self._make_optimizer()
            self._rng = random.Random(self.seed)
            self._order: list[int] = []
            self._samples = 0
            self._steps = 0
            self._generation += 1
            self._history: dict[str, list[float]] = {
                'step': [], 'epoch': [], 'train_loss': [], 'val_loss': [],
                'train_acc': [], 'val_acc': [],
            }  # fmt: skip
            span = max(max(abs(a), abs(b)) for a, b in X) * 1.15
            self._box = [-span, span, -span, span]
            with self._sync_lock, self.hold_sync():
                self.box = self._box
                self.points = [[round(a, 4), round(b, 4), int(c), 0] for (a, b), c in
                               zip(self.X_train, self.y_train)] + [
                    [round(a, 4), round(b, 4), int(c), 1] for (a, b), c in
                    zip(self.X_val, self.y_val)]  # fmt: skip
                self.steps = 0
                self.epoch = 0.0
            self._publish()

    def _train_step(self) -> float:
        """One update on the next batch; returns the batch's loss."""
        with self._model_lock:
            n = len(self.X_train)
            size = min(self.batch_size, n)
            if len(self._order) < size:
                more = list(range(n))
                self._rng.shuffle(more)
                self._order += more
            idx, self._order = self._order[:size], self._order[size:]
            model, X, y = self.model, self.X_train, self.y_train
            outputs = [model(X[i]) for i in idx]
            loss = losses.binary_cross_entropy(outputs, [y[i] for i in idx])
            if self.l2:
                loss = loss + self.l2 * losses.l2(self._opt.params)
            self._opt.zero_grad()
            loss.backward()
            self._opt.step()
            self._samples += size
            self._steps += 1
            return loss.data

    def step(self, n: int = 1) -> None:
        """Train ``n`` updates here and now (not in the background), then show a frame."""
        _int(n, 'n', 1)
        if self.running:
            raise RuntimeError("the playground is playing; pause() before step()")
        for _ in range(n):
            self._train_step()
        self._publish()

    # -- playing in a background thread --------------------------------------------------
    def play(self) -> None:
        """Train in a background thread, publishing ``fps`` frames a second, until pause()."""
        self.running = True

    def pause(self, timeout: float = 2.0) -> None:
        """Stop training; returns once the background thread has stopped."""
        self.running = False
        self._halt(timeout)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name='microgrid-playground', daemon=True)
        self._thread.start()

    def _halt(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        try:
            period = 1.0 / self.fps
            next_frame = time.perf_counter() + period
            while not self._stop.is_set():
                self._train_step()
                now = time.perf_counter()
                if now >= next_frame:
                    self._publish(background=True)
                    # a steady beat, which never tries to catch up on missed frames
                    next_frame = max(next_frame + period, now)
            self._publish(background=True)
        except Exception as e:  # shown in the widget; the thread must not die silently
            if self._lock_to_send(background=True):
                try:
                    self.error = f'training stopped: {type(e).__name__}: {e}'
                    self.running = False
                finally:
                    self._sync_lock.release()

    def _lock_to_send(self, background: bool) -> bool:
        """Take the lock on messages; the training thread gives up once asked to stop.

        The main thread may hold it while it waits for the training thread to stop (a
        change from the browser that starts over), so the thread must not wait forever.
        """
        if not background:
            self._sync_lock.acquire()
            return True
        while not self._sync_lock.acquire(timeout=0.05):
            if self._stop.is_set():
                return False
        return True

    def close(self) -> None:
        """Stop training and close the widget."""
        self.pause()
        super().close()

    # -- frames ------------------------------------------------------------------------
    def _weights(self) -> list[tuple[Any, Any]]:
        import numpy as np

        with self._model_lock:
            return [
                (np.array([[w.data for w in n.w] for n in layer.neurons]),
                 np.array([n.b.data for n in layer.neurons]))
                for layer in self.model.layers
            ]  # fmt: skip

    def _forward(self, layers: list, X: Any) -> list[Any]:
        """Every layer's outputs for the rows of X (numpy), the last being the logits."""
        outs = []
        a = X
        for i, (W, b) in enumerate(layers):
            z = a @ W.T + b
            a = z if i == len(layers) - 1 else _np_act(self.activation, z)
            outs.append(a)
        return outs

    def _scores(self, layers: list, X: list, y: list) -> tuple[float, float]:
        import numpy as np

        z = self._forward(layers, np.asarray(X, dtype=float))[-1][:, 0]
        t = np.asarray(y, dtype=float)
        loss = np.mean(np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z))))
        acc = np.mean((z > 0) == (t > 0.5))
        return float(loss), float(acc)

    def _publish(self, background: bool = False) -> None:
        """Compute the pictures and the scores from the current weights and send them."""
        import numpy as np

        with self._model_lock:
            layers = self._weights()
            generation, steps, samples = self._generation, self._steps, self._samples
            X_train, y_train, X_val, y_val = self.X_train, self.y_train, self.X_val, self.y_val
            x0, x1, y0, y1 = self._box
        res = self.resolution
        xs = np.linspace(x0, x1, res)
        ys = np.linspace(y1, y0, res)  # row 0 at the top
        gx, gy = np.meshgrid(xs, ys)
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        outs = self._forward(layers, grid)
        prob = 0.5 * (1.0 + np.tanh(0.5 * outs[-1][:, 0]))
        boundary = np.clip(np.round(prob * 255), 0, 255).astype(np.uint8).tobytes()
        maps = []
        for a in outs[:-1]:
            scale = np.max(np.abs(a), axis=0)
            scale[scale == 0] = 1.0
            maps.append(np.clip(np.round(127.5 + 127.5 * a / scale), 0, 255).astype(np.uint8).T)
        neurons = np.concatenate(maps).tobytes() if maps else b''
        train = self._scores(layers, X_train, y_train)
        val = self._scores(layers, X_val, y_val)
        epoch = samples / len(X_train)
        now = {'step': steps, 'epoch': epoch, 'train_loss': train[0], 'val_loss': val[0],
               'train_acc': train[1], 'val_acc': val[1]}  # fmt: skip
        if not self._lock_to_send(background):
            return  # paused meanwhile: drop this frame
        try:
            if generation != self._generation:
                return  # started over meanwhile: this frame shows the old model
            h = self._history
            for key, x in now.items():
                h[key].append(x)
            if len(h['step']) > _HISTORY:  # thin out the old half, keep the recent half
                for key in h:
                    old, new = h[key][: _HISTORY // 2], h[key][_HISTORY // 2 :]
                    h[key] = old[::2] + new
            with self.hold_sync():
                self.boundary = boundary
                self.neurons = neurons
                self.steps = steps
                self.epoch = epoch
                self.history = {k: list(v) for k, v in h.items()}
                self.frame += 1
        finally:
            self._sync_lock.release()

    @property
    def loss(self) -> float:
        """The training loss (without L2) at the last frame."""
        return self.history['train_loss'][-1]

    @property
    def val_loss(self) -> float:
        """The validation loss at the last frame."""
        return self.history['val_loss'][-1]

    # ipywidgets sends a message per trait change; the training thread sends too
    def send_state(self, key: Any = None) -> None:
        with self._sync_lock:
            super().send_state(key)

    def set_state(self, sync_data: Any) -> None:
        with self._sync_lock:
            super().set_state(sync_data)
