"""Arguments: numbers and Values are fed on each call; the rest is static.

``Flat`` takes a call's arguments apart into a hashable structure key (which trace fits),
the numbers (one float64 array) and the Value arguments. ``rebuild`` puts placeholders
back in their places for the tracing call, walking in the same order.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from microgrid import _numbers
from microgrid.engine import Value

__all__ = ['Flat', 'Memo', 'rebuild', 'unique']


def _is_number(x: Any) -> bool:
    """A real number other than a bool (bools, like strings, are static arguments)."""
    if isinstance(x, bool) or type(x) is Value:
        return False
    return isinstance(x, (int, float)) or (
        not isinstance(x, (str, bytes)) and _numbers.number(x) is not None
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


class Memo:
    """The last list of numbers converted to an array, and a copy of its rows: passed
    again unchanged (the data of a training loop, call after call), it is not converted
    again. Equal is checked each call, in C (lists compare their items by identity
    first), so a list changed in place is converted anew."""

    __slots__ = ('data', 'rows', 'block')

    def __init__(self) -> None:
        self.data: Any = None
        self.rows: Any = None
        self.block: Any = None

    def get(self, a: list) -> Any:
        """The array of a, if a is the list converted last and still holds the same."""
        if a is self.data and a == self.rows:
            return self.block
        return None

    def keep(self, a: list, block: Any) -> None:
        """Remember a's array when a holds floats and ints, or lists and tuples of them
        (nothing mutable that a copy of the rows would not see change)."""
        self.data = None
        if block is None or block.ndim > 2:
            return
        kinds = set(map(type, a))
        if kinds <= {list, tuple}:
            kinds = set(map(type, itertools.chain.from_iterable(a)))
        if not kinds <= {float, int}:
            return
        self.rows = [list(r) if type(r) is list else r for r in a]
        self.data, self.block = a, block


class Flat:
    """The arguments taken apart: a hashable structure key, the numbers and the Values.

    Walking order defines where each number and Value goes; rebuild() walks the same way.
    """

    __slots__ = ('key', 'blocks', 'n_numbers', 'values', 'memo')

    def __init__(self, args: tuple, static_argnums: frozenset, memo: Any = None) -> None:
        key: list = []
        self.memo = memo  # a Memo: the last list of numbers converted, for the next call
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
            memo = self.memo
            if memo is not None and t is list:
                block = memo.get(a)
                if block is None:
                    block = _numeric_block(a)
                    memo.keep(a, block)
            else:
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
            self.blocks.append(_numbers.to_float(a))
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


def rebuild(args: tuple, static_argnums: frozenset, placeholders: list, values: list) -> list:
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


def unique(values: list[Value]) -> list[Value]:
    """values without repeats (by identity), in order of first appearance."""
    if len(values) < 2:
        return values
    return list({id(v): v for v in values}.values())
