"""The least a recording engine does in Python: the demo step with its graph recorded.

The floors in floor.py compute the demo step with no graph at all. A scalar engine must
also record, for every op, an object holding its number, its gradient and its edges (each
parent with the local derivative), and it must walk those records backwards. This engine
does that and nothing more:

- a node has three slots (data, grad, edges), made without __init__, inline in the loop;
- the edges are one flat tuple (p0, d0, p1, d1, ...), as microgrid's are;
- the order of backward is the order the nodes were made, reversed (a tape): no search
  of the graph, where microgrid finds the order from the root as the lesson teaches;
- no op names, labels, hooks, checks of the inputs or constants, and only this network.

So its ratio to a floor is about what recording costs on its own, and microgrid's ratio to
it is what the engine adds on top (the order, the ops' names, the checks). floor.py times
it beside the floors; its losses must agree with theirs.
"""

from __future__ import annotations

from operator import mul

import workloads


class Node:
    """One recorded number: data, grad, and edges (p0, d0, p1, d1, ...)."""

    __slots__ = ('data', 'grad', 'edges')


_new = object.__new__


def _leaf(x: float) -> Node:
    node = _new(Node)
    node.data, node.grad, node.edges = x, 0.0, ()
    return node


def make_bare(xs, ys, layers) -> workloads.Step:
    """The demo step on the bare engine: forward recorded on a tape, backward along it."""
    # per layer, per unit: its weights then its bias, as leaves
    params = [[[*map(_leaf, row), _leaf(bj)] for row, bj in zip(w, b)] for w, b in layers]
    flat = [p for layer in params for unit in layer for p in unit]
    n, alpha, last = len(xs), workloads.ALPHA, len(params) - 1

    def step(k: int) -> float:
        tape: list[Node] = []
        record = tape.append
        terms = []  # relu(1 - y * score) for each point
        for x, y in zip(xs, ys):
            inputs, numbers = None, [*x, 1.0]  # a layer's input nodes (None: data), numbers
            for i, layer in enumerate(params):
                if inputs is not None:  # the inputs' half of every unit's edges, laid once
                    template: list = [None] * (4 * len(inputs) + 2)
                    template[2:-2:4], template[1::4] = inputs, numbers
                outputs, out_numbers = [], []
                for unit in layer:
                    wd = [p.data for p in unit]
                    s = sum(map(mul, wd, numbers))
                    if inputs is None:  # numbers in: (w_i, x_i) for each i, then (b, 1.0)
                        edges: list = [None] * (2 * len(unit))
                        edges[0::2], edges[1::2] = unit, numbers
                    else:  # (w_i, x_i, x_i, w_i) for each i, then (b, 1.0)
                        edges = template[:]
                        edges[0::4] = unit
                        wd.pop()
                        edges[3::4] = wd
                    node = _new(Node)
                    node.data, node.grad, node.edges = s, 0.0, tuple(edges)
                    record(node)
                    if i != last:  # relu, a node of its own
                        act = _new(Node)
                        act.grad = 0.0
                        if s > 0.0:
                            act.data, act.edges = s, (node, 1.0)
                        else:
                            act.data, act.edges = 0.0, (node, 0.0)
                        record(act)
                        node = act
                    outputs.append(node)
                    out_numbers.append(node.data)
                inputs, numbers = outputs, [*out_numbers, 1.0]
            margin = _new(Node)
            margin.data, margin.grad, margin.edges = 1.0 - y * numbers[0], 0.0, (inputs[0], -y)
            record(margin)
            loss = _new(Node)
            loss.grad = 0.0
            if margin.data > 0.0:
                loss.data, loss.edges = margin.data, (margin, 1.0)
            else:
                loss.data, loss.edges = 0.0, (margin, 0.0)
            record(loss)
            terms.append(loss)
        # the total: mean of the terms + alpha * sum(p * p), one node
        edges = [1.0 / n] * (2 * n) + [None] * (2 * len(flat))
        edges[0 : 2 * n : 2] = terms
        edges[2 * n :: 2] = flat
        edges[2 * n + 1 :: 2] = [2.0 * alpha * p.data for p in flat]
        total = _new(Node)
        total.data = sum(t.data for t in terms) / n + alpha * sum(p.data * p.data for p in flat)
        total.grad, total.edges = 1.0, tuple(edges)
        for p in flat:
            p.grad = 0.0
        record(total)
        for node in reversed(tape):  # backward: the tape, last node first
            g = node.grad
            if not g:
                continue
            pairs = iter(node.edges)
            for parent, local in zip(pairs, pairs):
                parent.grad += local * g
        lr = workloads.learning_rate(k)
        for p in flat:
            p.data -= lr * p.grad
        return total.data

    return step
