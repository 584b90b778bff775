"""micrograd's private names on a Value, for code written for micrograd and its lecture.

The lecture's helpers read ``_prev`` (a node's parents, as a set) and ``_op`` (its op,
spelled as micrograd spells it). ``Value`` takes them from ``MicrogradNames``, its base;
``_backward``, backprop by hand node by node, is ``Value.propagate`` under a second name.
Only the standard library is used, as by the engine.
"""

from __future__ import annotations

from typing import Any

__all__ = ['MicrogradNames']


class MicrogradNames:
    """The names micrograd's code reads: ``_prev`` and ``_op``."""

    __slots__ = ()
    _edges: tuple
    _meta: dict | None
    op: str

    @property
    def _prev(self) -> set[Any]:
        """micrograd's set of parents."""
        return set(self._edges[0::2])

    @property
    def _op(self) -> str:
        """micrograd's spelling of ``op``: '**2' for a constant power, 'ReLU' for relu."""
        k = self._meta.get('exponent') if self.op == '**' and self._meta else None
        return f"**{k:g}" if k is not None else 'ReLU' if self.op == 'relu' else self.op
