"""Switches that change what the engine does, per thread, as PyTorch's grad mode is.

- ``no_grad()`` / ``enable_grad()`` / ``set_grad_enabled(mode)``: whether ops record
  the graph. Outside every switch they do.
- ``detect_anomaly()``: a NaN or infinite result or gradient raises at its source.

Each switch belongs to the thread that entered it: a ``no_grad()`` in a background
thread leaves every other thread's gradients alone. Each is a context manager and a
decorator. Switches may be exited in any order: each exit removes exactly its own
setting, so once all have exited, the thread is back where it started.

How the engine sees them: through its one seam, ``engine.switch_hooks``. The engine
counts the threads that have any switch on; while the count is 0, making a node costs
one test, otherwise the engine calls this module's hooks, which read this thread's
state. A thread that ends with a switch still on is uncounted when it is gone.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from microgrid import engine
from microgrid.autograd import anomaly

F = TypeVar('F', bound=Callable[..., Any])

__all__ = ['detect_anomaly', 'enable_grad', 'is_anomaly_enabled', 'is_grad_enabled', 'no_grad',
           'set_grad_enabled']  # fmt: skip


class _Setting:
    """One on/off setting of one thread: a base value and the entries of open switches.
    The value in force is the newest entry's, or the base when none is open."""

    __slots__ = ('base', 'entries')

    def __init__(self, base: bool) -> None:
        self.base = base
        self.entries: list[list[bool]] = []

    @property
    def value(self) -> bool:
        return self.entries[-1][0] if self.entries else self.base


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.grad = _Setting(True)
        self.anomaly = _Setting(False)
        self.tracers: list[Callable[[engine.Value, Any], None]] = []
        self.watchers: list[Callable[[engine.Value, Any], None]] = []  # see tracing.watch_reads
        self.place = _Place()  # this thread's place in the engine's count


class _Place:
    """Whether one thread is counted in the engine's hook count. It lives in the thread's
    own state, so when the thread ends it is freed, and gives its count back."""

    __slots__ = ('counted',)

    def __init__(self) -> None:
        self.counted = False

    def set(self, on: bool) -> None:
        if on != self.counted:
            engine.switch_hooks(on, _on_create, _on_backward)
            self.counted = on

    def __del__(self) -> None:
        if self.counted:  # the thread ended with a switch on
            self.counted = False
            engine.switch_hooks(False)


_state = _ThreadState()


def _refresh(state: _ThreadState) -> None:
    """Count this thread in the engine's hooks exactly while one of its switches is on."""
    on = state.anomaly.value or bool(state.tracers) or bool(state.watchers)
    state.place.set(on or not state.grad.value)


class _Switch:
    """A context manager (and decorator) that sets one of this thread's settings."""

    _which = 'grad'

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._entry: list[bool] | None = None
        self._state: _ThreadState | None = None

    def _setting(self, state: _ThreadState) -> _Setting:
        return getattr(state, self._which)

    def __enter__(self) -> None:
        if self._entry is not None:
            raise RuntimeError(f"{type(self).__name__}() is already entered; make a new one")
        self._state, self._entry = _state, [self._mode]
        self._setting(_state).entries.append(self._entry)
        _refresh(_state)

    def __exit__(self, *exc: object) -> None:
        state, entry = self._state, self._entry
        if state is None or entry is None:
            return
        entries = self._setting(state).entries
        for i in range(len(entries) - 1, -1, -1):  # remove this switch's own entry only
            if entries[i] is entry:
                del entries[i]
                break
        self._state = self._entry = None
        _refresh(state)

    def _fresh(self) -> _Switch:
        return type(self)()  # type: ignore[call-arg]

    def __call__(self, fn: F) -> F:
        """Use as a decorator: fn runs inside a fresh switch on each call."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _PlainSwitch(_Switch):
    """A switch with no argument: ``with s():``, ``@s()`` or bare ``@s``, as in torch."""

    _mode_when_on = False

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        if fn is not None:  # bare decorator: return the wrapped function
            self.__init__()  # type: ignore[misc]
            return self(fn)
        return self

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(self._mode_when_on)


class no_grad(_PlainSwitch):
    """Inside, ops record no parents: results are plain leaves (for updates, evaluation).

    Per thread; a context manager or a decorator, as ``torch.no_grad``."""


class enable_grad(_PlainSwitch):
    """Inside, ops record the graph again, even within ``no_grad()``."""

    _mode_when_on = True


class set_grad_enabled(_Switch):
    """Turn graph recording on or off for this thread.

    As a plain call, ``set_grad_enabled(False)`` takes effect at once and lasts;
    as ``with set_grad_enabled(mode):`` it lasts until the block ends."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(mode): mode must be a bool, got {mode!r}")
        super().__init__(mode)
        # Take effect now, as torch does: on the open switch in force, or the base.
        setting = _state.grad
        self._target = setting.entries[-1] if setting.entries else None
        self._before = setting.value
        self._set_current(setting, mode)

    def _set_current(self, setting: _Setting, mode: bool) -> None:
        if self._target is not None:
            self._target[0] = mode
        else:
            setting.base = mode
        _refresh(_state)

    def __enter__(self) -> None:
        # Undo the immediate effect, then hold the mode as an entry of its own.
        self._set_current(_state.grad, self._before)
        super().__enter__()

    def _fresh(self) -> _Switch:
        return set_grad_enabled(self._mode)


class detect_anomaly(_PlainSwitch):
    """Inside, a NaN or infinite result or gradient raises FloatingPointError at its
    source, naming the op, its operands and the line that made it (per thread)."""

    _which, _mode_when_on = 'anomaly', True


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread now."""
    return _state.grad.value


def is_anomaly_enabled() -> bool:
    """Whether detect_anomaly() is on in this thread now."""
    return _state.anomaly.value


# -- the engine's hooks ----------------------------------------------------------------


def _on_create(node: engine.Value, operands: Any) -> None:
    state = _state
    if not state.place.counted:  # another thread has a switch on, this one has none
        return
    for watcher in state.watchers:  # every node, also under no_grad()
        watcher(node, operands)
    if state.anomaly.value:
        anomaly.check_forward(node, operands)
    if not state.grad.value:
        node._edges, node.op, node._meta = (), '', None
        return
    for tracer in state.tracers:
        tracer(node, operands)


def _on_backward(order: list[engine.Value]) -> bool:
    if _state.anomaly.value:
        anomaly.checked_backward(order)
        return True
    return False
