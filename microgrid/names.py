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
    """A number as every instrument prints it: microgrid.labels.fmt (kept for old imports)."""
    from microgrid.labels import fmt  # labels imports this module: import it when used

    return fmt(x)
