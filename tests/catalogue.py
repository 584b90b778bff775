"""One catalogue of the engine's ops, shared by the value, derivative and PyTorch tests.

Each entry names an op, how to apply it to microgrid Values and to torch tensors, its
closed-form value and derivative(s), and the inputs where it is defined and smooth.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


def _sigmoid(a: float) -> float:
    return 1 / (1 + math.exp(-a))


@dataclass(frozen=True)
class Unary:
    name: str
    mg: Callable[[Any], Any]  # on a microgrid Value
    th: Callable[[Any], Any]  # on a torch tensor
    f: Callable[[float], float]  # closed-form value
    df: Callable[[float], float]  # closed-form derivative
    domain: st.SearchStrategy[float]


@dataclass(frozen=True)
class Binary:
    name: str
    mg: Callable[[Any, Any], Any]
    th: Callable[[Any, Any], Any]
    f: Callable[[float, float], float]
    dfa: Callable[[float, float], float]
    dfb: Callable[[float, float], float]
    domain: st.SearchStrategy[tuple[float, float]]


def reals(lo: float = -20.0, hi: float = 20.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float = -20.0, hi: float = 20.0) -> st.SearchStrategy[float]:
    return reals(lo, hi).filter(lambda a: abs(a) > 1e-3)


def positive(lo: float = 1e-3, hi: float = 50.0) -> st.SearchStrategy[float]:
    return reals(lo, hi)


def _torch():
    import torch

    return torch


UNARY = [
    Unary('neg', lambda x: -x, lambda t: -t, lambda a: -a, lambda a: -1.0, reals()),
    Unary('abs', abs, abs, abs, lambda a: math.copysign(1.0, a), away_from_zero()),
    Unary('exp', lambda x: x.exp(), lambda t: t.exp(), math.exp, math.exp, reals(-30, 30)),
    Unary('log', lambda x: x.log(), lambda t: t.log(), math.log, lambda a: 1 / a, positive()),
    Unary(
        'sqrt',
        lambda x: x.sqrt(),
        lambda t: t.sqrt(),
        math.sqrt,
        lambda a: 0.5 / math.sqrt(a),
        positive(),
    ),
    Unary(
        'tanh',
        lambda x: x.tanh(),
        lambda t: t.tanh(),
        math.tanh,
        lambda a: 1 - math.tanh(a) ** 2,
        reals(),
    ),
    Unary(
        'sigmoid',
        lambda x: x.sigmoid(),
        lambda t: t.sigmoid(),
        _sigmoid,
        lambda a: _sigmoid(a) * (1 - _sigmoid(a)),
        reals(),
    ),
    Unary(
        'relu',
        lambda x: x.relu(),
        lambda t: t.relu(),
        lambda a: max(a, 0.0),
        lambda a: float(a > 0),
        away_from_zero(),
    ),
    Unary(
        'leaky_relu',
        lambda x: x.leaky_relu(0.1),
        lambda t: _torch().nn.functional.leaky_relu(t, 0.1),
        lambda a: a if a > 0 else 0.1 * a,
        lambda a: 1.0 if a > 0 else 0.1,
        away_from_zero(),
    ),
    Unary(
        'softplus',
        lambda x: x.softplus(),
        # a large threshold: the exact log(1 + e^x), not torch's linear cut-off above 20
        lambda t: _torch().nn.functional.softplus(t, threshold=1e6),
        lambda a: math.log1p(math.exp(a)),
        _sigmoid,
        reals(),
    ),
    Unary('sin', lambda x: x.sin(), lambda t: t.sin(), math.sin, math.cos, reals()),
    Unary('cos', lambda x: x.cos(), lambda t: t.cos(), math.cos, lambda a: -math.sin(a), reals()),
    Unary(
        'square',
        lambda x: x**2,
        lambda t: t**2,
        lambda a: a * a,
        lambda a: 2 * a,
        reals(),
    ),
    Unary(
        'cube-root',
        lambda x: x ** (1 / 3),
        lambda t: t ** (1 / 3),
        lambda a: a ** (1 / 3),
        lambda a: (1 / 3) * a ** (-2 / 3),
        positive(),
    ),
    Unary(
        'reciprocal',
        lambda x: 1 / x,
        lambda t: 1 / t,
        lambda a: 1 / a,
        lambda a: -1 / (a * a),
        away_from_zero(),
    ),
    Unary(
        'two-to-the',
        lambda x: 2**x,
        lambda t: 2**t,
        lambda a: 2**a,
        lambda a: 2**a * math.log(2),
        reals(),
    ),
    Unary(
        'const-minus',
        lambda x: 3 - x,
        lambda t: 3 - t,
        lambda a: 3 - a,
        lambda a: -1.0,
        reals(),
    ),
]

BINARY = [
    Binary(
        '+',
        lambda x, y: x + y,
        lambda x, y: x + y,
        lambda a, b: a + b,
        lambda a, b: 1.0,
        lambda a, b: 1.0,
        st.tuples(reals(), reals()),
    ),
    Binary(
        '-',
        lambda x, y: x - y,
        lambda x, y: x - y,
        lambda a, b: a - b,
        lambda a, b: 1.0,
        lambda a, b: -1.0,
        st.tuples(reals(), reals()),
    ),
    Binary(
        '*',
        lambda x, y: x * y,
        lambda x, y: x * y,
        lambda a, b: a * b,
        lambda a, b: b,
        lambda a, b: a,
        st.tuples(reals(), reals()),
    ),
    Binary(
        '/',
        lambda x, y: x / y,
        lambda x, y: x / y,
        lambda a, b: a / b,
        lambda a, b: 1 / b,
        lambda a, b: -a / (b * b),
        st.tuples(reals(), away_from_zero()),
    ),
    Binary(
        '**',
        lambda x, y: x**y,
        lambda x, y: x**y,
        lambda a, b: a**b,
        lambda a, b: b * a ** (b - 1),
        lambda a, b: a**b * math.log(a),
        st.tuples(positive(0.05, 5.0), reals(-4, 4)),
    ),
]


# -- a small known graph: the one every lesson uses (explain, steps, instruments) --------


def lesson_graph() -> tuple:
    """a*b + c, times f, with labels: the lessons' graph, L = -8 at a=2, b=-3, c=10, f=-2."""
    from microgrid import Value

    a, b, c = Value(2.0, 'a'), Value(-3.0, 'b'), Value(10.0, 'c')
    e = a * b
    e.label = 'e'
    d = e + c
    d.label = 'd'
    f = Value(-2.0, 'f')
    L = d * f
    L.label = 'L'
    return a, b, c, e, d, f, L
