"""Hessians through the numpy replay: the gradient graph traced once, replayed per row.

``hessian(fn, inputs)`` has the signature and result of ``microgrid.hessian``. The first
call with a given fn runs the exact eager path. From the second call on, the function
``(xs, seeds) -> dot(grad(fn(*xs), xs, create_graph=True), seeds)`` is compiled: traced
once (forward and the symbolic backward), then each row of the Hessian is one numpy
replay, forward and backward, with ``seeds`` a row of the identity (reverse over
reverse, as a batch of Hessian-vector products). No ``.grad`` is touched.

A replay has compile's semantics (docs/compile.md): it agrees with eager to a few ulps,
its guards trace again when fn's globals, closures or Modules change, and Python control
flow in fn that depends on ``.data`` is frozen by the trace. Where the replay cannot run
(an op it cannot replay, fn returning a number, under ``detect_anomaly()``, a failed
trace), the eager path answers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from microgrid import _numbers, engine
from microgrid.autograd import functional as higher
from microgrid.compiler.api import CompiledFunction, CompiledValue, compile
from microgrid.engine import Value

__all__ = ['hessian']

# fn -> None after its first (eager) call, then its compiled Hessian-vector product
_SEEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NEW = object()  # fn not seen yet
_EAGER = object()  # fn's trace failed once: always eager


def hessian(fn: Callable[..., Any], inputs: Any) -> Any:
    """The matrix of second derivatives of fn(*inputs), as nested lists of floats, as
    microgrid.hessian (see the module docstring for when the numpy replay is used)."""
    try:
        compiled = _SEEN.get(fn, _NEW)
    except TypeError:  # fn cannot be weakly referenced: nothing to cache on
        return higher.hessian(fn, inputs)
    if compiled is _NEW:
        _SEEN[fn] = None  # the first call: exact and eager (fn may be a one-off lambda)
        return higher.hessian(fn, inputs)
    if compiled is _EAGER:
        return higher.hessian(fn, inputs)
    if compiled is None:
        compiled = _SEEN[fn] = compile(_hvp_of(fn))
    try:
        rows = _replayed_rows(compiled, inputs)
    except Exception:  # the trace failed: this fn stays eager
        _SEEN[fn] = _EAGER
        rows = None
    if rows is None:  # the replay cannot run: the exact eager path (and its errors)
        return higher.hessian(fn, inputs)
    single = not isinstance(inputs, (list, tuple))
    return rows[0][0] if single else rows


def _hvp_of(fn: Callable[..., Any]) -> Callable[..., Any]:
    def hvp(xs: list, seeds: list) -> Value:
        out = fn(*xs)
        if type(out) is not Value:
            raise TypeError('fn returned a number: nothing to replay')
        grads = higher.grad(out, xs, create_graph=True, allow_unused=True)
        pairs = [(g, s) for g, s in zip(grads, seeds) if g is not None]
        if not pairs:
            raise TypeError('no input reaches the result: nothing to replay')
        return engine.dot([g for g, _ in pairs], [s for _, s in pairs])

    return hvp


def _replayed_rows(compiled: CompiledFunction, inputs: Any) -> list | None:
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    numbers = [x.data if type(x) is Value else _numbers.number(x) for x in items]
    if any(x is None for x in numbers):
        return None  # the eager path names the bad input
    n = len(numbers)
    xs = [Value(x) for x in numbers]
    rows = []
    for i in range(n):
        seeds = [0.0] * n
        seeds[i] = 1.0
        result = compiled(xs, seeds)
        if type(result) is not CompiledValue or result._run is None:
            return None  # run eagerly (detect_anomaly, a trace around us, no_grad)
        program = result._program
        g = program.gradients(result._run, 1.0)
        rows.append(g[program.args].tolist())
    return rows
