"""The microgrid command line."""

from __future__ import annotations

import sys

from microgrid.engine import Value


def classic_neuron() -> Value:
    """o = tanh(x1*w1 + x2*w2 + b), the neuron every backprop lesson starts with."""
    x1, x2 = Value(2.0, 'x1'), Value(0.0, 'x2')
    w1, w2 = Value(-3.0, 'w1'), Value(1.0, 'w2')
    b = Value(6.8813735870195432, 'b')
    x1w1 = x1 * w1
    x1w1.label = 'x1*w1'
    x2w2 = x2 * w2
    x2w2.label = 'x2*w2'
    n = x1w1 + x2w2 + b
    n.label = 'n'
    o = n.tanh()
    o.label = 'o'
    return o


def main(argv: list[str] | None = None) -> int:
    """Print the classic neuron with every node's data and grad after backward."""
    o = classic_neuron()
    o.backward()
    from microgrid.engine import _topological_order

    seen: list[Value] = []
    for node in _topological_order(o):
        for p in node.parents:
            if p not in seen:
                seen.append(p)
        seen.append(node)
    print("o = tanh(x1*w1 + x2*w2 + b), after o.backward():")
    for v in dict.fromkeys(seen):
        print(f"  {v.label or v.op:>8}  data = {v.data: .4f}   grad = {v.grad: .4f}")
    sys.stdout.flush()
    return 0
