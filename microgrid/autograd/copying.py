"""copy.deepcopy and pickle of Values, as PyTorch treats tensors: leaves only.

A leaf is saved as its data, grad, label and extras; its ``grad_value`` (left by
``backward(create_graph=True)``) comes back as a plain leaf holding the same number, since
its graph refers back to the leaf. A node made by an op is refused with a RuntimeError,
as PyTorch refuses non-leaf tensors: copying it would copy its whole graph. Copy
``Value(node.data)`` instead. No recursion is involved, so a leaf copies at any depth of
the graph it feeds, and a Module (whose parameters are leaves) copies whole.
"""

from __future__ import annotations

from typing import Any

from microgrid.engine import Value

__all__ = ['leaf', 'reduce_value']


def reduce_value(v: Value) -> tuple:
    """``Value.__reduce_ex__``: how to rebuild the leaf v, or a RuntimeError for a node."""
    if v._edges:
        raise RuntimeError(
            f"only leaf Values (made by Value(...), not by an op) can be copied or pickled, "
            f"as in PyTorch; this one was made by {v.op!r}. Copy Value(v.data) instead."
        )
    meta = dict(v._meta) if v._meta else None
    if meta and meta.get('grad_value') is not None:
        meta['grad_value'] = Value(meta['grad_value'].data)
    return leaf, (v.data, v.grad, v.label, meta)


def leaf(data: float, grad: float, label: str, meta: dict[str, Any] | None) -> Value:
    """A leaf back from copy or pickle."""
    v = Value(data, label)
    v.grad = grad
    v._meta = meta
    return v
