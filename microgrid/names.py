"""Names for display: a node's label, or a short automatic name (v1, v2, ...) that it
keeps once shown. Numbers are written by microgrid.labels.fmt."""

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
