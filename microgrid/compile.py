"""microgrid.compile: trace a function of Values once, then replay it with numpy.

    loss_fn = microgrid.compile(lambda xs: losses.hinge([model(x) for x in xs], ys))
    loss = loss_fn(X)      # forward: numpy, no Value nodes are made
    loss.backward()        # fills p.grad of every parameter fn used (leaves accumulate)

How it works. The first call runs ``fn`` eagerly with the engine's tracing hook on:
every node it makes is recorded with its operands. Numbers in the arguments are
replaced by placeholder leaves, so they become inputs that each call feeds anew. The
recorded graph is flattened into arrays: one slot per constant, input, leaf Value
and node. Nodes are grouped by topological level and op, and each group runs as a
few numpy operations: element-wise ops on gathered operands, sums and dot products
as segmented reductions, and a group of dot products that share their weight rows
and input rows (the neurons of a layer over a batch) as one matrix product.
Backward walks the groups in reverse and adds each contribution to its parents'
slots, then adds the leaves' gradients to their ``.grad``.

What each call sees:

- The leaf Values the trace recorded (the parameters fn read) have their ``.data``
  re-read on every call, so an optimizer's in-place updates are seen, and get their
  ``.grad`` from backward(). Value arguments are read too, and get gradients. WHICH
  Values those are was fixed by the trace: see the guards below.
- Numbers in the arguments (in nested lists, tuples or numpy arrays) are inputs.
  Other arguments (bools, strings, None, objects, and the positions named in
  ``static_argnums``, for example labels that a loss compares with numbers) are
  static: they are part of the cache key, and fn is traced again when they change.
- When the structure of the arguments changes (a list's length, a number where a
  Value was), fn is traced again; each structure's trace is kept.

Guards (as torch.compile's). Before each replay, the compiled function checks that the
globals and closure variables fn reads (and those of the Python functions it reaches
through them) are still bound to the same objects, and that the lists, dicts and
``nn.Module`` objects reachable from them (up to guards.GUARD_BUDGET elements) still
hold the same objects. If any changed, fn is traced again. So ``model = MLP(...)`` or
``model = nn.load(...)`` after compiling, a closed-over parameter list that grows, a
Value replaced inside a Module, or a global number fn reads that is re-bound, each
bring a new trace. The check costs about 10 microseconds per call for the demo's
MLP(2, [16, 16, 1]) (BENCHMARKS.md). The guards hold the objects they watch, so a
replaced model is freed at the next call, when the new trace replaces the old.

When fn is a bound method (``compile(trainer.loss)``), the attributes of its object are
watched too. What the guards do not see: attributes of other objects that are neither
Modules nor lists, tuples or dicts (``holder.w = Value(...)``), globals of other modules
read as attributes (``config.model``), code reached through methods of such objects,
and containers past GUARD_BUDGET. After such a change call ``reset()`` on the compiled
function. ``compile(fn, check=True)`` catches it: a TraceMismatchError says "a
parameter that the trace recorded is no longer the one fn uses".

The other limitation: only operations on Values are recorded. Python control flow that
depends on data (``if x.data > 0:``, ``max()`` over Values, a number computed from
``.data``) is frozen as it went on the first call, so a later call with other data
can silently take the wrong branch. Data-dependent *ops* are fine: relu, abs and
leaky_relu choose per element on every call (and, as in eager mode, give NaN with a
NaN derivative for a NaN operand). ``compile(fn, check=True)`` runs fn
eagerly beside every replay and raises TraceMismatchError naming the first node,
value or gradient that differs. Ops made with Value.from_op cannot be replayed and
raise an error at trace time. Under ``detect_anomaly()`` a compiled function runs
eagerly, so that anomalies are reported where they arise.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from microgrid import engine, switches, tracing
from microgrid import text as names  # name_of: the display names are in microgrid.text
from microgrid.engine import Value
from microgrid.guards import Guards, guards_for
from microgrid.text import fmt as _fmt

np: Any = None  # numpy, imported on first use (it is heavy for `import microgrid`)


def _numpy() -> Any:
    global np
    if np is None:
        import numpy

        np = numpy
    return np


class TraceMismatchError(RuntimeError):
    """A compiled replay differs from running the function eagerly (compile(check=True))."""


def compile(  # microgrid.compile, as torch.compile
    fn: Callable[..., Any], check: bool = False, static_argnums: Any = ()
) -> CompiledFunction:
    """Trace fn on its first call and replay it with numpy on later calls.

    ``check=True`` runs fn eagerly beside each replay (and each backward) and raises
    TraceMismatchError where they differ. ``static_argnums`` names argument positions
    passed to fn unchanged (for example labels): fn is traced again when they change.
    """
    return CompiledFunction(fn, check=check, static_argnums=static_argnums)


class CompiledFunction:
    """The callable that compile() returns: same arguments as fn, a CompiledValue back."""

    MAX_TRACES = 64  # traces kept (one per argument structure); the oldest goes first

    def __init__(self, fn: Callable[..., Any], check: bool = False, static_argnums: Any = ()):
        if not callable(fn):
            raise TypeError(f"compile: fn must be callable, got {type(fn).__name__}")
        if not isinstance(check, bool):
            raise TypeError(f"compile: check must be True or False, got {check!r:.40}")
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        try:
            nums = tuple(static_argnums)
        except TypeError:
            nums = (static_argnums,)
        for i in nums:
            if isinstance(i, bool) or not isinstance(i, int) or i < 0:
                raise TypeError(
                    f"compile: static_argnums must be argument positions (ints >= 0), got {i!r:.40}"
                )
        _numpy()
        self.fn = fn
        self.check = check
        self.static_argnums = frozenset(nums)
        self.traces = 0  # how many times fn was traced
        self._cache: dict = {}
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, '__doc__', None)
        self.__name__ = getattr(fn, '__name__', 'compiled')

    def __repr__(self) -> str:
        return f"<microgrid.compile of {self.__name__}, {self.traces} trace(s)>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(
                "a compiled function takes its arguments by position only, "
                f"got keyword(s) {', '.join(sorted(kwargs))}"
            )
        if engine._hooks and (switches.is_anomaly_enabled() or tracing.is_tracing()):
            # eager: detect_anomaly finds each anomaly at its source, and an enclosing
            # compile's trace records the ops
            return self.fn(*args)
        flat = _Flat(args, self.static_argnums)
        program = self._cache.get(flat.key)
        if program is None or not program.guards.hold():
            program = self._trace(args, flat)
        result = program.run(flat)
        if self.check:
            _check_forward(self, program, args, flat, result)
        return result

    def reset(self) -> None:
        """Forget every trace: the next call traces fn again (after replacing a Value
        somewhere the guards do not look; see compile's module docstring)."""
        self._cache.clear()

    def _trace(self, args: tuple, flat: _Flat) -> _Program:
        program = _Program.trace(self.fn, args, flat, self.static_argnums)
        program.guards = guards_for(self.fn)
        self.traces += 1
        if len(self._cache) >= self.MAX_TRACES:
            del self._cache[next(iter(self._cache))]
        self._cache[flat.key] = program
        return program


class CompiledValue:
    """The result of a compiled call: ``.data``, and ``.backward()`` for the leaves' grads."""

    __slots__ = ('data', 'grad', '_program', '_run', '_check')

    def __init__(self, data: float, program: _Program, run: Any) -> None:
        self.data = data
        self.grad = 0.0
        self._program = program
        self._run = run  # this call's forward arrays (a later call does not disturb them)
        self._check: Any = None  # (fn, args) when compile(check=True)

    def backward(self, grad: Any = 1.0) -> None:
        """Add d(this)/d(leaf) * grad to the .grad of each parameter and Value argument."""
        g = engine._to_float(grad)
        if self._check is not None:
            _check_backward(self, g)
            return
        if self._run is None:  # made under no_grad(): a leaf, as eager makes there
            self.grad += g
            return
        self.grad = g
        self._program.backward(self._run, g)

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        return f"CompiledValue(data={self.data:.6g}, grad={self.grad:.6g})"


# -----------------------------------------------------------------------------
# Arguments: numbers and Values are fed on each call; the rest is static.
# -----------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    """A real number other than a bool (bools, like strings, are static arguments)."""
    if isinstance(x, bool) or type(x) is Value:
        return False
    return isinstance(x, (int, float)) or (
        not isinstance(x, (str, bytes)) and engine._number(x) is not None
    )


def _numeric_block(a: Any) -> Any:
    """A (nested) list or array of real numbers as a float64 array, else None."""
    if _is_ndarray(a):
        arr = a
    else:
        first = a[0] if a else None
        if type(first) is not list and type(first) is not tuple and not _is_number(first):
            return None  # Values, strings, an empty list: walked item by item
        try:
            arr = np.array(a)
        except (ValueError, TypeError):  # ragged, or not numbers
            return None
    if arr.dtype.kind not in 'fiu' or arr.ndim == 0:
        return None
    return arr if arr.dtype == np.float64 else arr.astype(np.float64)


def _is_ndarray(a: Any) -> bool:
    return isinstance(a, np.ndarray)


class _Flat:
    """The arguments taken apart: a hashable structure key, the numbers and the Values.

    Walking order defines where each number and Value goes; _rebuild() walks the same way.
    """

    __slots__ = ('key', 'blocks', 'n_numbers', 'values')

    def __init__(self, args: tuple, static_argnums: frozenset) -> None:
        key: list = []
        self.blocks: list = []  # the numbers, in order: floats and raveled arrays
        self.n_numbers = 0
        self.values: list[Value] = []
        for i, a in enumerate(args):
            if i in static_argnums:
                key.append(('static', _frozen(a, i)))
            else:
                self._walk(a, key, i)
        # the same Value at two places is one leaf: that pattern is part of the key
        if len(self.values) > 1:
            ids = [id(v) for v in self.values]
            if len(set(ids)) != len(ids):
                first: dict[int, int] = {}
                key.append(('same', tuple(first.setdefault(k, j) for j, k in enumerate(ids))))
        self.key = tuple(key)

    def _walk(self, a: Any, key: list, pos: int) -> None:
        t = type(a)
        if t is float or t is int:
            self.blocks.append(float(a))
            self.n_numbers += 1
            key.append('n')
        elif t is Value:
            self.values.append(a)
            key.append('V')
        elif t is list or t is tuple or _is_ndarray(a):
            block = _numeric_block(a)
            if block is not None:
                self.blocks.append(block.ravel())
                self.n_numbers += block.size
                key.append(('array', block.shape))
            elif t is list or t is tuple:
                key.append((t.__name__, len(a)))
                for item in a:
                    self._walk(item, key, pos)
            else:
                raise TypeError(
                    f"compile: argument {pos} is a numpy array of {a.dtype}; "
                    "arrays must hold real numbers"
                )
        elif _is_number(a):
            self.blocks.append(engine._to_float(a))
            self.n_numbers += 1
            key.append('n')
        else:
            key.append(('static', _frozen(a, pos)))

    def numbers(self) -> Any:
        """All the numbers as one float64 array."""
        blocks = self.blocks
        if len(blocks) == 1 and type(blocks[0]) is not float:
            return blocks[0]
        out = np.empty(self.n_numbers)
        i = 0
        for b in blocks:
            if type(b) is float:
                out[i] = b
                i += 1
            else:
                out[i : i + b.size] = b
                i += b.size
        return out


def _frozen(a: Any, pos: int) -> Any:
    """A hashable stand-in for a static argument (lists become tuples)."""
    if type(a) is list or type(a) is tuple:
        if {*map(type, a)} <= _PLAIN:  # quick: labels and the like
            return (type(a).__name__, 'plain', *a)
        return (type(a).__name__, *(_frozen(x, pos) for x in a))
    if _is_ndarray(a):
        return ('ndarray', a.dtype.str, a.shape, a.tobytes())
    if type(a) is Value:
        return ('Value', id(a))  # a static Value: the very same object
    try:
        hash(a)
    except TypeError:
        raise TypeError(
            f"compile: argument {pos} holds a {type(a).__name__}, which is neither data "
            "(numbers, Values, lists of them) nor hashable (as a static argument must be)"
        ) from None
    return (type(a).__name__, a)


_PLAIN = {float, int, str}


def _rebuild(args: tuple, static_argnums: frozenset, placeholders: list, values: list) -> list:
    """The arguments for the tracing call: each number replaced by its placeholder leaf."""
    numbers = iter(placeholders)
    vals = iter(values)

    def rebuild(a: Any) -> Any:
        t = type(a)
        if t is float or t is int:
            return next(numbers)
        if t is Value:
            return next(vals)
        if t is list or t is tuple or _is_ndarray(a):
            block = _numeric_block(a)
            if block is not None:
                return _nest([next(numbers) for _ in range(block.size)], block.shape)
            items = [rebuild(x) for x in a]
            return items if t is list else tuple(items)
        if _is_number(a):
            return next(numbers)
        return a

    return [a if i in static_argnums else rebuild(a) for i, a in enumerate(args)]


def _nest(flat: list, shape: tuple) -> Any:
    """flat (a list) as nested lists of the given shape."""
    if len(shape) <= 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _unique(values: list[Value]) -> list[Value]:
    """values without repeats (by identity), in order of first appearance."""
    if len(values) < 2:
        return values
    return list({id(v): v for v in values}.values())


# -----------------------------------------------------------------------------
# The rules again, on arrays. Each mirrors its line in engine.py; where the engine
# raises (a domain error), the replay raises the same error from the engine's rule.
# -----------------------------------------------------------------------------


def _raise_like_engine(rule: Callable, bad: Any, *operands: Any) -> None:
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    rule(*(float(o[i]) if isinstance(o, np.ndarray) else o for o in operands))
    raise ValueError(f"compiled replay: {rule.__name__[1:]} is undefined for these operands")


def _logistic(a: Any) -> Any:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _v_exp(a):
    with np.errstate(over='ignore'):
        e = np.exp(a)
    _raise_like_engine(engine._exp, np.isinf(e) & np.isfinite(a), a)
    return e, e


def _v_log(a):
    _raise_like_engine(engine._log, ~(a > 0), a)
    return np.log(a), 1.0 / a


def _v_sqrt(a):
    _raise_like_engine(engine._sqrt, a < 0, a)
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
    nan = a != a
    if nan.any():  # as PyTorch (and the engine): relu of NaN is NaN, with a NaN derivative
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
    _raise_like_engine(engine._div, b == 0, a, b)
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
        _raise_like_engine(engine._pow, bad, a, b)
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


_UNARY_RULES: dict[str, Callable] = {
    'neg': lambda a: (-a, -1.0),
    'abs': _v_abs,
    'exp': _v_exp,
    'log': _v_log,
    'sqrt': _v_sqrt,
    'tanh': _v_tanh,
    'sigmoid': _v_sigmoid,
    'relu': _v_relu,
    'softplus': _v_softplus,
    'sin': lambda a: (np.sin(a), np.cos(a)),
    'cos': lambda a: (np.cos(a), -np.sin(a)),
}
_BINARY_RULES: dict[str, Callable] = {
    '+': lambda a, b: (a + b, 1.0, 1.0),
    '-': lambda a, b: (a - b, 1.0, -1.0),
    '*': lambda a, b: (a * b, b, a),
    '/': _v_div,
    '**': _v_pow,
    'leaky_relu': _v_leaky_relu,
}
# The engine's scalar rules, to check at trace time that each node is what its op says.
_SCALAR_RULES: dict[str, Callable] = {
    'neg': engine._neg, 'abs': engine._abs, 'exp': engine._exp, 'log': engine._log,
    'sqrt': engine._sqrt, 'tanh': engine._tanh, 'sigmoid': engine._sigmoid,
    'relu': engine._relu, 'softplus': engine._softplus, 'sin': engine._sin, 'cos': engine._cos,
    '+': engine._add, '-': engine._sub, '*': engine._mul, '/': engine._div, '**': engine._pow,
    'leaky_relu': engine._leaky_relu,
}  # fmt: skip


# -----------------------------------------------------------------------------
# Where contributions go: a precomputed way to add an array into the gradient slots.
# -----------------------------------------------------------------------------


class _Target:
    """Adds contributions c (laid out as the index array idx) into g[idx], skipping the
    slots that need no gradient (constants, inputs, nodes with no parameter below)."""

    __slots__ = ('keep', 'index', 'how')

    def __init__(self, idx: Any, wanted: Any) -> None:
        idx = np.asarray(idx, dtype=np.intp).ravel()
        mask = wanted[idx]
        self.keep = None if mask.all() else np.flatnonzero(mask)
        index = idx[mask]
        self.index: Any = index
        if index.size == 0:
            self.how = 'none'
        elif index.size > 1 and (np.diff(index) == 1).all():
            self.how = 'slice'
            self.index = slice(int(index[0]), int(index[-1]) + 1)
        elif np.unique(index).size == index.size:
            self.how = 'unique'
        else:
            self.how = 'repeated'

    @property
    def needed(self) -> bool:
        return self.how != 'none'

    def add(self, g: Any, c: Any) -> None:
        how = self.how
        if how == 'none':
            return
        if self.keep is not None:
            c = c.ravel()[self.keep]
        elif c.ndim != 1:
            c = c.ravel()
        if how == 'repeated':
            np.add.at(g, self.index, c)
        else:
            g[self.index] += c


def _operand(idx: Any) -> Any:
    """How to read operands: a slice when the slots are consecutive, else the index array."""
    idx = np.asarray(idx, dtype=np.intp)
    if idx.size > 1 and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    if idx.size == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    return idx


# -----------------------------------------------------------------------------
# Groups: nodes of one level and one op, computed together.
# -----------------------------------------------------------------------------


class _Unary:
    def __init__(self, op: str, s: int, e: int, a: Any, wanted: Any) -> None:
        self.op, self.s, self.e = op, s, e
        self.rule = _UNARY_RULES[op]
        self.a = _operand(a)
        self.target = _Target(a, wanted)

    def forward(self, v: Any, saved: list) -> None:
        out, d = self.rule(v[self.a])
        v[self.s : self.e] = out
        saved.append(d)

    def backward(self, g: Any, d: Any) -> None:
        if self.target.needed:
            self.target.add(g, d * g[self.s : self.e])


class _Binary:
    def __init__(self, op: str, s: int, e: int, a: Any, b: Any, wanted: Any) -> None:
        self.op, self.s, self.e = op, s, e
        self.rule = _BINARY_RULES[op]
        self.a, self.b = _operand(a), _operand(b)
        self.ta, self.tb = _Target(a, wanted), _Target(b, wanted)

    def forward(self, v: Any, saved: list) -> None:
        out, da, db = self.rule(v[self.a], v[self.b])
        v[self.s : self.e] = out
        saved.append((da, db))

    def backward(self, g: Any, d: Any) -> None:
        up = g[self.s : self.e]
        da, db = d
        if self.ta.needed:
            self.ta.add(g, up if type(da) is float and da == 1.0 else da * up)
        if self.tb.needed:
            self.tb.add(g, up if type(db) is float and db == 1.0 else db * up)


class _Scalar:
    """One unary or binary node, on Python floats with the engine's own rule (numpy's
    cost for a one-element array is larger than the work)."""

    def __init__(self, op: str, s: int, operands: list[int], wanted: Any) -> None:
        self.op, self.s, self.e = op, s, s + 1
        self.rule = _SCALAR_RULES[op]
        self.operands = [i for i in operands]
        self.wanted = [bool(wanted[i]) for i in operands]

    def forward(self, v: Any, saved: list) -> None:
        out, *d = self.rule(*[v.item(i) for i in self.operands])
        v[self.s] = out
        saved.append(d)

    def backward(self, g: Any, d: Any) -> None:
        up = g.item(self.s)
        for i, want, local in zip(self.operands, self.wanted, d):
            if want:
                g[i] += local * up


class _Sum:
    """Sums of any lengths as one segmented reduction (np.add.reduceat)."""

    def __init__(self, s: int, e: int, operands: list[list[int]], wanted: Any) -> None:
        self.op, self.s, self.e = 'sum', s, e
        self.counts = np.array([len(o) for o in operands], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1])).astype(np.intp)
        flat = [i for o in operands for i in o]
        self.idx = _operand(flat)
        self.target = _Target(flat, wanted)

    def forward(self, v: Any, saved: list) -> None:
        x = v[self.idx]
        v[self.s : self.e] = np.add.reduceat(x, self.starts) if self.e - self.s > 1 else x.sum()
        saved.append(None)

    def backward(self, g: Any, d: Any) -> None:
        if self.target.needed:
            up = g[self.s : self.e]
            self.target.add(g, np.repeat(up, self.counts))


class _Dot:
    """Dot products of any lengths: gathered products and a segmented reduction."""

    def __init__(self, s: int, e: int, ws: list[list[int]], xs: list[list[int]], wanted: Any):
        self.op, self.s, self.e = 'dot', s, e
        self.counts = np.array([len(w) for w in ws], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1])).astype(np.intp)
        wf = [i for w in ws for i in w]
        xf = [i for x in xs for i in x]
        self.w, self.x = _operand(wf), _operand(xf)
        self.tw, self.tx = _Target(wf, wanted), _Target(xf, wanted)

    def forward(self, v: Any, saved: list) -> None:
        w, x = v[self.w], v[self.x]
        v[self.s : self.e] = np.add.reduceat(w * x, self.starts)
        saved.append((w, x))

    def backward(self, g: Any, d: Any) -> None:
        w, x = d
        up = np.repeat(g[self.s : self.e], self.counts)
        if self.tw.needed:
            self.tw.add(g, x * up)
        if self.tx.needed:
            self.tx.add(g, w * up)


class _MatrixDot:
    """Dot products w_r . x_c for every pair of R weight rows and C input rows (a layer's
    neurons over a batch): one matrix product X @ W.T, laid out row by row."""

    def __init__(self, s: int, e: int, w_rows: Any, x_rows: Any, wanted: Any) -> None:
        self.op, self.s, self.e = 'dot', s, e
        self.W, self.X = w_rows, x_rows  # (R, k) and (C, k) slot indices
        self.shape = (x_rows.shape[0], w_rows.shape[0])
        self.tw, self.tx = _Target(w_rows, wanted), _Target(x_rows, wanted)

    def forward(self, v: Any, saved: list) -> None:
        W, X = v[self.W], v[self.X]
        v[self.s : self.e] = (X @ W.T).ravel()
        saved.append((W, X))

    def backward(self, g: Any, d: Any) -> None:
        W, X = d
        up = g[self.s : self.e].reshape(self.shape)
        if self.tw.needed:
            self.tw.add(g, up.T @ X)
        if self.tx.needed:
            self.tx.add(g, up @ W)


# -----------------------------------------------------------------------------
# Tracing: run fn once with the hook on, then turn the recorded graph into groups.
# -----------------------------------------------------------------------------

_KNOWN = set(_UNARY_RULES) | set(_BINARY_RULES) | {'sum', 'dot'}
_CUSTOM = 'custom'  # the operands of a node whose op this module cannot replay


def _record(fn: Callable, call_args: list) -> tuple[list, Any]:
    """Call fn with the tracing hook on: (node, op, operands) per node made, and fn's result."""
    recorded: list = []

    def tracer(node: Value, operands: Any) -> None:
        recorded.append((node, node.op, _normalized(node.op, operands)))

    with tracing.trace(tracer):  # this thread only; records even under no_grad()
        out = fn(*call_args)
    return recorded, out


def _normalized(op: str, operands: Any) -> Any:
    """The operands as the replay wants them (constants as floats), copied now: the
    lists handed to sum() and dot() are the caller's and may change later."""

    def item(x: Any) -> Any:
        return x if type(x) is Value else engine._to_float(x)

    if op in _UNARY_RULES and len(operands) == 1 and type(operands[0]) is Value:
        return [operands[0]]
    if op in _BINARY_RULES and len(operands) == 2 and type(operands) is tuple:
        return [item(operands[0]), item(operands[1])]
    if op == 'sum' and type(operands) is list:
        return [item(x) for x in operands] or [0.0]
    if op == 'dot' and len(operands) == 2 and type(operands[0]) is list:
        ws, xs = operands
        if not ws:
            return [0.0], [0.0]
        return [item(w) for w in ws], [item(x) for x in xs]
    return _CUSTOM


def _needed(recorded: list, out: Value) -> list:
    """The recorded nodes that out depends on, in the order they were made (topological)."""
    made = {id(r[0]): r for r in recorded}
    needed = {id(out)}
    stack = [out] if id(out) in made else []
    while stack:
        node, op, operands = made[id(stack.pop())]
        _check_rule(node, op, operands, only_known=True)
        for v in _values_in(op, operands):
            if id(v) in made and id(v) not in needed:
                needed.add(id(v))
                stack.append(v)
    return [r for r in recorded if id(r[0]) in needed]


def _values_in(op: str, operands: Any) -> list:
    """The Value operands of a recorded node (for dot: the ws, then the xs)."""
    items = operands[0] + operands[1] if op == 'dot' else operands
    return [x for x in items if type(x) is Value]


def _require_leaf(v: Value, what: str) -> None:
    if v._edges:
        raise ValueError(
            f"compile: fn uses {what}, {names.name_of(v)} (an '{v.op}' node made outside fn); "
            "a replay could not pass gradients on through it. Make it inside fn, or pass "
            "a leaf Value (or its .data as a number)"
        )


def _check_rule(node: Value, op: str, operands: Any, only_known: bool = False) -> None:
    """Raise unless node is what the engine's rule for op makes of its operands: a
    Value.from_op (a custom op) cannot be replayed, even under a built-in name."""
    if operands is _CUSTOM or op not in _KNOWN:
        raise ValueError(
            f"compile: fn uses the op {op!r} on {names.name_of(node)}, made with "
            "Value.from_op: a custom op cannot be replayed. Run fn eagerly"
        )
    if only_known:
        return

    def data(x: Any) -> float:
        return x.data if type(x) is Value else x

    try:
        if op in _UNARY_RULES:
            out, d = _SCALAR_RULES[op](data(operands[0]))
            edges: tuple = (operands[0], d)
        elif op in _BINARY_RULES:
            x, y = operands
            out, da, db = _SCALAR_RULES[op](data(x), data(y))
            edges = (x, da) * (type(x) is Value) + (y, db) * (type(y) is Value)
        elif op == 'sum':
            out = math.fsum(map(data, operands))
            edges = tuple(e for x in operands if type(x) is Value for e in (x, 1.0))
        else:
            ws, xs = operands
            out = math.fsum(data(w) * data(x) for w, x in zip(ws, xs))
            edges = tuple(
                e
                for w, x in zip(ws, xs)
                for e in (w, data(x)) * (type(w) is Value) + (x, data(w)) * (type(x) is Value)
            )
    except (ArithmeticError, ValueError):
        out, edges = math.nan, ()
    same = len(edges) == len(node._edges) and all(
        (a is b) if type(a) is Value else _same_float(a, b) for a, b in zip(edges, node._edges)
    )
    tol = 1e-12 * max(1.0, abs(out)) if op in ('sum', 'dot') else 0.0
    if not same or not (_same_float(out, node.data) or abs(out - node.data) <= tol):
        raise ValueError(
            f"compile: {names.name_of(node)} says op {op!r} but is not what {op!r} makes "
            "of its operands (a Value.from_op under a built-in name?); it cannot be replayed"
        )


def _same_float(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


class _Program:
    """A traced graph as flat arrays, and its vectorised forward and backward.

    Slots: constants, then inputs (the numbers of the arguments), then Value arguments,
    then the other Values fn read (parameters), then the nodes, group after group.
    """

    def __init__(self) -> None:
        self.n_slots = 0
        self.consts: Any = None
        self.inputs = slice(0, 0)
        self.args = slice(0, 0)
        self.params = slice(0, 0)
        self.param_values: list[Value] = []
        self.root = 0
        self.groups: list = []
        self.back: list[int] = []  # the groups backward visits (those that reach a leaf)
        self.ops: list[str] = []  # the ops of the nodes, in the order they were made
        self.guards = Guards()  # what the trace assumed about fn's globals and cells

    @classmethod
    def trace(cls, fn: Callable, args: tuple, flat: _Flat, static_argnums: frozenset) -> _Program:
        numbers = flat.numbers()
        placeholders = [Value(x) for x in numbers.tolist()]
        call_args = _rebuild(args, static_argnums, placeholders, flat.values)
        recorded, out = _record(fn, call_args)
        if type(out) is not Value:
            raise TypeError(f"compile: fn must return a Value (a scalar), got {type(out).__name__}")
        self = cls()
        self._build(recorded, out, placeholders, _unique(flat.values))
        return self

    def _build(self, recorded: list, out: Value, placeholders: list, arg_values: list) -> None:
        nodes = _needed(recorded, out)
        made = {id(r[0]) for r in recorded}
        for node, op, operands in nodes:
            _check_rule(node, op, operands)
        self.ops = [op for _, op, _ in nodes]

        # Leaf slots, after the constants: inputs, Value arguments, parameters.
        leaves: dict[int, int] = {}
        order: list[Value] = []
        for v in placeholders:
            leaves[id(v)] = len(order)
            order.append(v)
        for v in arg_values:
            _require_leaf(v, 'an argument')
            leaves[id(v)] = len(order)
            order.append(v)
        params: list[Value] = []
        for _, op, operands in nodes:
            for v in _values_in(op, operands):
                if id(v) not in leaves and id(v) not in made:
                    _require_leaf(v, 'a Value it did not make')
                    leaves[id(v)] = len(order)
                    order.append(v)
                    params.append(v)
        if id(out) not in made and id(out) not in leaves:  # fn returned a Value it was given
            _require_leaf(out, 'a Value it did not make')
            leaves[id(out)] = len(order)
            order.append(out)
            params.append(out)
        consts: dict[tuple, int] = {}
        for _, op, operands in nodes:
            for c in (operands[0] + operands[1]) if op == 'dot' else operands:
                if type(c) is not Value:
                    consts.setdefault(_const_key(c), len(consts))
        nc, ni, na = len(consts), len(placeholders), len(arg_values)
        self.consts = np.array([k[1] for k in consts], dtype=np.float64)
        self.inputs = slice(nc, nc + ni)
        self.args = slice(nc + ni, nc + ni + na)
        self.params = slice(nc + ni + na, nc + len(order))
        self.param_values = params
        slot_of = {k: nc + i for k, i in leaves.items()}

        def slot(x: Any) -> int:
            return slot_of[id(x)] if type(x) is Value else consts[_const_key(x)]

        # Group the nodes by level and op; place the groups level by level.
        level: dict[int, int] = {}
        groups: dict[tuple, list] = {}
        for rec in nodes:
            node, op, operands = rec
            lvl = 1 + max((level.get(id(v), 0) for v in _values_in(op, operands)), default=0)
            level[id(node)] = lvl
            kind = (op, len(operands[0])) if op == 'dot' else (op, 0)
            groups.setdefault((lvl, kind), []).append(rec)
        n_slots = nc + len(order) + len(nodes)
        wanted = np.zeros(n_slots, dtype=bool)  # does this slot need a gradient?
        wanted[self.args.start : self.params.stop] = True
        start = nc + len(order)
        built = []
        placed = sorted(groups.items(), key=lambda kv: kv[0][0])  # by level (stable)
        for (_, (op, _)), members in placed:
            group, members = _make_group(op, members, start, slot, wanted)
            for j, (node, _, operands) in enumerate(members):
                slot_of[id(node)] = start + j
                wanted[start + j] = any(wanted[slot(v)] for v in _values_in(op, operands))
            start += len(members)
            built.append(group)
        self.n_slots = n_slots
        self.groups = built
        self.back = [i for i, gr in enumerate(built) if wanted[gr.s : gr.e].any()][::-1]
        self.root = slot(out)

    # -- running --------------------------------------------------------------

    def forward(self, numbers: Any, arg_values: list) -> tuple:
        v = np.empty(self.n_slots)
        nc = self.consts.size
        v[:nc] = self.consts
        v[self.inputs] = numbers
        if arg_values:
            v[self.args] = [a.data for a in _unique(arg_values)]
        v[self.params] = [p.data for p in self.param_values]
        saved: list = []
        for group in self.groups:
            group.forward(v, saved)
        return v, saved

    def run(self, flat: _Flat) -> CompiledValue:
        v, saved = self.forward(flat.numbers(), flat.values)
        if engine._hooks and not switches.is_grad_enabled():  # as eager under no_grad()
            return CompiledValue(float(v[self.root]), self, None)
        return CompiledValue(float(v[self.root]), self, (saved, flat.values))

    def backward(self, run: tuple, grad: float) -> None:
        saved, arg_values = run
        g = np.zeros(self.n_slots)
        g[self.root] = grad
        groups = self.groups
        for i in self.back:
            groups[i].backward(g, saved[i])
        if arg_values:
            for a, x in zip(_unique(arg_values), g[self.args].tolist()):
                a.grad += x
        for p, x in zip(self.param_values, g[self.params].tolist()):
            p.grad += x


def _const_key(c: float) -> tuple:
    # 0.0 and -0.0 are different constants; NaN is one constant
    return ('nan', math.nan) if c != c else (math.copysign(1.0, c), c)


def _make_group(op: str, members: list, start: int, slot: Callable, wanted: Any) -> tuple:
    """The group object for members (nodes of one level and op) placed from slot start,
    and the members in the order the group lays them out."""
    if len(members) == 1 and op in _SCALAR_RULES:
        r = members[0]
        return _Scalar(op, start, [slot(x) for x in r[2]], wanted), members
    if op in _UNARY_RULES:
        members = sorted(members, key=lambda r: slot(r[2][0]))  # operands often consecutive
        a = [slot(r[2][0]) for r in members]
        return _Unary(op, start, start + len(members), a, wanted), members
    if op in _BINARY_RULES:
        members = sorted(members, key=lambda r: (slot(r[2][0]), slot(r[2][1])))
        a = [slot(r[2][0]) for r in members]
        b = [slot(r[2][1]) for r in members]
        return _Binary(op, start, start + len(members), a, b, wanted), members
    if op == 'sum':
        operands = [[slot(x) for x in r[2]] for r in members]
        return _Sum(start, start + len(members), operands, wanted), members
    ws = np.array([[slot(w) for w in r[2][0]] for r in members], dtype=np.intp)
    xs = np.array([[slot(x) for x in r[2][1]] for r in members], dtype=np.intp)
    matrix = _as_matrix(ws, xs)
    if matrix is not None:
        w_rows, x_rows, layout = matrix
        members = [members[j] for j in layout]
        return _MatrixDot(start, start + len(members), w_rows, x_rows, wanted), members
    return _Dot(start, start + len(members), ws.tolist(), xs.tolist(), wanted), members


def _as_matrix(ws: Any, xs: Any) -> Any:
    """If the dot products are every pair of R distinct weight rows and C distinct input
    rows (a layer's neurons over a batch), (W rows, X rows, member order), else None."""
    n = ws.shape[0]
    if n < 2:
        return (ws, xs, [0]) if n == 1 else None
    w_rows, wi = np.unique(ws, axis=0, return_inverse=True)
    x_rows, xi = np.unique(xs, axis=0, return_inverse=True)
    wi, xi = wi.ravel(), xi.ravel()
    r, c = w_rows.shape[0], x_rows.shape[0]
    if r * c != n or np.unique(xi * r + wi).size != n:
        return None
    layout = np.argsort(xi * r + wi, kind='stable')  # row by row: input c, neuron r
    return w_rows, x_rows, layout.tolist()


# -----------------------------------------------------------------------------
# check=True: run fn eagerly beside the replay and compare.
# -----------------------------------------------------------------------------


def _close(a: float, b: float, scale: float = 0.0) -> bool:
    if a == b or (a != a and b != b):
        return True
    return abs(a - b) <= 1e-9 * (max(abs(a), abs(b)) + scale) + 1e-12


def _check_forward(
    cf: CompiledFunction, program: _Program, args: tuple, flat: _Flat, result: CompiledValue
) -> None:
    numbers = flat.numbers()
    placeholders = [Value(x) for x in numbers.tolist()]
    call_args = _rebuild(args, cf.static_argnums, placeholders, flat.values)
    recorded, out = _record(cf.fn, call_args)
    if type(out) is not Value:
        raise TraceMismatchError(
            f"compile(check=True): fn returned a {type(out).__name__} this time, not a Value"
        )
    _check_parameters(program, recorded, out, placeholders, flat.values)
    ops = [op for _, op, _ in _needed(recorded, out)]
    if ops != program.ops:
        i = next((i for i, (a, b) in enumerate(zip(ops, program.ops)) if a != b), None)
        where = (
            f"node {i} is '{ops[i]}' now but was '{program.ops[i]}' when traced"
            if i is not None
            else f"fn made {len(ops)} nodes now but {len(program.ops)} when traced"
        )
        raise TraceMismatchError(
            f"compile(check=True): this call builds a different graph than the trace: {where}. "
            f"{_CONTROL_FLOW}"
        )
    if not _close(result.data, out.data):
        raise TraceMismatchError(
            f"compile(check=True): the replay gives {_fmt(result.data)} but fn run eagerly "
            f"gives {_fmt(out.data)}. {_CONTROL_FLOW}"
        )
    if result._run is not None:  # (under no_grad() there is nothing to backward)
        result._check = (out, flat.values, program)


def _check_parameters(
    program: _Program, recorded: list, out: Value, placeholders: list, arg_values: list
) -> None:
    """check=True: the leaf Values fn reads now must be the ones the trace recorded (a
    Value replaced where the guards do not look is otherwise replayed silently)."""
    made = {id(r[0]) for r in recorded}
    seen = {id(v) for v in placeholders} | {id(v) for v in arg_values}
    now: list[Value] = []
    for _, op, operands in _needed(recorded, out):
        for v in _values_in(op, operands):
            if id(v) not in seen and id(v) not in made:
                seen.add(id(v))
                now.append(v)
    if id(out) not in made and id(out) not in seen:
        now.append(out)
    then = program.param_values
    if len(now) == len(then) and all(map(operator.is_, now, then)):
        return
    i = next((i for i, (a, b) in enumerate(zip(now, then)) if a is not b), min(len(now), len(then)))
    if i < len(now) and i < len(then):
        what = (
            f"parameter {i} of the trace is {names.name_of(then[i])} (data {_fmt(then[i].data)}) "
            f"but fn now reads {names.name_of(now[i])} (data {_fmt(now[i].data)}) there"
        )
    else:
        what = f"fn now reads {len(now)} parameter Values, the trace recorded {len(then)}"
    raise TraceMismatchError(
        "compile(check=True): a parameter that the trace recorded is no longer the one fn "
        f"uses: {what}. A Value was replaced (or added) where the guards do not look (an "
        "attribute of an object that is not a Module, a module's global, a container past "
        "GUARD_BUDGET); the replay would use the old one. Call reset() on the compiled "
        "function after such a change, or pass the Values as arguments."
    )


_CONTROL_FLOW = (
    "Does fn's Python control flow depend on data (if x.data > 0, max over Values, a "
    "number computed from .data)? A trace freezes it; run such a fn eagerly."
)


def _check_backward(result: CompiledValue, grad: float) -> None:
    """backward() under check=True: eager and replayed gradients must agree."""
    out, arg_values, program = result._check
    leaves = _unique(list(arg_values) + list(program.param_values))
    before = [v.grad for v in leaves]
    out.backward(grad)
    eager = [v.grad - b for v, b in zip(leaves, before)]
    for v, b in zip(leaves, before):
        v.grad = b
    result.grad = grad
    if result._run is not None:
        program.backward(result._run, grad)
    replay = [v.grad - b for v, b in zip(leaves, before)]
    scale = max((abs(x) for x in eager if math.isfinite(x)), default=0.0)
    for v, e, r in zip(leaves, eager, replay):
        if not _close(e, r, scale):
            raise TraceMismatchError(
                f"compile(check=True): the gradient of {names.name_of(v)} is {_fmt(r)} by the "
                f"replay but {_fmt(e)} by eager backward. {_CONTROL_FLOW}"
            )
