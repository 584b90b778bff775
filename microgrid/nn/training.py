"""fit(): the training loop, packed up for convenience.

The loop it runs is the one to learn first, and it is short enough to write by hand:

    for epoch in range(epochs):
        for Xb, yb in data.batches(X, y, size):
            outputs = [model(x) for x in Xb]          # forward pass
            loss = losses.hinge(outputs, yb)           # how wrong
            optimizer.zero_grad()
            loss.backward()                            # chain rule, output to inputs
            optimizer.step()                           # a small step down the gradient

fit() adds the bookkeeping: label conversion, an optional L2 penalty, a schedule,
a history of loss and accuracy per epoch, a progress bar and a per-epoch callback.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from microgrid.engine import Value
from microgrid.nn import losses
from microgrid.nn.checks import (
    CLASSIFIERS,
    LOSSES,
    _check_options,
    _checked_data,
    _checked_model,
    _checked_optimizer,
    _loss_kind,
    _prepared_labels,
)
from microgrid.nn.data import batches
from microgrid.nn.optim import LRScheduler, Optimizer

__all__ = ['LOSSES', 'accuracy', 'fit']


def _scalar(out: Any) -> float:
    if type(out) is Value:
        return out.data
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return _scalar(out[0])
    if isinstance(out, Real):
        return float(out)
    raise TypeError(f"a one-output model was expected, but it returned {type(out).__name__}")


def _argmax(out: Any) -> int:
    if not isinstance(out, (list, tuple)) or not out:
        raise TypeError(
            f"cross_entropy needs a list of logits per sample, got {type(out).__name__}"
        )
    values = [v.data if type(v) is Value else float(v) for v in out]
    return max(range(len(values)), key=values.__getitem__)


def _correct(outputs: list, labels: list, kind: str) -> int:
    """How many outputs give the right class (labels as _prepared_labels gives them)."""
    if kind == 'cross_entropy':
        return sum(_argmax(o) == t for o, t in zip(outputs, labels))
    return sum((_scalar(o) > 0) == (t > 0) for o, t in zip(outputs, labels))


def accuracy(model: Callable, X: Sequence, y: Sequence, loss: Any = 'hinge') -> float:
    """The fraction of samples the model classifies correctly, read as ``loss`` reads outputs.

    'hinge' and 'bce': output > 0 means class 1 (labels 0/1, or -1/+1 for hinge);
    'cross_entropy': the class of the largest logit.
    """
    kind = _loss_kind(loss)
    if kind not in CLASSIFIERS:
        raise ValueError(f"accuracy applies to {', '.join(CLASSIFIERS)}, not to {loss!r}")
    X, y = _checked_data(X, y)
    labels = _prepared_labels(y, kind)
    return _correct([model(x) for x in X], labels, kind) / len(X)


def _param_name(model: Any, i: int) -> str:
    """'3 (layers.0.neurons.1.w.0)' when the model names its parameters, else '3'."""
    try:
        return f"{i} ({model.named_parameters()[i][0]})"
    except Exception:  # a model without named_parameters(): the index says enough
        return str(i)


def _restore(params: list[Value], data: list[float]) -> None:
    for p, d in zip(params, data):
        p.data = d


def _blow_up(what: str, epoch: int, batch: int, optimizer: Optimizer, history: dict) -> Exception:
    err = FloatingPointError(
        f"fit: {what} at epoch {epoch}, batch {batch} (both counting from 0), "
        f"with learning rate {optimizer.lr:g}. The model keeps the parameters at which "
        f"the loss was last finite. Try a lower learning rate, or train inside "
        f"microgrid.detect_anomaly() to find the op that made the first NaN or inf."
    )
    err.history = history  # type: ignore[attr-defined]
    return err


def _warn_if_dead(model: Any, X: list) -> bool:
    """Warn (once: returns True) if every unit of some layer outputs 0 for every input.

    fit() asks after epochs 0, 1, 3, 7, 15, ...: a network can start dead or die while
    training (a learning rate too large), and the check, a forward pass on floats, stays
    a small share of the work."""
    per_layer = model.dead_units(X)
    layers = [
        f"layers[{i}] ({len(d)} relu units)"
        for i, d in enumerate(per_layer)
        if d and len(d) == model.layers[i].nout
    ]
    if not layers:
        return False
    warnings.warn(
        f"fit: every unit of {' and '.join(layers)} outputs 0 for every training input, "
        "so no gradient flows back through it: the layers below it cannot learn and the "
        "loss is stuck (a dead relu network). Try activation='tanh', a smaller learning "
        "rate, or another seed; model.dead_units(X) lists the dead units of each layer.",
        RuntimeWarning,
        stacklevel=3,
    )
    return True


def fit(
    model: Any,
    X: Sequence,
    y: Sequence,
    loss: Any = 'hinge',
    optimizer: Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    scheduler: LRScheduler | None = None,
    l2: float = 0.0,
    seed: Any = None,
    progress: bool = True,
    callback: Callable[[int, dict], Any] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` on (X, y) and return {'loss': [...], 'accuracy': [...]}, one per epoch.

    loss: 'hinge' (labels 0/1 or -1/+1), 'mse', 'bce' (logits, labels 0/1),
    'cross_entropy' (logits, class indices) or a callable ``loss(outputs, labels)``
    returning a Value. optimizer: default Adam(model.parameters(), lr=0.01).
    batch_size None trains on the full batch; otherwise batches are reshuffled each
    epoch from random.Random(seed). scheduler.step() runs once per epoch. l2 adds
    ``l2 * losses.l2(parameters)`` to the loss. The epoch's loss is the mean of its
    batch losses (weighted by batch size) and its accuracy counts the predictions
    of the forward passes, made before each update ('accuracy' is there for
    hinge, bce and cross_entropy). ``callback(epoch, history)`` runs after each
    epoch, epoch counting from 0. ``progress`` shows a tqdm bar.

    A NaN or infinite number in X or y is a ValueError naming its row and column,
    before any training. The optimizer must hold some of the model's parameters. If
    the loss or a parameter becomes NaN or infinite during training, fit() stops
    with a FloatingPointError naming the epoch, the batch and the learning rate;
    the model is left with the parameters at which the loss was last finite (the
    optimizer's own state, such as Adam's moments, is not rewound). The error's
    ``history`` attribute holds the history of the finished epochs.
    """
    kind = _loss_kind(loss)
    X, y = _checked_data(X, y)
    labels = _prepared_labels(y, kind)
    params = _checked_model(model)
    optimizer = _checked_optimizer(optimizer, params)
    _check_options(epochs, batch_size, l2, optimizer, scheduler, callback)
    run = _Run(model, params, optimizer, kind, loss, l2)
    rng = random.Random(seed)
    size = batch_size or len(X)
    warned_dead = not hasattr(model, 'dead_units')
    bar = _progress_bar(epochs) if progress else None
    try:
        for epoch in bar if bar is not None else range(epochs):
            batch_iter = batches(X, labels, size, shuffle=size < len(X), seed=rng)
            for batch, (Xb, yb) in enumerate(batch_iter):
                run.step(Xb, yb, epoch, batch)
            run.end_epoch(len(X))
            if not warned_dead and epoch & (epoch + 1) == 0:  # epochs 0, 1, 3, 7, 15, ...
                warned_dead = _warn_if_dead(model, X)  # a fully dead relu layer: say so once
            if scheduler is not None:
                scheduler.step()
            if bar is not None:
                bar.set_postfix(run.shown())
            if callback is not None:
                callback(epoch, run.history)
    finally:
        if bar is not None:
            bar.close()
    return run.history


def _progress_bar(epochs: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(range(epochs), desc='fit', unit='epoch')


# What an op raises when training has blown up: a result too large (x ** 4, exp), a
# division by a number that underflowed to 0, a log of a probability that did.
_BLOW_UPS = (OverflowError, ZeroDivisionError, FloatingPointError)


class _Run:
    """One fit() call's state: the history, the epoch's running totals, and the parameters
    at which the loss was last finite (put back if training blows up)."""

    def __init__(
        self, model: Any, params: list[Value], optimizer: Optimizer, kind: Any, loss: Any, l2: Any
    ) -> None:
        self.model, self.params, self.optimizer, self.kind, self.l2 = (
            model,
            params,
            optimizer,
            kind,
            l2,
        )
        self.loss_fn: Callable = _LOSS_FNS.get(kind or '', loss)
        self.history: dict[str, list[float]] = {'loss': []}
        if kind in CLASSIFIERS:
            self.history['accuracy'] = []
        self.last_good: list[float] = [p.data for p in params]
        self.total, self.correct, self.steps = 0.0, 0, 0

    def step(self, Xb: list, yb: list, epoch: int, batch: int) -> None:
        """Forward, check, backward, update: one batch."""
        current = [p.data for p in self.params]
        try:
            outputs = [self.model(x) for x in Xb]
            batch_loss = self._loss(outputs, yb)
        except _BLOW_UPS as e:
            if not self.steps:  # before any update nothing blew up: a plain error
                raise
            raise self._blow_up(f"an op overflowed or divided by zero ({e})", epoch, batch) from e
        except ValueError as e:  # e.g. log(0.0) once a probability underflows
            if not self.steps or 'math domain error' not in str(e):
                raise
            raise self._blow_up(f"an op left its domain ({e})", epoch, batch) from e
        if not math.isfinite(batch_loss.data):
            raise self._blow_up(f"the loss became {batch_loss.data}", epoch, batch)
        self.last_good = current
        self.optimizer.zero_grad()
        batch_loss.backward()
        self.optimizer.step()
        self.steps += 1
        bad = next((n for n, p in enumerate(self.params) if not math.isfinite(p.data)), None)
        if bad is not None:
            what = f"parameter {_param_name(self.model, bad)} became {self.params[bad].data}"
            raise self._blow_up(what, epoch, batch)
        self.total += batch_loss.data * len(Xb)
        if self.kind in CLASSIFIERS:
            self.correct += _correct(outputs, yb, self.kind)

    def _loss(self, outputs: list, yb: list) -> Value:
        batch_loss = self.loss_fn(outputs, yb)
        if type(batch_loss) is not Value:
            raise TypeError(f"the loss returned {type(batch_loss).__name__}, not a Value")
        if self.l2:
            batch_loss = batch_loss + self.l2 * losses.l2(self.params)
        return batch_loss

    def _blow_up(self, what: str, epoch: int, batch: int) -> Exception:
        _restore(self.params, self.last_good)
        return _blow_up(what, epoch, batch, self.optimizer, self.history)

    def end_epoch(self, n: int) -> None:
        self.history['loss'].append(self.total / n)
        if self.kind in CLASSIFIERS:
            self.history['accuracy'].append(self.correct / n)
        self.total, self.correct = 0.0, 0

    def shown(self) -> dict[str, str]:
        shown = {'loss': f"{self.history['loss'][-1]:.4g}"}
        if 'accuracy' in self.history:
            shown['acc'] = f"{self.history['accuracy'][-1]:.3f}"
        return shown


_LOSS_FNS: dict[str, Callable] = {
    'hinge': losses.hinge,
    'mse': losses.mse,
    'bce': losses.binary_cross_entropy,
    'cross_entropy': losses.cross_entropy,
}
