"""``Playground(...)``: train a small MLP on a 2-D data set and watch it learn, live.

The engine trains in a background thread, one batch per update, so the kernel stays
free: other cells run, ``pause()`` answers within a step, and ``pg.model`` is the live
microgrid MLP. A few times a second (``fps``) a frame is published: the decision
boundary and every hidden neuron's output over the input plane, and the loss and
accuracy on the whole training and test sets (see _pg_frames; no engine graph is built
for pictures). Only the new points of the curves are sent with a frame.

It never trains unseen: it pauses when its last view closes (the views ping the kernel,
see _base), when another Playground is made or starts playing, on ``close()``, and on a
kernel interrupt (see _lifecycle). ``pg.settings`` is a small dict a teacher can paste:
``Playground(**settings)`` makes the same playground.

A classification set has two classes; the model has one output, a logit, trained with
binary cross-entropy. A regression set ('plane', 'gaussians') has a target in [-1, 1]; the
output is trained with the mean squared error. Both add ``l1`` times the sum of
|parameters| and ``l2`` times the sum of squares.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any

import traitlets

from microgrid import engine
from microgrid.live import _pg_frames as frames
from microgrid.live._base import LiveWidget, script
from microgrid.live._lifecycle import pause_others, register
from microgrid.live._pg_data import (
    DATASETS,
    FEATURES,
    OPTIMIZERS,
    SPEEDS,
    check,
    featurize,
    make,
    problem_of,
)
from microgrid.live._pg_thread import BackgroundTraining
from microgrid.nn import MLP, losses
from microgrid.nn.optim import SGD, Adam, Optimizer

__all__ = ['DATASETS', 'FEATURES', 'OPTIMIZERS', 'SETTINGS', 'SPEEDS', 'Playground']

MOMENTUM = 0.9
_HISTORY = 400  # points kept per curve; older ones are thinned out
_BATCH = 25  # new curve points sent with each frame before the whole history is re-sent
KEYS = ('step', 'epoch', 'train_loss', 'val_loss', 'train_acc', 'val_acc')
SETTINGS = ('dataset', 'noise', 'n_points', 'val_fraction', 'features', 'hidden', 'activation',
            'lr', 'batch_size', 'l1', 'l2', 'optimizer', 'seed', 'speed', 'resolution',
            'show_test', 'discretize')  # fmt: skip
_START_OVER = ('dataset', 'noise', 'n_points', 'val_fraction', 'features', 'hidden',
               'activation', 'seed')  # fmt: skip
_REDRAW = ('resolution', 'discretize')


class Playground(BackgroundTraining, LiveWidget):
    """TensorFlow Playground's lessons on microgrid's engine: play, pause, step, reset.

    ``dataset``: 'moons', 'circles', 'xor', 'spiral' or 'blobs'; ``noise``; ``n_points``
    (``val_fraction`` of them kept as test data); ``features`` from FEATURES (x1, x2,
    x1^2, x2^2, x1*x2, sin x1, sin x2); ``hidden`` layer widths; ``activation``; ``lr``;
    ``batch_size``; ``l1`` and ``l2``; ``optimizer``: 'sgd', 'momentum' (0.9) or 'adam';
    ``speed``: updates a second (0: as fast as it can); ``resolution`` of the pictures;
    ``show_test``, ``discretize``. Changing the data or the network starts over; the rest
    change live. ``settings`` gives them all as a dict: ``Playground(**pg.settings)``.
    """

    _esm = script('playground.js')

    dataset = traitlets.Unicode('moons').tag(sync=True)
    noise = traitlets.Float(0.1).tag(sync=True)
    n_points = traitlets.Int(200).tag(sync=True)
    val_fraction = traitlets.Float(0.25).tag(sync=True)
    features = traitlets.List(traitlets.Unicode(), ['x1', 'x2']).tag(sync=True)
    hidden = traitlets.List(traitlets.Int(), [8, 8]).tag(sync=True)
    activation = traitlets.Unicode('tanh').tag(sync=True)
    lr = traitlets.Float(0.03).tag(sync=True)
    batch_size = traitlets.Int(10).tag(sync=True)
    l1 = traitlets.Float(0.0).tag(sync=True)
    l2 = traitlets.Float(0.0).tag(sync=True)
    optimizer = traitlets.Unicode('adam').tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    speed = traitlets.Int(0).tag(sync=True)
    resolution = traitlets.Int(64).tag(sync=True)
    show_test = traitlets.Bool(True).tag(sync=True)
    discretize = traitlets.Bool(False).tag(sync=True)

    problem = traitlets.Unicode('classification').tag(sync=True)  # follows the data set
    running = traitlets.Bool(False).tag(sync=True)
    notice = traitlets.Unicode('').tag(sync=True)
    steps = traitlets.Int(0).tag(sync=True)
    epoch = traitlets.Float(0.0).tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    history = traitlets.Dict().tag(sync=True)
    recent: traitlets.List[list] = traitlets.List().tag(sync=True)
    box: traitlets.List[float] = traitlets.List().tag(sync=True)
    points: traitlets.List[list] = traitlets.List().tag(sync=True)
    boundary = traitlets.Bytes(b'').tag(sync=True)
    neurons = traitlets.Bytes(b'').tag(sync=True)
    neuron_resolution = traitlets.Int(24).tag(sync=True)
    dead: traitlets.List[int] = traitlets.List().tag(sync=True)
    weights: traitlets.List[list] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        dataset: str = 'moons',
        *,
        noise: float = 0.1,
        n_points: int = 200,
        val_fraction: float = 0.25,
        features: Sequence[str] = ('x1', 'x2'),
        hidden: Sequence[int] = (8, 8),
        activation: str = 'tanh',
        lr: float = 0.03,
        batch_size: int = 10,
        l1: float = 0.0,
        l2: float = 0.0,
        optimizer: str = 'adam',
        seed: int = 0,
        speed: int = 0,
        resolution: int = 64,
        show_test: bool = True,
        discretize: bool = False,
        fps: float = 10.0,
    ) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        given = dict(locals())
        settings = {name: check(name, given[name]) for name in SETTINGS}
        self.fps = frames_per_second(fps)
        self._opt: Optimizer
        self._generation = 0
        self._why_stopped = ''
        self._model_lock = threading.RLock()  # training steps and rebuilds
        self._sync_lock = threading.RLock()  # messages to the browser
        self._building = True
        pause_others(self, 'paused: a new Playground was made (one trains at a time)')
        super().__init__(**settings)
        register(self)
        self._building = False
        self.reset()
        self.on_msg(self._message)

    @property
    def settings(self) -> dict[str, Any]:
        """Every setting as a small dict to share: ``Playground(**pg.settings)``."""
        out = {}
        for name in SETTINGS:
            x = getattr(self, name)
            out[name] = list(x) if isinstance(x, list) else x
        return out

    # -- validation of changes (from Python or from the browser) ------------------------
    @traitlets.validate(*SETTINGS)
    def _valid(self, proposal: Any) -> Any:
        try:
            return check(proposal['trait'].name, proposal['value'])
        except (TypeError, ValueError) as e:
            raise traitlets.TraitError(str(e)) from None

    @traitlets.observe(*_START_OVER)
    def _start_over(self, change: Any) -> None:
        if not self._building:
            self.reset()

    @traitlets.observe(*_REDRAW)
    def _redraw(self, change: Any) -> None:
        if not self._building and not self.running:
            self._publish()

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
        elif event == 'regenerate':
            self.seed += 1  # new data and new weights; starts over

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
            X, y = make(self.dataset, self.n_points, self.noise, self.seed)
            n_val = max(1, min(len(X) - 1, round(self.val_fraction * len(X))))
            self.X_val, self.y_val = X[:n_val], y[:n_val]
            self.X_train, self.y_train = X[n_val:], y[n_val:]
            self._inputs = [featurize(self.features, a, b) for a, b in self.X_train]
            nin = len(self.features)
            self.model = MLP(nin, [*self.hidden, 1], activation=self.activation, seed=self.seed)
            self._opt = self._make_optimizer()
            self._rng = random.Random(self.seed)
            self._order: list[int] = []
            self._samples = 0
            self._steps = 0
            self._generation += 1
            self._history: dict[str, list[float | None]] = {k: [] for k in KEYS}
            self._recent: list[list[float | None]] = []
            span = max(max(abs(a), abs(b)) for a, b in X) * 1.15
            self._box = [-span, span, -span, span]
            with self._sync_lock, self.hold_sync():
                self.problem = problem_of(self.dataset)
                self.box = self._box
                self.points = [
                    [round(a, 4), round(b, 4), round(c, 3), int(val)]
                    for val, part in ((0, zip(self.X_train, self.y_train)),
                                      (1, zip(self.X_val, self.y_val)))
                    for (a, b), c in part
                ]  # fmt: skip
                self.steps = 0
                self.epoch = 0.0
                self.history = {k: [] for k in KEYS}
                self.recent = []
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
            model, X, y = self.model, self._inputs, self.y_train
            outputs = [model(X[i]) for i in idx]
            targets = [y[i] for i in idx]
            if self.problem == 'regression':
                loss = losses.mse(outputs, targets)
            else:
                loss = losses.binary_cross_entropy(outputs, targets)
            if self.l1:
                loss = loss + self.l1 * engine.sum([abs(p) for p in self._opt.params])
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
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r:.40}")
        if self.running:
            raise RuntimeError("the playground is playing; pause() before step()")
        for _ in range(n):
            self._train_step()
        self._publish()

    # -- playing in a background thread, and stopping it -----------------------------------
    def play(self) -> None:
        """Train in a background thread, publishing ``fps`` frames a second, until pause()."""
        self.running = True

    def pause(self, timeout: float = 2.0, reason: str = '') -> None:
        """Stop training; returns once the background thread has stopped."""
        self._why_stopped = reason
        self.running = False
        self._halt(timeout)
        if reason or self.notice:
            with self._sync_lock:
                self.notice = reason

    def close(self) -> None:
        """Stop training and close the widget."""
        self.pause()
        super().close()

    # -- frames ------------------------------------------------------------------------
    def _publish(self, background: bool = False) -> None:
        """Compute the pictures and the scores from the current weights and send them."""
        with self._model_lock:
            layers = frames.weights(self.model)
            generation, steps, samples = self._generation, self._steps, self._samples
            n_train = len(self.X_train)
            train_in = frames.inputs(self.features, self.X_train)
            val_in = frames.inputs(self.features, self.X_val)
            y_train, y_val, box = self.y_train, self.y_val, self._box
        act = self.activation
        regression = problem_of(self.dataset) == 'regression'
        boundary, neurons = frames.maps(
            layers, act, self.features, box, self.resolution,
            min(self.resolution, self.neuron_resolution), self.discretize, regression,
        )  # fmt: skip
        train_outs = frames.forward(layers, act, train_in)
        train = frames.scores(train_outs, y_train, regression)
        val = frames.scores(frames.forward(layers, act, val_in), y_val, regression)
        dead = frames.dead(train_outs, act)
        numbers = [steps, samples / n_train, train[0], val[0], train[1], val[1]]
        row = [x if x == x else None for x in numbers]  # no accuracy for a regression: JSON null
        edge_weights = [[round(float(w), 3) for w in W.ravel()] for W, _ in layers]
        if not self._lock_to_send(background):
            return  # paused meanwhile: drop this frame
        try:
            if generation != self._generation:
                return  # started over meanwhile: this frame shows the old model
            h = self._history
            for key, x in zip(KEYS, row):
                h[key].append(x)
            self._recent.append(row)
            resend = len(self._recent) >= _BATCH
            if len(h['step']) > _HISTORY:  # thin out the old half, keep the recent half
                for key in h:
                    old, new = h[key][: _HISTORY // 2], h[key][_HISTORY // 2 :]
                    h[key] = old[::2] + new
                resend = True
            with self.hold_sync():
                self.boundary = boundary
                self.neurons = neurons
                self.steps = steps
                self.epoch = numbers[1]
                if resend:  # now and then the whole (thinned) history; else the new points
                    self.history = {k: list(v) for k, v in h.items()}
                    self._recent = []
                self.recent = [list(r) for r in self._recent]
                if dead != self.dead:
                    self.dead = dead
                self.weights = edge_weights
                self.frame += 1
        finally:
            self._sync_lock.release()

    def curves(self) -> dict[str, list[float | None]]:
        """The loss and accuracy curves so far, {key: values}, one value per frame kept
        (accuracy is None for a regression)."""
        return {k: list(v) for k, v in self._history.items()}

    @property
    def loss(self) -> float:
        """The training loss (without L1/L2) at the last frame."""
        return float(self._history['train_loss'][-1])  # type: ignore[arg-type]

    @property
    def val_loss(self) -> float:
        """The test loss at the last frame."""
        return float(self._history['val_loss'][-1])  # type: ignore[arg-type]

    # ipywidgets sends a message per trait change; the training thread sends too
    def send_state(self, key: Any = None) -> None:
        with self._sync_lock:
            super().send_state(key)

    def set_state(self, sync_data: Any) -> None:
        with self._sync_lock:
            super().set_state(sync_data)


def frames_per_second(fps: Any) -> float:
    """fps checked: a number above 0 and at most 1000."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
        raise ValueError(f"fps must be a number > 0 and <= 1000, got {fps!r:.40}")
    return float(fps)
