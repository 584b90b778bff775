"""The tracing hooks that ``microgrid.compile`` uses, per thread.

- ``trace(callback)``: while open, ``callback(node, operands)`` is called for every node
  made in this thread, and only in this thread. Inside, ops record the graph even within
  ``no_grad()``.
- ``watch_reads(leaves)``: while open, the given leaves and every node this thread makes
  are ``Watched`` Values, which note each Python decision about their numbers (reading
  ``.data``, comparing, ``bool()``, formatting, ...). A replay of a trace is only exact if
  fn decided nothing on the numbers it traced; the notes tell. When the watch closes, the
  Values are plain Values again. Other threads' Values are never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from microgrid.autograd import modes as switches
from microgrid.engine import Value

__all__ = ['Watched', 'is_tracing', 'trace', 'watch_reads']


@contextmanager
def trace(callback: Callable[[Value, Any], None]) -> Iterator[None]:
    """Call callback(node, operands) for each node this thread makes inside."""
    state = switches._state
    state.tracers.append(callback)
    switches._refresh(state)
    try:
        with switches.enable_grad():
            yield
    finally:
        state.tracers.remove(callback)
        switches._refresh(state)


def is_tracing() -> bool:
    """Whether a trace is open in this thread."""
    return bool(switches._state.tracers)


# -- watching the reads -------------------------------------------------------------------

_local = threading.local()  # .open: this thread's open watches (lists of notes)
_all_open: list[list[str]] = []  # every thread's, for a read in a thread with none open
_lock = threading.Lock()


def _note(what: str) -> None:
    """A Python decision about a watched number: note it in this thread's open watches
    (in every open watch if this thread has none: a Value leaked to another thread)."""
    watches = getattr(_local, 'open', None) or list(_all_open)
    for notes in watches:
        notes.append(what)


def _noted(method: Callable, what: str) -> Callable:
    """method, noting what it reads first."""

    def noted(self: Value, *args: Any) -> Any:
        _note(what)
        return method(self, *args)

    return noted


class Watched(Value):
    """A Value inside ``watch_reads()``: the same number and graph; reading the number in
    Python is noted. It adds no slots, so ``__class__`` moves a Value in and out."""

    __slots__ = ()

    def _get_data(self) -> float:
        _note('.data')
        return self._data

    def _set_data(self, x: Any) -> None:
        _note('.data =')
        Value._set_data(self, x)

    data = property(_get_data, _set_data, doc=Value.data.__doc__)
    # (Comparisons: Python asks the subclass first, so `w > x` comes here as x.__lt__(w).)
    __lt__, __le__ = _noted(Value.__lt__, '<'), _noted(Value.__le__, '<=')
    __gt__, __ge__ = _noted(Value.__gt__, '>'), _noted(Value.__ge__, '>=')
    __hash__ = Value.__hash__

    def __bool__(self) -> bool:
        _note('bool()')
        return Value.__bool__(self)

    def __format__(self, spec: str) -> str:
        _note('format()')
        return Value.__format__(self, spec)

    def __repr__(self) -> str:
        _note('repr()')
        return Value.__repr__(self)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        _note('copy')
        return Value.__reduce_ex__(self, protocol)

    local_grads = property(_noted(lambda self: self._edges[1::2], 'local_grads'))

    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """backward() inside fn: the gradients it leaves are numbers fn may read."""
        _note('backward()')
        return Value.backward(self, grad, create_graph)


@contextmanager
def watch_reads(leaves: list[Value]) -> Iterator[list[str]]:
    """Watch the plain Values among leaves and every node this thread makes inside; yield
    the list of notes, one per Python decision about their numbers (or a node made under
    ``no_grad()``, a number taken out of the graph). On exit they are plain Values again."""
    notes: list[str] = []
    nodes = [v for v in leaves if type(v) is Value]

    def watcher(node: Value, operands: Any) -> None:
        if type(node) is Value:
            node.__class__ = Watched
            nodes.append(node)
        if not switches._state.grad.value:
            notes.append('a node made under no_grad()')

    state = switches._state
    opened = getattr(_local, 'open', None)
    if opened is None:
        opened = _local.open = []
    for v in nodes:
        v.__class__ = Watched
    opened.append(notes)
    with _lock:
        _all_open.append(notes)
    state.watchers.append(watcher)
    switches._refresh(state)
    try:
        yield notes
    finally:
        state.watchers.remove(watcher)
        switches._refresh(state)
        with _lock:
            _drop(_all_open, notes)
        _drop(opened, notes)
        for v in nodes:
            v.__class__ = Value


def _drop(watches: list[list[str]], notes: list[str]) -> None:
    """Remove this very list (list.remove would take any equal one)."""
    for i, w in enumerate(watches):
        if w is notes:
            del watches[i]
            return
