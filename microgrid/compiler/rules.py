"""The rules on arrays: NUMPY_RULES, keyed by the engine's op names.

Each rule mirrors its line in the engine's op table, applied to whole arrays of operands
at once. An element-wise rule returns the result and the local derivative(s):
``rule(a) -> (out, d)`` for one operand, ``rule(a, b) -> (out, da, db)`` for two. ``sum``
and ``dot`` are segmented reductions: ``rule(x, starts)`` and ``rule(w, x, starts)`` add
the terms of each segment (a segment starts at each index of ``starts``). Where the engine
raises (a domain error, an overflow), the replay raises the same error from the engine's
own rule, and only there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from microgrid import engine

__all__ = ['BINARY_OPS', 'ENGINE_RULES', 'NUMPY_RULES', 'REDUCTIONS', 'UNARY_OPS']


def _raise_like_engine(rule: Callable, bad: Any, *operands: Any) -> None:
    """Where bad marks elements the engine may refuse, run the engine's own rule on them:
    its error (naming op and operand) is raised, and where it does not raise, neither does
    the replay (so eager and compiled agree on when to raise, whatever the grouping)."""
    if not bad.any():
        return
    for i in np.flatnonzero(bad).tolist():
        rule(*(float(o[i]) if isinstance(o, np.ndarray) else o for o in operands))


def _logistic(a: Any) -> Any:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _v_exp(a):
    with np.errstate(over='ignore'):
        e = np.exp(a)
    _raise_like_engine(engine.OPS['exp'], np.isinf(e) & np.isfinite(a), a)
    return e, e


def _v_log(a):
    _raise_like_engine(engine.OPS['log'], a <= 0, a)  # log(NaN) is NaN, as in eager mode
    return np.log(a), 1.0 / a


def _v_sqrt(a):
    _raise_like_engine(engine.OPS['sqrt'], a < 0, a)
    s = np.sqrt(a)
    with np.errstate(divide='ignore'):
        return s, np.where(s != 0, 0.5 / s, math.inf)


def _v_tanh(a):
    t = np.tanh(a)
    return t, 1.0 - t * t


def _v_sigmoid(a):
    s = _logistic(a)
    return s, s * (1.0 - s)


def _v_relu(a):
    on = a > 0
    out = np.where(on, a, 0.0)
    low = a.min()  # NaN when any element is NaN: one pass, no array made
    if low != low:  # as PyTorch (and the engine): relu of NaN is NaN, with a NaN derivative
        nan = a != a
        out[nan] = math.nan
        d = on.astype(np.float64)
        d[nan] = math.nan
        return out, d
    return out, on  # the mask is the local derivative (True is 1.0)


def _v_abs(a):
    return np.abs(a), np.sign(a)  # sign(NaN) is NaN, as the engine's derivative


def _v_softplus(a):
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a))), _logistic(a)


def _v_div(a, b):
    _raise_like_engine(engine.OPS['/'], b == 0, a, b)
    q = a / b
    return q, 1.0 / b, -q / b


def _v_pow(a, b):
    a, b = np.broadcast_arrays(a, b)
    whole = np.isfinite(b) & (np.floor(b) == b)
    with np.errstate(all='ignore'):
        p = np.power(a, b)
        near = np.power(a, b - 1.0)
        finite = np.isfinite(a) & np.isfinite(b)
        bad = (a == 0) & (b < 0) | (a < 0) & ~whole | np.isinf(p) & finite
        _raise_like_engine(engine.OPS['**'], bad, a, b)
        # a finite power whose derivative overflows (1e-300 ** -1) gives the derivative
        # +-inf, as PyTorch does (and as the engine does)
        da = np.where(
            b == 0,
            0.0,
            np.where(a == 0, np.where(b > 1, 0.0, np.where(b == 1, 1.0, math.inf)), b * near),
        )
        db = np.where(a > 0, p * np.log(np.where(a > 0, a, 1.0)), np.where(a == 0, 0.0, math.nan))
    return p, da, db


def _v_leaky_relu(a, slope):
    on = a > 0
    da = np.where(on, 1.0, slope)
    nan = a != a
    if nan.any():  # NaN in, NaN out, with NaN derivatives (slope * NaN and a are NaN)
        da = np.where(nan, math.nan, da)
    return np.where(on, a, slope * a), da, np.where(on, 0.0, a)


def _v_sin(a):
    _raise_like_engine(engine.OPS['sin'], np.isinf(a), a)  # as math.sin: inf is a domain error
    return np.sin(a), np.cos(a)


def _v_cos(a):
    _raise_like_engine(engine.OPS['cos'], np.isinf(a), a)
    return np.cos(a), -np.sin(a)


def _v_sum(x, starts):
    return np.add.reduceat(x, starts) if starts.size > 1 else x.sum(keepdims=True)


def _v_dot(w, x, starts):
    return np.add.reduceat(w * x, starts)


NUMPY_RULES: dict[str, Callable] = {
    '+': lambda a, b: (a + b, 1.0, 1.0),
    '-': lambda a, b: (a - b, 1.0, -1.0),
    '*': lambda a, b: (a * b, b, a),
    '/': _v_div,
    '**': _v_pow,
    'leaky_relu': _v_leaky_relu,
    'neg': lambda a: (-a, -1.0),
    'abs': _v_abs,
    'exp': _v_exp,
    'log': _v_log,
    'sqrt': _v_sqrt,
    'tanh': _v_tanh,
    'sigmoid': _v_sigmoid,
    'relu': _v_relu,
    'softplus': _v_softplus,
    'sin': _v_sin,
    'cos': _v_cos,
    'sum': _v_sum,
    'dot': _v_dot,
}
"""Each op's rule on arrays, keyed by the engine's op names (see the module docstring)."""

BINARY_OPS = frozenset({'+', '-', '*', '/', '**', 'leaky_relu'})
"""The element-wise ops with two operands: ``rule(a, b) -> (out, da, db)``."""
REDUCTIONS = frozenset({'sum', 'dot'})
"""The ops over lists: segmented sums and dot products."""
UNARY_OPS = frozenset(NUMPY_RULES) - BINARY_OPS - REDUCTIONS
"""The element-wise ops with one operand: ``rule(a) -> (out, d)``."""

ENGINE_RULES: dict[str, Callable] = {op: engine.OPS[op] for op in sorted(UNARY_OPS | BINARY_OPS)}
"""The engine's scalar rules of the element-wise ops: a lone node is replayed with its
own rule (numpy's cost for one element is larger than the work), and at trace time each
node is checked to be what its op makes of its operands."""
