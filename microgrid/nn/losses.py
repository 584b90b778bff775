"""Loss functions built from engine ops: each takes Values and returns ONE Value.

Every loss is the mean over the batch, as PyTorch's default ``reduction='mean'``.
Predictions may be a single Value, a list of Values (one per sample, as a one-output
model gives), or, for ``mse``, a list of lists (a many-output model). Numbers are
accepted where Values are and count as constants.

The formulas are the stable ones: binary cross-entropy and cross-entropy work from
logits through softplus and log-sum-exp, so logits of +-1000 give finite losses and
exact gradients.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

from microgrid.engine import Value, dot
from microgrid.engine import sum as vsum

__all__ = ['binary_cross_entropy', 'cross_entropy', 'hinge', 'l2', 'log_softmax', 'mse', 'softmax']

# -----------------------------------------------------------------------------
# Checking and flattening the inputs.
# -----------------------------------------------------------------------------


def _is_scalar(x: Any) -> bool:
    return isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool))


def _is_seq(x: Any) -> bool:
    return isinstance(x, (list, tuple)) or (
        hasattr(x, '__len__') and hasattr(x, '__getitem__') and not isinstance(x, (str, bytes))
    )


def _scores(preds: Any, who: str) -> list:
    """One scalar per sample: a Value, a list of Values, or a list of one-element lists."""
    if _is_scalar(preds):
        return [preds]
    if not _is_seq(preds):
        raise TypeError(f"{who}: expected a Value or a list of Values, got {type(preds).__name__}")
    out = []
    for i, p in enumerate(preds):
        if _is_seq(p) and len(p) == 1:
            p = p[0]
        if not _is_scalar(p):
            raise TypeError(
                f"{who}: prediction {i} must be a Value or a number (one per sample), "
                f"got {type(p).__name__}"
            )
        out.append(p)
    if not out:
        raise ValueError(f"{who}: the batch is empty")
    return out


def _labels(labels: Any, n: int, who: str) -> list[float]:
    if _is_scalar(labels) and not isinstance(labels, Value):
        labels = [labels]
    if not _is_seq(labels):
        raise TypeError(f"{who}: expected a list of labels, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{who}: {n} predictions but {len(labels)} labels")
    out = []
    for i, y in enumerate(labels):
        if isinstance(y, bool) or not isinstance(y, Real):
            raise TypeError(f"{who}: label {i} must be a number, got {type(y).__name__}: {y!r:.40}")
        out.append(float(y))
    return out


def _mean(terms: list) -> Value:
    return vsum(terms) / len(terms)


# -----------------------------------------------------------------------------
# Regression and margins.
# -----------------------------------------------------------------------------


def mse(preds: Any, targets: Any) -> Value:
    """Mean squared error over every element: mean((pred - target)**2).

    preds is a Value, a list of Values (one per sample) or a list of lists (several
    outputs per sample); targets has the same shape, with finite numbers (a NaN or
    infinite target is a ValueError, as in hinge and bce).
    """
    ps, ts = _flatten_pair(preds, targets, 'mse')
    diffs = [p - t for p, t in zip(ps, ts)]
    return dot(diffs, diffs) / len(diffs)  # one node for the sum of squares


def _flatten_pair(preds: Any, targets: Any, who: str) -> tuple[list, list[float]]:
    if _is_scalar(preds):
        preds, targets = [preds], [targets]
    if not _is_seq(preds) or not _is_seq(targets):
        raise TypeError(
            f"{who}: expected preds and targets of the same shape, got "
            f"{type(preds).__name__} and {type(targets).__name__}"
        )
    if len(preds) != len(targets):
        raise ValueError(f"{who}: {len(preds)} predictions but {len(targets)} targets")
    ps: list = []
    ts: list[float] = []
    for i, (p, t) in enumerate(zip(preds, targets)):
        p_row = list(p) if _is_seq(p) else [p]
        t_row = list(t) if _is_seq(t) else [t]
        if len(p_row) != len(t_row):
            raise ValueError(
                f"{who}: sample {i} has {len(p_row)} predictions but {len(t_row)} targets"
            )
        for p_el, t_el in zip(p_row, t_row):
            if not _is_scalar(p_el):
                raise TypeError(f"{who}: prediction {i} holds a {type(p_el).__name__}")
            if isinstance(t_el, bool) or not isinstance(t_el, Real):
                raise TypeError(f"{who}: target {i} must be a number, got {type(t_el).__name__}")
            t_f = float(t_el)
            if not math.isfinite(t_f):
                raise ValueError(
                    f"{who}: target {i} is not finite ({t_el!r}); targets must be finite"
                )
            ps.append(p_el)
            ts.append(t_f)
    if not ps:
        raise ValueError(f"{who}: the batch is empty")
    return ps, ts


def hinge(scores: Any, labels: Any) -> Value:
    """Mean hinge loss, mean(relu(1 - y * s)), for labels y of +1 or -1."""
    ss = _scores(scores, 'hinge')
    ys = _labels(labels, len(ss), 'hinge')
    terms = []
    for i, (s, y) in enumerate(zip(ss, ys)):
        if y == 1.0:
            margin = 1.0 - s
        elif y == -1.0:
            margin = s + 1.0
        else:
            raise ValueError(f"hinge: labels must be +1 or -1, got {y!r} at index {i}")
        terms.append(margin.relu() if isinstance(margin, Value) else Value(max(margin, 0.0)))
    return _mean(terms)


# -----------------------------------------------------------------------------
# Classification from logits.
# -----------------------------------------------------------------------------


def _softplus(x: Any) -> Any:
    if isinstance(x, Value):
        return x.softplus()
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def binary_cross_entropy(logits: Any, labels: Any) -> Value:
    """Mean binary cross-entropy computed from logits z (as torch's ..._with_logits).

    For a label y in [0, 1] (usually 0 or 1) the loss is softplus(z) - y*z, which is
    -y*log(sigmoid(z)) - (1-y)*log(1 - sigmoid(z)) without overflow or log(0).
    """
    zs = _scores(logits, 'binary_cross_entropy')
    ys = _labels(labels, len(zs), 'binary_cross_entropy')
    terms = []
    for i, (z, y) in enumerate(zip(zs, ys)):
        if y == 1.0:
            terms.append(_softplus(-z))  # softplus(z) - z
        elif y == 0.0:
            terms.append(_softplus(z))
        elif 0.0 < y < 1.0:
            terms.append(_softplus(z) - y * z)
        else:
            raise ValueError(
                f"binary_cross_entropy: labels must be 0 or 1 (or a probability in [0, 1]), "
                f"got {y!r} at index {i}"
            )
    return _mean(terms)


def _logit_row(row: Any, who: str) -> list:
    if not _is_seq(row) or len(row) == 0:
        raise TypeError(f"{who}: logits must be a non-empty list of Values or numbers")
    out = list(row)
    for j, z in enumerate(out):
        if not _is_scalar(z):
            raise TypeError(f"{who}: logit {j} must be a Value or a number, got {type(z).__name__}")
    return out


def _shifted(row: list) -> tuple[list, Value]:
    """(z - max z for each logit, sum of exp of those): the stable log-sum-exp pieces."""
    m = max(z.data if isinstance(z, Value) else float(z) for z in row)
    shifted = [z - m for z in row]
    exps = [s.exp() if isinstance(s, Value) else math.exp(s) for s in shifted]
    return shifted, vsum(exps)


def softmax(logits: Sequence[Any]) -> list[Value]:
    """exp(z_i) / sum_j exp(z_j) for one list of logits, computed without overflow."""
    row = _logit_row(logits, 'softmax')
    shifted, total = _shifted(row)
    return [(s.exp() if isinstance(s, Value) else Value(math.exp(s))) / total for s in shifted]


def log_softmax(logits: Sequence[Any]) -> list[Value]:
    """z_i - log(sum_j exp(z_j)) for one list of logits, by log-sum-exp."""
    row = _logit_row(logits, 'log_softmax')
    shifted, total = _shifted(row)
    log_total = total.log()
    return [s - log_total for s in shifted]


def cross_entropy(logits: Any, target: Any) -> Value:
    """Mean of -log softmax(z)[target], as torch.nn.functional.cross_entropy.

    One sample: a list of logits and an int class. A batch: a list of such lists and
    a list of ints. Log-sum-exp keeps it finite for logits of any size.
    """
    who = 'cross_entropy'
    if _is_class(target):
        rows, targets = [logits], [target]
    elif _is_seq(target):
        if not _is_seq(logits) or (len(logits) and not _is_seq(logits[0])):
            raise TypeError(f"{who}: a list of targets needs a list of logit lists (a batch)")
        rows, targets = list(logits), list(target)
        if len(rows) != len(targets):
            raise ValueError(f"{who}: {len(rows)} samples of logits but {len(targets)} targets")
        if not rows:
            raise ValueError(f"{who}: the batch is empty")
    else:
        raise TypeError(f"{who}: target must be an int class or a list of them, got {target!r:.40}")
    terms = []
    n_classes = None
    for i, (row, t) in enumerate(zip(rows, targets)):
        row = _logit_row(row, who)
        if n_classes is None:
            n_classes = len(row)
        elif len(row) != n_classes:
            raise ValueError(f"{who}: sample {i} has {len(row)} logits, sample 0 has {n_classes}")
        if not _is_class(t):
            raise TypeError(f"{who}: target {i} must be an int class, got {t!r:.40}")
        if not 0 <= t < n_classes:
            raise ValueError(f"{who}: target {i} is {t}, outside the classes 0..{n_classes - 1}")
        shifted, total = _shifted(row)
        terms.append(total.log() - shifted[int(t)])
    return _mean(terms)


def _is_class(t: Any) -> bool:
    return isinstance(t, Integral) and not isinstance(t, bool)


# -----------------------------------------------------------------------------
# Regularisation.
# -----------------------------------------------------------------------------


def l2(params: Any) -> Value:
    """The sum of squares of the parameters (a Module or Values), as ONE dot node."""
    if hasattr(params, 'parameters') and callable(params.parameters):
        params = params.parameters()
    ps = list(params) if isinstance(params, Iterable) else None
    if ps is None:
        raise TypeError(f"l2: expected a Module or a list of Values, got {type(params).__name__}")
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"l2: parameter {i} must be a Value, got {type(p).__name__}")
    return dot(ps, ps)
