"""Names and numbers for display: a node's label, or a short automatic name (v1, v2,
...) that it keeps once shown; and numbers written as a learner wants to read them."""

from __future__ import annotations

import itertools

from microgrid.engine import Value

__all__ = ['name_of']

_next_number = itertools.count(1)  # thread-safe: next() on a count is atomic


def name_of(v: Value) -> str:
    """The label of v, or its automatic name such as 'v3'."""
    if v.label:
        return v.label
    meta = v._meta
    if meta is None or 'name' not in meta:
        meta = v._meta = {**(meta or {}), 'name': f"v{next(_next_number)}"}
    return meta['name']


def _fmt(x: float) -> str:
    """A number as a learner wants to read it: short, but exact when it is short."""
    r = repr(x)
    return r if len(r) <= 10 else f"{x:.6g}"
