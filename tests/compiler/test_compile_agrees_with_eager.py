"""Eager and compiled agree on every op at special points: the same value and gradient
(to a few ulps), or the same error (issue 21).

Each op is replayed twice: as a lone node (the engine's own scalar rule) and as a group of
nodes that share the op (the numpy rule). Both must do what eager does: NaN propagates
(log(nan) is nan), a domain error raises the engine's error naming op and operand
(sin(inf), log(-1)), an overflow raises OverflowError.
"""

from __future__ import annotations

import math
import warnings

import pytest

import microgrid
from microgrid import Value
from microgrid.engine import sum as vsum

SPECIAL = [0.0, -0.0, 1e-308, -1e-308, 0.5, -2.0, 1e308, -1e308, math.inf, -math.inf, math.nan]
UNARY = {
    'neg': lambda v: -v,
    'abs': abs,
    'exp': Value.exp,
    'log': Value.log,
    'sqrt': Value.sqrt,
    'tanh': Value.tanh,
    'sigmoid': Value.sigmoid,
    'relu': Value.relu,
    'softplus': Value.softplus,
    'sin': Value.sin,
    'cos': Value.cos,
    'leaky_relu': Value.leaky_relu,
}
BINARY = {
    '+': lambda a, b: a + b,
    '-': lambda a, b: a - b,
    '*': lambda a, b: a * b,
    '/': lambda a, b: a / b,
    '**': lambda a, b: a**b,
}
BINARY_POINTS = [0.0, -1.0, 2.0, 0.5, 1e-300, 1e300, math.inf, -math.inf, math.nan]


def _outcome(call):
    """(value, grads) or the error's type and message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            return call()
    except (ArithmeticError, ValueError) as e:
        return (type(e).__name__, str(e))


def _same(a, b) -> bool:
    if type(a) is str or type(b) is str:
        return a == b
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b) or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _eager(fn, xs):
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def _replayed(compiled, xs):
    vs = [Value(x) for x in xs]
    out = compiled(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def _check(fn, points, arity):
    lone = microgrid.compile(fn)
    lone(*[Value(0.75 + i) for i in range(arity)])  # traced at an ordinary point

    def pair(*vs):  # two nodes of one op: a numpy group, the second at an ordinary point
        ordinary = [Value(0.75 + i) for i in range(arity)]
        return vsum([fn(*vs), fn(*ordinary)])

    grouped = microgrid.compile(pair)
    grouped(*[Value(0.75 + i) for i in range(arity)])
    wrong = []
    for xs in points:
        eager = _outcome(lambda: _eager(fn, xs))
        one = _outcome(lambda: _replayed(lone, xs))
        both = _outcome(lambda: _replayed(grouped, xs))
        if type(eager[0]) is not str:  # the group adds fn at the ordinary point
            base = _eager(fn, [0.75 + i for i in range(arity)])[0]
            eager_pair = (eager[0] + base, eager[1])
        else:
            eager_pair = eager
        if not _same(one, eager) or not _same(both, eager_pair):
            wrong.append((xs, eager, one, both))
    assert not wrong, wrong[:3]


@pytest.mark.parametrize('op', sorted(UNARY))
def test_a_unary_op_replayed_alone_or_in_a_group_does_what_eager_does(op):
    _check(UNARY[op], [(x,) for x in SPECIAL], 1)


@pytest.mark.parametrize('op', sorted(BINARY))
def test_a_binary_op_replayed_alone_or_in_a_group_does_what_eager_does(op):
    _check(BINARY[op], [(a, b) for a in BINARY_POINTS for b in BINARY_POINTS], 2)


def test_log_of_nan_is_nan_and_sin_of_inf_raises_in_a_group():
    f = microgrid.compile(lambda a, b: a.log() + b.log())
    f(Value(1.0), Value(2.0))
    assert math.isnan(f(Value(math.nan), Value(2.0)).data)
    g = microgrid.compile(lambda a, b: a.sin() + b.sin())
    g(Value(1.0), Value(2.0))
    with pytest.raises(ValueError, match=r'sin\(inf\): math domain error'):
        g(Value(math.inf), Value(2.0))
