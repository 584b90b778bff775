"""dot()'s machinery, beside the engine: its edges built fast, with the record of which
operands were numbers that ``backward(create_graph=True)`` reads; and how any node's
record (``_meta``) is changed: by replacing it, since nodes may share one.

The engine passes its ``Value`` class in, so this module imports nothing of microgrid.
Only the standard library is used, as by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ['layout', 'record', 'with_entry']


def layout(xs: list, xd: list, x_constants: int, value: type) -> Callable[..., tuple]:
    """How dots() lays out the edges of each row ws against the shared inputs xs: a
    function (ws, wd, w_constants) -> (edges, record), record None where the edges say it
    all (below). It may use up wd, the list of ws's numbers, which dots() no longer needs.

    The edges: (w_i, x_i.data, x_i, w_i.data) for each i, constants left out. Plain version:
    add (w_i, xd_i) if w_i is a Value, then (x_i, wd_i) if x_i is. Here slices interleave
    the lists in C. What depends on xs alone is worked out once, here, for all the rows:
    a template of the edges with the inputs' entries in place, which each row copies."""
    n = len(xs)
    if x_constants == n:  # weights times a row of data: (w_i, x_i) only, no record
        template: list = [None] * (2 * n)
        template[1::2] = xd

        def data_row(ws: list, wd: list, w_constants: int) -> tuple:
            if w_constants:
                return edges(ws, wd, xs, xd, w_constants, x_constants, value)
            out = template[:]
            out[0::2] = ws
            return tuple(out), None

        return data_row
    if x_constants == 1 and not isinstance(xs[-1], value):  # a neuron's: Values, then 1.0
        template = [None] * (4 * n - 2)  # the bias input 1.0 gets no edge: (b, 1.0) last
        template[1::4], template[2::4] = xd, xs[:-1]

        def neuron(ws: list, wd: list, w_constants: int) -> tuple:
            if w_constants:
                return edges(ws, wd, xs, xd, w_constants, x_constants, value)
            out = template[:]
            out[0::4] = ws
            wd.pop()  # b's number: the 1.0 it multiplies has no edge
            out[3::4] = wd
            return tuple(out), _BIAS

        return neuron
    return lambda ws, wd, w_constants: edges(ws, wd, xs, xd, w_constants, x_constants, value)


def edges(
    ws: list, wd: list, xs: list, xd: list, w_constants: int, x_constants: int, value: type
) -> tuple[tuple, dict | None]:
    """Any row's edges and record: the layout above, with the constants sought from the end
    and their edges deleted."""
    n = len(ws)
    out: list = [None] * (4 * n)
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
    (a neuron's is _BIAS)."""
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


def with_entry(meta: dict | None, key: str, value: Any) -> dict | None:
    """A node's ``_meta`` with key set to value (removed where value is None), as a new
    dict: a record may be shared between nodes (dot's), so it is replaced, never changed."""
    out = {k: v for k, v in (meta or {}).items() if k != key}
    if value is not None:
        out[key] = value
    return out or None
