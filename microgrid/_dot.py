"""dot()'s machinery, beside the engine: its edges built fast, with the record of which
operands were numbers that ``backward(create_graph=True)`` reads.

The engine passes its ``Value`` class in, so this module imports nothing of microgrid.
Only the standard library is used, as by the engine.
"""

from __future__ import annotations

from typing import Any

__all__ = ['edges', 'record']


def edges(
    ws: list, wd: list, xs: list, xd: list, w_constants: int, x_constants: int, value: type
) -> tuple[tuple, dict | None]:
    """The dot node's edges, and its record (below; None where the edges say it all).

    The edges: (w_i, x_i.data, x_i, w_i.data) for each i, constants left out. Plain version:
    add (w_i, xd_i) if w_i is a Value, then (x_i, wd_i) if x_i is. Here slices interleave
    the lists in C, and the constants are sought from the end (a bias's 1.0 is last)."""
    n = len(ws)
    if x_constants == n and not w_constants:  # weights times a row of data: no record
        out: list = [None] * (2 * n)
        out[0::2], out[1::2] = ws, xd
        return tuple(out), None
    if x_constants == 1 and not w_constants and not isinstance(xs[-1], value):  # a neuron
        out = [None] * (4 * n - 2)  # ... then (b, 1.0): the bias input 1.0 gets no edge
        out[0::4], out[1::4], out[2::4], out[3::4] = ws, xd, xs[:-1], wd[:-1]
        return tuple(out), _BIAS
    out = [None] * (4 * n)
    out[0::4], out[1::4], out[2::4], out[3::4] = ws, xd, xs, wd
    left, i = w_constants + x_constants, n
    while left:
        i -= 1
        for j, v in ((2, xs[i]), (0, ws[i])):  # x_i's edge, then w_i's
            if not isinstance(v, value):
                del out[4 * i + j : 4 * i + j + 2]
                left -= 1
    if not out:  # numbers only: a leaf
        return (), None
    return tuple(out), record(ws, xs, w_constants, x_constants, value)


class _Shared(dict):
    """A record that many nodes share: read-only (a node's ``_meta`` is replaced, never
    changed in place); a copy or a pickle of it is a plain dict."""

    def _refuse(self, *args: Any) -> Any:
        raise TypeError("a shared node record: replace _meta, never change it in place")

    __setitem__ = __delitem__ = __ior__ = setdefault = update = _refuse  # type: ignore[assignment]
    pop = popitem = clear = _refuse

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


# The record lists the slots of the operands that were numbers, counted from the end
# (x_n-1 is -1, w_n-1 is -2, x_n-2 is -3, ...). Values times Values, and a neuron's Values
# times (Values, 1.0), share one record each, so they allocate nothing.
_ALL_VALUES = _Shared(dot=())
_BIAS = _Shared(dot=(-1,))


def record(ws: list, xs: list, w_constants: int, x_constants: int, value: type) -> dict:
    """{'dot': slots of the number operands}, for a dot node that has Values on both sides
    (edges() gives a neuron's, _BIAS, itself)."""
    if not w_constants and not x_constants:
        return _ALL_VALUES
    n = len(ws)
    numbers = []
    for i in range(n):
        if not isinstance(ws[i], value):
            numbers.append(2 * (i - n))
        if not isinstance(xs[i], value):
            numbers.append(2 * (i - n) + 1)
    return {'dot': tuple(numbers)}
