"""Self-checking exercises for the course notebooks: ``check``.

``check(what, actual, expected)`` prints one line, ``✓ what`` or ``✗ what: expected ...,
got .... Hint: ...``, and returns True or False. It never raises, so a wrong or unfinished
answer never stops a notebook.

- Numbers typed by hand may be rounded to 4 significant digits (the default tolerance,
  ``rel=5e-4``); code answers that must be exact pass a tighter ``rel``.
- numpy and torch arrays and scalars are accepted (through their ``tolist()``; neither
  library is imported here), and so are Values (through ``.data``).
- ``mistakes`` keys hints to recognisable wrong answers: ``[(wrong_value, hint), ...]``. A
  wrong answer that matches one gets that hint; any other gets ``hint``.
- A wrong number is shown with as many digits as it takes to differ from the expected one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any

__all__ = ['HAND', 'check']

# Hand work rounded to 4 significant digits is within half a unit of the 4th digit: 5e-4.
HAND = 5e-4
"""check's default relative tolerance: an answer rounded to 4 significant digits passes."""


class _Unfilled(Exception):
    """The answer is still the stub (None or ...)."""


def _plain(x: Any) -> Any:
    """x with numpy/torch arrays and scalars turned into Python numbers and lists."""
    if isinstance(x, (bool, Real, str, bytes)) or x is None or x is Ellipsis:
        return x
    tolist = getattr(x, 'tolist', None)
    if callable(tolist) and type(x).__module__.split('.')[0] in ('numpy', 'torch'):
        try:
            return tolist()
        except Exception:
            return x.detach().tolist()
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _number(x: Any) -> float | None:
    """x as a float if it is a real number (or has a numeric ``.data``, like a Value)."""
    x = _plain(x)
    if isinstance(x, bool):
        return None
    if isinstance(x, Real):
        return float(x)
    data = getattr(x, 'data', None)
    if isinstance(data, Real) and not isinstance(data, bool):
        return float(data)
    return None


def _same(actual: Any, expected: Any, rel: float, abs_: float) -> bool:
    actual, expected = _plain(actual), _plain(expected)
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


def _number_text(n: float, other: float | None) -> str:
    """n with 6 significant digits, or with all of them (shortest round trip) when 6 would
    not show how it differs from ``other``."""
    short = f'{n:.6g}'
    if other is None or short != f'{other:.6g}' or n == other:
        return short
    return repr(n)


def _show(x: Any, other: Any = None) -> str:
    x, other = _plain(x), _plain(other)
    n = _number(x)
    if n is not None and not isinstance(x, int):
        return _number_text(n, _number(other))
    if isinstance(x, (list, tuple)):
        others = (
            other if isinstance(other, (list, tuple)) and len(other) == len(x) else [None] * len(x)
        )
        inner = ', '.join(_show(v, w) for v, w in zip(x, others))
        return f'[{inner}]' if isinstance(x, list) else f'({inner}{"," if len(x) == 1 else ""})'
    return repr(x)


def _keyed_hint(actual: Any, mistakes: Iterable[tuple[Any, str]], rel: float, abs_: float) -> str:
    for wrong, why in mistakes:
        try:
            if _same(actual, wrong, rel, abs_):
                return why
        except _Unfilled:
            return ''
    return ''


def check(
    what: str,
    actual: Any,
    expected: Any,
    *,
    rel: float = HAND,
    abs: float = 1e-9,
    hint: str = '',
    mistakes: Iterable[tuple[Any, str]] = (),
) -> bool:
    """Print ``✓ what`` if actual matches expected, else ``✗ what: ...``; return True/False.

    ``actual`` may be a zero-argument callable, called here (an exception it raises is
    reported as a ✗). Numbers are compared with ``math.isclose(rel, abs)`` (by default
    loose enough for hand work rounded to 4 significant digits), lists and tuples element
    by element, anything else with ``==``. None or ``...`` means the exercise is not
    filled in yet. ``mistakes`` pairs known wrong answers with their own hints. Never raises.
    """
    hint_now = hint
    try:
        if callable(actual) and not isinstance(actual, type):
            fn: Callable[[], Any] = actual
            actual = fn()
        ok = _same(actual, expected, rel, abs)
        problem = '' if ok else f'expected {_show(expected, actual)}, got {_show(actual, expected)}'
        if not ok:
            hint_now = _keyed_hint(actual, list(mistakes), rel, abs) or hint
    except _Unfilled:
        ok, problem = False, 'not filled in yet (the answer is still None or ...)'
    except Exception as error:
        ok, problem = False, f'your code raised {type(error).__name__}: {error}'
        if 'NoneType' in str(error):
            problem += ' (is a stub still returning None?)'
    if ok:
        print(f'✓ {what}')
    else:
        print(f'✗ {what}: {problem}.' + (f' Hint: {hint_now}' if hint_now else ''))
    return ok
