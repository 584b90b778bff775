"""Hessians through the numpy replay: the gradient graph traced once, replayed per row.

``hessian(fn, inputs)`` is ``microgrid.hessian``: the signature and the result of the
exact eager ``microgrid.autograd.functional.hessian``, faster when called again with the
same fn. The first call with a given fn is the eager one. The second traces
``(xs, seeds) -> dot(grad(fn(*xs), xs, create_graph=True), seeds)`` (forward and symbolic
backward) with compile; later calls replay it, one numpy forward and backward per row of
the Hessian, ``seeds`` a row of the identity (a batch of Hessian-vector products). No
``.grad`` is touched.

The promise, and what the fast path assumes (docs/compile.md, "Hessians"):

- fn is a function of its inputs. While it is traced, its inputs and every node it makes
  are watched (``tracing.watch_reads``): if fn reads the number of one (``.data``, ``<``,
  ``max()``, ``if x:``, formatting, ``backward()``, a node made under ``no_grad()``), its
  result may hang on a Python decision a replay would freeze, so that fn is never replayed:
  every call is eager. The numbers of the other Values fn reaches (a model's parameters,
  Values in its globals and closures) are compared before each replay, and compile's guards
  watch its globals, closures, lists, Modules and arrays: a change brings a new trace (and
  a fn that needs a new trace on every call becomes eager).
- fn's side effects (printing, appending to a list, putting the inputs into a model)
  happen on the calls that run it, the first two (and each new trace), not on replays.

To opt out: ``microgrid.autograd.functional.hessian`` (also ``microgrid.higher.hessian``)
is always the eager path. Where the replay cannot run (an op it cannot replay, fn
returning a number, ``detect_anomaly()``, ``no_grad()``, inside a compile trace, an error
in the trace), the eager path answers, and raises the eager errors.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from itertools import chain
from typing import Any

from microgrid import _numbers, engine
from microgrid.autograd import functional, tracing
from microgrid.autograd import modes as switches
from microgrid.compiler.api import CompiledValue, compile
from microgrid.engine import Value, topological_order

__all__ = ['hessian']

# fn -> its _Replay after its first (eager) call, or _EAGER
_SEEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NEW = object()  # fn not seen yet
_EAGER = object()  # fn cannot be replayed (it decided on a traced number, or failed)
MAX_TRACES_IN_A_ROW = 3  # calls in a row that each needed a new trace: then eager


class Unreplayable(Exception):
    """The trace of fn cannot stand for fn (raised inside the trace, caught here)."""


class _OtherPieces(Exception):
    """A replay's relu, abs or leaky_relu operand changed sign since the trace."""


class _Replay:
    """fn's compiled Hessian-vector product, and the numbers its trace assumed."""

    __slots__ = (
        'shape',
        'compiled',
        'program',
        'values',
        'numbers',
        'pieces',
        'traced_in_a_row',
        'traces_tried',
        'lock',
    )

    def __init__(self, shape: tuple | None) -> None:
        self.shape = shape  # of fn's graph in its first, eager, call (see _shape)
        self.compiled: Any = None  # made on the second call
        self.traces_tried = 0  # how many times fn was run under the watch
        self.lock = threading.RLock()
        self.program: Any = None  # the trace the numbers below belong to
        self.values: list[Value] = []  # Values fn reaches but is not given
        self.numbers: list[float] = []  # their numbers when it was traced
        self.pieces = b''  # the signs of the piecewise ops' operands then (Program.pieces_of)
        self.traced_in_a_row = 0


def hessian(fn: Callable[..., Any], inputs: Any) -> Any:
    """The matrix of second derivatives of fn(*inputs), as nested lists of floats.

    As ``torch.autograd.functional.hessian`` and ``microgrid.autograd.functional.hessian``
    (the exact eager path, which this one agrees with to a few ulps): ``inputs`` are
    numbers or Values (their numbers are used; no ``.grad`` is touched); one input, not
    in a list, gives a float. Called again with the same fn, it replays a trace with
    numpy, assuming fn is a function of its inputs: a fn that reads a traced number
    (``if x.data > 0``) is always run eagerly; fn's side effects happen only on the
    calls that run it. The module docstring says what is checked; opt out with
    ``microgrid.autograd.functional.hessian``."""
    try:
        state = _SEEN.get(fn, _NEW)
    except TypeError:  # fn cannot be weakly referenced: nothing to cache on
        return functional.hessian(fn, inputs)
    if state is _NEW:  # the first call: exact and eager (fn may be a one-off lambda)
        seen: list = []

        def run(*xs: Any) -> Any:
            out = fn(*xs)
            seen.append(_shape(out, xs))
            return out

        result = functional.hessian(run, inputs)
        _SEEN[fn] = _Replay(seen[0] if len(seen) == 1 else None)
        return result
    if state is _EAGER or (
        engine._hooks
        and (
            switches.is_anomaly_enabled() or tracing.is_tracing() or not switches.is_grad_enabled()
        )
    ):
        return functional.hessian(fn, inputs)
    if state.shape is None:  # fn returned a number (or was not called once)
        return functional.hessian(fn, inputs)
    with state.lock:  # one call at a time traces or replays fn
        if state.compiled is None:
            fn_ref = weakref.ref(fn)  # the cache must not keep fn alive
            state.compiled = compile(_hvp_of(fn_ref, state))
            state.compiled._guarded = fn_ref  # the guards watch fn's globals and closures
        rows = _rows(fn, state, inputs)
    if rows is None:  # the replay cannot run: the exact eager path (and its errors)
        return functional.hessian(fn, inputs)
    single = not isinstance(inputs, (list, tuple))
    return rows[0][0] if single else rows


def _rows(fn: Callable[..., Any], state: _Replay, inputs: Any) -> list | None:
    """The replayed rows, or None for the eager path (fn stays eager if it must)."""
    compiled = state.compiled
    if state.program is not None and [v._data for v in state.values] != state.numbers:
        compiled.reset()  # a number fn reads changed: trace again
    traces, tried = compiled.traces, state.traces_tried
    try:
        try:
            rows = _replayed_rows(state, inputs)
        except _OtherPieces:  # a relu's derivative the trace froze is another here
            compiled.reset()
            rows = _replayed_rows(state, inputs)
    except Exception:
        if state.traces_tried != tried:
            _SEEN[fn] = _EAGER  # the trace failed, or saw fn decide on a number
        return None  # (an error of a replay: eager raises its own, or answers)
    if compiled.traces == traces:
        state.traced_in_a_row = 0
    else:
        state.traced_in_a_row += 1
        if state.traced_in_a_row >= MAX_TRACES_IN_A_ROW:
            _SEEN[fn] = _EAGER  # its numbers change on every call: tracing does not pay
    return rows


def _hvp_of(fn_ref: weakref.ref, state: _Replay) -> Callable[..., Any]:
    def hvp(xs: list, seeds: list) -> Value:
        state.traces_tried += 1
        fn = fn_ref()
        if fn is None:
            raise Unreplayable('fn is gone')
        with tracing.watch_reads(xs) as notes:
            try:
                out = fn(*xs)
            except Exception as e:  # eager raises it again, or answers
                raise Unreplayable(f"fn raised {type(e).__name__} while traced") from e
        if notes:
            raise Unreplayable(f"fn decided on a traced number: {', '.join(notes[:3])}")
        if type(out) is not Value:
            raise Unreplayable('fn returned a number: nothing to replay')
        if _shape(out, xs) != state.shape:  # a test like type(x) is Value went otherwise
            raise Unreplayable('the trace made another graph than the eager call')
        grads = functional.grad(out, xs, create_graph=True, allow_unused=True)
        pairs = [(g, s) for g, s in zip(grads, seeds) if g is not None]
        if not pairs:
            raise Unreplayable('no input reaches the result: nothing to replay')
        return engine.dot([g for g, _ in pairs], [s for _, s in pairs])

    return hvp


def _replayed_rows(state: _Replay, inputs: Any) -> list | None:
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
        result = state.compiled(xs, seeds)
        if type(result) is not CompiledValue or result._run is None:
            return None  # run eagerly
        program = result._program
        if program is not state.program:  # a new trace: note the numbers it assumed
            _remember(state, program, result._run)
        elif i == 0 and program.pieces_of(result._run) != state.pieces:
            raise _OtherPieces
        g = program.gradients(result._run, 1.0)
        rows.append(g[program.args].tolist())
    return rows


def _remember(state: _Replay, program: Any, run: tuple) -> None:
    """The Values the trace read but was not given (parameters; Values in fn's globals,
    closures and Modules), and their numbers now."""
    guards = program.guards
    found = chain(
        program.param_values,
        (obj for _, _, obj in guards.names),
        (obj for _, obj in guards.cells),
        guards.items,
    )
    values = list({id(v): v for v in found if type(v) is Value}.values())
    state.program = program
    state.values = values
    state.numbers = [v._data for v in values]
    state.pieces = program.pieces_of(run)


def _shape(out: Any, xs: Any) -> tuple | None:
    """The graph below out without its numbers: for each node in topological order, its
    op, its constants (``_meta``) and where each parent is (an earlier node's place, an
    input's -1 - i, None for another leaf). None if out is not a Value."""
    if not isinstance(out, Value):
        return None
    where: dict[int, int] = {id(x): -1 - i for i, x in enumerate(xs)}
    if not out._edges:
        return ('leaf', where.get(id(out)))
    get = where.get
    shape: list = []
    for i, node in enumerate(topological_order(out)):
        parents = tuple([get(id(p)) for p in node._edges[0::2]])
        meta = node._meta
        shape.append((node.op, parents, tuple(sorted(meta.items())) if meta else None))
        where[id(node)] = i
    return tuple(shape)
