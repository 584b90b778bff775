"""Numbers for the engine: what counts as a real number, and the edges of the rules.

The engine (microgrid/engine.py) keeps its rules to one line of calculus each. What a
rule needs beyond that lives here:

- ``number`` and ``to_float``: any real number (int, float, numpy scalar, Decimal,
  Fraction, a 0-d tensor) becomes a Python float; anything else is refused, and
  ``refuse_value_args`` words the refusal of anything but ``Value(number, label)``;
- the domain errors, worded as Python's ``math`` module words them, naming the op and
  the operand (NaN is not an error: NaN in gives NaN out, as in PyTorch);
- ``a ** b`` and its derivatives at the limits (a == 0, a negative base, overflow),
  where microgrid follows Python for the value and PyTorch for the derivatives.

Only the standard library is used, as by the engine.
"""

from __future__ import annotations

import math
from numbers import Complex, Real
from typing import Any

__all__ = [
    'check_domain',
    'cos',
    'div',
    'dpow_da',
    'dpow_db',
    'edges_of',
    'exp',
    'log',
    'logistic',
    'number',
    'power',
    'power_rule',
    'refuse_value_args',
    'sin',
    'sqrt',
    'to_float',
]


# -- numbers in ------------------------------------------------------------------------


def number(x: Any) -> float | None:
    """x as a float if it is a real number (not a bool's cousin str, not complex), else None."""
    if type(x) is float:
        return x
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, (str, bytes)) or (isinstance(x, Complex) and not isinstance(x, Real)):
        return None
    if not hasattr(type(x), '__float__'):  # a Value has no __float__: it is not a number
        return None
    try:
        return float(x)  # numpy scalars, Decimal, Fraction, a 0-d tensor
    except (TypeError, ValueError):  # e.g. a tensor with more than one element
        return None


def to_float(x: Any, op: str = '') -> float:
    """x as a float, or a TypeError naming op (or Value) and what x was."""
    f = number(x)
    if f is None:
        if op:
            raise TypeError(f"{op}: expected Values or real numbers, got {type(x).__name__}")
        raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r:.60}")
    return f


def refuse_value_args(label: Any) -> None:
    """Value(data, label) was given something else: a label that is not a str, or
    micrograd's private form Value(data, children, op). Refuse it, saying why."""
    if not isinstance(label, (str, tuple, list, set)):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    raise TypeError(
        "Value(data, children, op) is micrograd's private form; a node also needs each "
        "parent's local derivatives: use Value.from_op(data, parents, local_grads, op)."
    )


def edges_of(op: Any, parents: tuple, local_grads: Any, value: type) -> tuple:
    """Value.from_op's edges (p0, d0, p1, d1, ...), its arguments checked: parents must be
    Values (the class ``value``), one local derivative each, a real number; op a name."""
    local_grads = tuple(local_grads)
    if len(parents) != len(local_grads):
        n, m = len(parents), len(local_grads)
        raise ValueError(f"from_op({op!r}): {n} parents but {m} local_grads")
    if not isinstance(op, str) or not op or not all(isinstance(p, value) for p in parents):
        types = [type(p).__name__ for p in parents]
        raise TypeError(f"from_op({op!r}): parents must be Values and op a str, got {types}")
    out: list = [None] * (2 * len(parents))
    out[0::2], out[1::2] = parents, [to_float(d) for d in local_grads]
    return tuple(out)


# -- math's functions, with errors that name the op and its operand --------------------


def check_domain(op: str, a: float, ok: bool, needs: str) -> None:
    """Raise math's ValueError for op(a) unless ok."""
    if not ok:
        raise ValueError(f"{op}({a!r}): math domain error, {op} needs an operand {needs}")


def div(a: float, b: float) -> float:
    """a / b, with a ZeroDivisionError that names both operands."""
    if b == 0:
        raise ZeroDivisionError(f"division by zero in {a!r} / {b!r}")
    return a / b


def exp(a: float) -> float:
    """e ** a, with an OverflowError that names the operand."""
    try:
        return math.exp(a)
    except OverflowError:
        raise OverflowError(f"exp({a!r}): math range error, the result is too large") from None


def log(a: float) -> float:
    """The natural logarithm; a <= 0 is a domain error, as in math."""
    check_domain('log', a, not a <= 0, '> 0')
    return math.log(a)


def sqrt(a: float) -> float:
    """The square root; a < 0 is a domain error, as in math."""
    check_domain('sqrt', a, not a < 0, '>= 0')
    return math.sqrt(a)


def sin(a: float) -> float:
    """sin(a); sin(inf) is a domain error, as in math."""
    check_domain('sin', a, not math.isinf(a), 'that is finite')
    return math.sin(a)


def cos(a: float) -> float:
    """cos(a); cos(inf) is a domain error, as in math."""
    check_domain('cos', a, not math.isinf(a), 'that is finite')
    return math.cos(a)


def logistic(a: float) -> float:
    """1 / (1 + e^-a), without overflow for a large negative a."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


# -- a ** b at its limits --------------------------------------------------------------


def power(a: float, b: float) -> float:
    """a ** b as Python gives it, with errors that name both operands.

    A negative base needs an integer exponent, or an infinite one: (-1.0) ** inf is 1.0
    and (-0.5) ** inf is 0.0, as in Python and PyTorch."""
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power in {a!r} ** {b!r}")
    if a < 0 and not (b.is_integer() or math.isinf(b)):
        raise ValueError(
            f"math domain error in {a!r} ** {b!r}: a negative base needs an integer exponent"
        )
    try:
        return a**b
    except OverflowError:
        raise OverflowError(f"math range error in {a!r} ** {b!r}: result too large") from None


def power_rule(a: float, b: float) -> tuple[float, float, float]:
    """The engine's rule for a ** b: (a ** b, d/da, d/db)."""
    p = power(a, b)
    return p, dpow_da(a, b), dpow_db(a, b, p)


def dpow_da(a: float, b: float) -> float:
    """d(a**b)/da = b * a**(b-1), with PyTorch's limits at a == 0 and inf on overflow."""
    if b == 0:
        return 0.0
    if a == 0:
        return 0.0 if b > 1 else (1.0 if b == 1 else math.inf)
    try:
        return b * a ** (b - 1)
    except OverflowError:
        return math.copysign(math.inf, b if a > 0 or (b - 1) % 2 == 0 else -b)


def dpow_db(a: float, b: float, p: float) -> float:
    """d(a**b)/db = a**b * log(a): 0 at a == 0, NaN for a negative base."""
    if a > 0:
        return p * math.log(a)
    return 0.0 if a == 0 else math.nan
