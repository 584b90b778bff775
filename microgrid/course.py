"""Self-checking exercises for the course notebooks.

``check(what, actual, expected)`` prints one line, ``✓ what`` or ``✗ what: expected ...,
got .... Hint: ...``, and returns True or False. It never raises, so a wrong or unfinished
answer never stops a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

__all__ = ['check']


class _Unfilled(Exception):
    """The answer is still the stub (None or ...)."""


def _show(x: Any) -> str:
    if isinstance(x, float):
        return f'{x:.6g}'
    if isinstance(x, (list, tuple)):
        inner = ', '.join(_show(v) for v in x)
        return f'[{inner}]' if isinstance(x, list) else f'({inner}{"," if len(x) == 1 else ""})'
    return repr(x)


def _number(x: Any) -> float | None:
    """x as a float if it is a real number (or has a numeric ``.data``, like a Value)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, Real):
        return float(x)
    data = getattr(x, 'data', None)
    if isinstance(data, Real) and not isinstance(data, bool):
        return float(data)
    return None


def _same(actual: Any, expected: Any, rel: float, abs_: float) -> bool:
    if actual is None or actual is Ellipsis:
        raise _Unfilled
    e = _number(expected)
    if e is not None:
        a = _number(actual)
        if a is None:
            return False
        if math.isnan(e):
            return math.isnan(a)
        return math.isclose(a, e, rel_tol=rel, abs_tol=abs_)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return False
        return all(_same(a, x, rel, abs_) for a, x in zip(actual, expected))
    return bool(actual == expected)


def check(
    what: str,
    actual: Any,
    expected: Any,
    *,
    rel: float = 1e-6,
    abs: float = 1e-9,
    hint: str = '',
) -> bool:
    """Print ``✓ what`` if actual matches expected, else ``✗ what: ...``; return True/False.

    ``actual`` may be a zero-argument callable, called here (an exception it raises is
    reported as a ✗). Numbers are compared with ``math.isclose(rel, abs)``, lists and
    tuples element by element, anything else with ``==``. None or ``...`` means the
    exercise is not filled in yet. Never raises.
    """
    try:
        if callable(actual) and not isinstance(actual, type):
            fn: Callable[[], Any] = actual
            actual = fn()
        ok = _same(actual, expected, rel, abs)
        problem = '' if ok else f'expected {_show(expected)}, got {_show(actual)}'
    except _Unfilled:
        ok, problem = False, 'not filled in yet (the answer is still None or ...)'
    except Exception as error:  # noqa: BLE001 - a student's code may raise anything
        ok, problem = False, f'your code raised {type(error).__name__}: {error}'
    if ok:
        print(f'✓ {what}')
    else:
        print(f'✗ {what}: {problem}.' + (f' Hint: {hint}' if hint else ''))
    return ok
