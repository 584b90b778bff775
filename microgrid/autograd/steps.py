"""Backward one chain-rule application at a time: ``Value.backward_steps()`` yields a
``Step`` per edge, each applying the very line that ``Value.propagate`` applies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from microgrid._numbers import to_float
from microgrid.engine import Value, topological_order
from microgrid.text import step_text

__all__ = ['Step', 'backward_steps']


def backward_steps(root: Value, grad: Any = 1.0) -> Iterator[Step]:
    """backward(), one chain-rule application at a time: a seed step, then one per edge."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad += to_float(grad)
    yield Step(root, None, 1.0, root.grad, root.grad, root.grad)
    for node in reversed(order):  # node.propagate(), one edge at a time
        edges = iter(node._edges)
        for parent, local in zip(edges, edges):
            contribution = local * node.grad
            parent.grad += contribution
            yield Step(node, parent, local, node.grad, contribution, parent.grad)


class Step:
    """One chain-rule application of backward_steps(): parent.grad += local_grad * upstream."""

    __slots__ = ('node', 'parent', 'local_grad', 'upstream', 'contribution', 'parent_grad')

    def __init__(self, node, parent, local_grad, upstream, contribution, parent_grad):
        self.node, self.parent, self.local_grad = node, parent, local_grad
        self.upstream, self.contribution, self.parent_grad = upstream, contribution, parent_grad

    @property
    def is_seed(self) -> bool:
        """True for the first step, which sets the root's gradient."""
        return self.parent is None

    def __str__(self) -> str:
        """``p.grad += dn/dp * n.grad = local * upstream = ...``; a composite label is
        wrapped, as in ``(x1*w1).grad`` (see microgrid.labels)."""
        return step_text(self)

    def __repr__(self) -> str:
        return f"<Step {self}>"
