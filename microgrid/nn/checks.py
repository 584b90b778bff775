"""What fit() and accuracy() check before any training: the loss, the data (finite
numbers, naming the row and column of the first that is not), the labels the loss wants,
the model, the optimizer and the options.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from microgrid.engine import Value
from microgrid.nn.optim import Adam, LRScheduler, Optimizer

__all__ = ['LOSSES', 'CLASSIFIERS']

LOSSES = ('hinge', 'mse', 'bce', 'cross_entropy')
"""The losses fit() knows by name."""
CLASSIFIERS = ('hinge', 'bce', 'cross_entropy')
"""The named losses whose outputs are classes, so accuracy() applies."""


def _loss_kind(loss: Any) -> str | None:
    """The loss's name, None for a callable; anything else is an error."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)} or a callable, got {loss!r}")
        return loss
    if callable(loss):
        return None
    raise TypeError(f"loss must be a name or a callable, got {type(loss).__name__}")


def _prepared_labels(y: list, kind: str | None) -> list:
    """Labels in the form the loss wants: hinge turns 0/1 into -1/+1."""
    if kind == 'hinge':
        found = set(y)
        if found <= {0, 1}:
            return [1.0 if v == 1 else -1.0 for v in y]
        if found <= {-1, 1}:
            return [float(v) for v in y]
        raise ValueError(f"hinge needs labels 0/1 or -1/+1, got {sorted(found, key=repr)[:5]}")
    if kind == 'bce':
        bad = [v for v in y if v not in (0, 1)]
        if bad:
            raise ValueError(f"bce needs labels 0 or 1, got {bad[0]!r}")
    return list(y)


def _checked_data(X: Any, y: Any) -> tuple[list, list]:
    for name, v in (('X', X), ('y', y)):
        if isinstance(v, (str, bytes)) or not hasattr(v, '__len__'):
            raise TypeError(f"{name} must be a list, got {type(v).__name__}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if not len(X):
        raise ValueError("X is empty: there is nothing to train on")
    X, y = list(X), list(y)
    _check_finite(X, 'X', 'inputs')
    _check_finite(y, 'y', 'labels')
    return X, y


def _check_finite(rows: list, name: str, what: str) -> None:
    """Refuse a NaN or infinite number in rows, naming its row (and column)."""
    for i, row in enumerate(rows):
        if isinstance(row, (Real, Value)) or not hasattr(row, '__iter__') or _is_scalar(row):
            cells: Any = ((None, row),)
        elif isinstance(row, (str, bytes)):
            continue  # not numbers: the model or the loss will say what is wrong
        else:
            cells = enumerate(row)
        for j, v in cells:
            x = v.data if type(v) is Value else v
            if not _is_finite(x):
                where = f"{name}[{i}]" if j is None else f"{name}[{i}][{j}]"
                col = '' if j is None else f", column {j}"
                raise ValueError(f"{where} is {x!r} (row {i}{col}): {what} must be finite numbers")


def _is_scalar(row: Any) -> bool:
    """A 0-d array or tensor: iterable in type, but one number."""
    return getattr(row, 'ndim', None) == 0 or getattr(row, 'shape', None) == ()


def _is_finite(x: Any) -> bool:
    """False for a NaN or an infinity of any number type: float, Decimal (a signalling NaN
    too), a numpy or 0-d torch scalar. Anything that is not a number passes: the model or
    the loss says what is wrong with it."""
    if type(x) is float:
        return math.isfinite(x)
    if isinstance(x, (bool, str, bytes)) or not hasattr(type(x), '__float__'):
        return True
    try:
        return math.isfinite(float(x))
    except ValueError:  # Decimal('sNaN') will not even become a float
        return False
    except (TypeError, OverflowError):  # an int too large for a float is finite
        return True


def _checked_model(model: Any) -> list[Value]:
    if not callable(model) or not hasattr(model, 'parameters'):
        raise TypeError(f"model must be a callable Module, got {type(model).__name__}")
    return model.parameters()


def _checked_optimizer(optimizer: Optimizer | None, params: list[Value]) -> Optimizer:
    """The optimizer to train with: Adam(lr=0.01) by default; one that holds none of the
    model's parameters would train nothing, and is refused."""
    if optimizer is None:
        return Adam(params, lr=0.01)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a microgrid optimizer, got {type(optimizer).__name__}")
    if not {id(p) for p in params}.intersection(map(id, optimizer.params)):
        raise ValueError(
            f"the optimizer holds none of the model's {len(params)} parameters, so fit() "
            f"would train nothing; build it from this model, e.g. Adam(model.parameters())"
        )
    return optimizer


def _is_count(v: Any, least: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, int) and v >= least


def _check_options(
    epochs: Any, batch_size: Any, l2: Any, optimizer: Optimizer, scheduler: Any, callback: Any
) -> None:
    if not _is_count(epochs, 0):
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is not None and not _is_count(batch_size, 1):
        raise ValueError(f"batch_size must be None (full batch) or an int >= 1, got {batch_size!r}")
    if (
        isinstance(l2, bool)
        or not isinstance(l2, Real)
        or not (math.isfinite(l2) and float(l2) >= 0)
    ):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    if scheduler is not None and not isinstance(scheduler, LRScheduler):
        raise TypeError(f"scheduler must be a microgrid schedule, got {type(scheduler).__name__}")
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError("scheduler is attached to a different optimizer than the one given")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
