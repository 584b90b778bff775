"""The tracing hook that ``microgrid.compile`` uses: while ``trace(callback)`` is
open, ``callback(node, operands)`` is called for every node made in this thread, and
only in this thread. Inside, ops record the graph even within ``no_grad()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from microgrid.autograd import modes as switches
from microgrid.engine import Value

__all__ = ['is_tracing', 'trace']


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
