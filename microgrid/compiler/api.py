"""The API of microgrid.compile: compile(), the compiled function and its result.

How the replay works, what it promises and what the guards watch: docs/compile.md.
The machinery (arguments, program, kernels, rules, check) imports numpy, so it is loaded
on the first compile(), not with ``import microgrid``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from microgrid import _numbers, engine
from microgrid.autograd import modes as switches
from microgrid.autograd import tracing
from microgrid.compiler.guards import guards_for

if TYPE_CHECKING:
    from microgrid.compiler.arguments import Flat
    from microgrid.compiler.program import Program

__all__ = ['CompiledFunction', 'CompiledValue', 'TraceMismatchError', 'compile']

# arguments.Flat and Memo, program.Program and the check module, once loaded
_Flat: Any = None
_Memo: Any = None
_Program: Any = None
_checks: Any = None


def _load_machinery() -> None:
    """Import the modules that need numpy (heavy for ``import microgrid``), once."""
    global _Flat, _Memo, _Program, _checks
    if _checks is None:
        from microgrid.compiler import check
        from microgrid.compiler.arguments import Flat, Memo
        from microgrid.compiler.program import Program

        _Flat, _Memo, _Program, _checks = Flat, Memo, Program, check


class TraceMismatchError(RuntimeError):
    """A compiled replay differs from running the function eagerly (compile(check=True))."""


def compile(  # microgrid.compile, as torch.compile
    fn: Callable[..., Any], check: bool = False, static_argnums: Any = ()
) -> CompiledFunction:
    """Trace fn on its first call and replay it with numpy on later calls.

    The promise: a replay agrees with running fn eagerly to within a few ulps, not bit
    for bit. numpy adds the terms of sums and dot products in another order than the
    engine (pairwise, and in SIMD lanes whose width depends on the CPU: AVX-512 kernels
    give other last bits than AVX2), so compare a replay with eager with a tolerance
    (relative 1e-12 is ample), never with ``==``. Element-wise ops are the same IEEE
    operations either way.

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
        _load_machinery()
        self.fn = fn
        self.check = check
        self.static_argnums = frozenset(nums)
        self.traces = 0  # how many times fn was traced
        self._cache: dict = {}
        self._memo = _Memo()  # the data list of the last call, converted (arguments.Memo)
        # whose globals and closures the guards watch: fn, or (second_order) a weakref's
        # call giving the function that fn wraps
        self._guarded: Callable[[], Any] = lambda: fn
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
        flat = _Flat(args, self.static_argnums, self._memo)
        program = self._cache.get(flat.key)
        if program is None or not program.guards.hold():
            program = self._trace(args, flat)
        data, run = program.run(flat)
        result = CompiledValue(data, program, run)
        if self.check:
            message, out = _checks.forward_mismatch(
                self.fn, self.static_argnums, program, args, flat, data
            )
            if message is not None:
                raise TraceMismatchError(f"compile(check=True): {message}")
            if run is not None:  # (under no_grad() there is nothing to backward)
                result._check = (out, flat.values)
        return result

    def reset(self) -> None:
        """Forget every trace: the next call traces fn again (after replacing a Value
        somewhere the guards do not look; see docs/compile.md)."""
        self._cache.clear()

    def _trace(self, args: tuple, flat: Flat) -> Program:
        try:
            program = _Program.trace(self.fn, args, flat, self.static_argnums)
        except (TypeError, ValueError) as e:
            hint = _static_hint(self.fn, args, self.static_argnums)
            if hint is None:
                raise
            kind = type(e) if type(e) in (TypeError, ValueError) else TypeError
            raise kind(f"{e}. {hint}") from e
        program.guards = guards_for(self._guarded())
        self.traces += 1
        if len(self._cache) >= self.MAX_TRACES:
            del self._cache[next(iter(self._cache))]
        self._cache[flat.key] = program
        return program


def _static_hint(fn: Callable, args: tuple, static_argnums: frozenset) -> str | None:
    """When tracing failed: if fn works with the arguments as given (their numbers not
    turned into Values) and traces with one position made static, a hint naming that
    position; else None."""
    try:
        fn(*args)
    except Exception:
        return None  # fn fails eagerly too: the error is fn's own
    for i in range(len(args)):
        if i in static_argnums:
            continue
        nums = static_argnums | {i}
        try:
            _Program.trace(fn, args, _Flat(args, nums), nums)
        except Exception:
            continue
        return (
            f"compile traces the numbers in the arguments as Values (they are inputs), and "
            f"fn needs argument {i} as plain numbers (targets or labels that a loss checks): "
            f"compile(fn, static_argnums=({i},)) passes it unchanged"
        )
    return None  # no one position explains it: the error stands as it is


class CompiledValue:
    """The result of a compiled call: ``.data``, and ``.backward()`` for the leaves' grads."""

    __slots__ = ('data', 'grad', '_program', '_run', '_check')

    def __init__(self, data: float, program: Program, run: Any) -> None:
        self.data = data
        self.grad = 0.0
        self._program = program
        self._run = run  # this call's forward arrays (a later call does not disturb them)
        self._check: Any = None  # (eager result, Value arguments) when compile(check=True)

    def backward(self, grad: Any = 1.0) -> None:
        """Add d(this)/d(leaf) * grad to the .grad of each parameter and Value argument."""
        g = _numbers.to_float(grad)
        if self._check is not None:
            out, arg_values = self._check
            self.grad = g
            message = _checks.backward_mismatch(out, arg_values, self._program, self._run, g)
            if message is not None:
                raise TraceMismatchError(f"compile(check=True): {message}")
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
