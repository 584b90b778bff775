"""What the engine's speed rests on, pinned as values (never timings; see benchmarks/).

- Memory: a node keeps at most 200 bytes alive on a long chain.
- Depth: backward needs no recursion (deep chains at the default recursion limit).
- No reference cycles: a graph is freed by reference counting alone.
- backward() allocates no per-node objects that the cycle collector tracks.
- The faster topological sort and dot()/sum() give exactly what the plain
  definitions give: the same order, the same edges.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import sys
import tracemalloc
from fractions import Fraction

import pytest

import microgrid
from microgrid import engine
from microgrid.engine import Value, _topological_order

# -- memory per op ----------------------------------------------------------------------


def _bytes_per_op(c, n: int = 20_000) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        y = Value(1.0)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            y = y * c
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert y.data > 1.0  # the chain is alive while measured
    return (after - before) / n


@pytest.mark.parametrize('c', [Value(1.0001), 1.0001], ids=['c a Value', 'c a number'])
def test_a_chain_keeps_at_most_200_bytes_per_op(c) -> None:
    per_op = _bytes_per_op(c)
    print(f"{per_op:.0f} bytes per op")
    # node (slots) + edges tuple + result float; micrograd keeps about 1170
    assert 100 < per_op <= 200


# -- depth -------------------------------------------------------------------------------


def test_deep_chains_of_every_node_kind_at_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000  # nothing below raises it
    n = 100_000
    x, c = Value(0.5), Value(1.00001)
    y = x
    for i in range(n):
        k = i % 4
        if k == 0:
            y = y * c  # binary, both Values
        elif k == 1:
            y = microgrid.sum([y, 1.0, -1.0])  # n-ary with constants
        elif k == 2:
            y = microgrid.dot([y, c], [1.0, 0.0])  # dot with a constant side
        else:
            y = +(-(-y))  # unary, twice
    y.backward()
    m = n // 4  # y = x * c**m (sum and dot pass y through, the negations cancel)
    assert y.data == pytest.approx(0.5 * 1.00001**m, rel=1e-9)
    assert x.grad == pytest.approx(1.00001**m, rel=1e-9)
    # d/dc: the m products and the m dots (weight c times input 0.0: nothing)
    assert c.grad == pytest.approx(m * 0.5 * 1.00001 ** (m - 1), rel=1e-9)
    del y  # freeing a deep chain must not overflow the C stack either


def test_a_wide_and_deep_graph_frees_and_backwards() -> None:
    xs = [Value(float(i)) for i in range(100)]
    layer = xs
    for _ in range(300):
        layer = [microgrid.dot([a, b], [0.5, 0.5]) for a, b in zip(layer, layer[1:] + layer[:1])]
    out = microgrid.sum(layer)
    out.backward()
    # each layer averages neighbours: the total is conserved, every input counts once
    assert out.data == pytest.approx(sum(range(100)), rel=1e-12)
    assert all(x.grad == pytest.approx(1.0, rel=1e-12) for x in xs)


# -- garbage collector ----------------------------------------------------------------


def _mlp_graph():
    rng = random.Random(0)
    ws = [[Value(rng.uniform(-1, 1)) for _ in range(9)] for _ in range(8)]
    outs = []
    for _ in range(20):
        x = [rng.uniform(-1, 1) for _ in range(8)] + [1.0]
        h = [microgrid.dot(w, x).relu() for w in ws]
        outs.append(microgrid.dot(h, [1.0] * 8).tanh())
    return ws, microgrid.sum(outs) * 0.5


def test_graphs_hold_no_reference_cycles() -> None:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        ws, loss = _mlp_graph()
        loss.backward()
        del loss
        assert gc.collect() == 0  # nothing was left for the cycle collector to find
    finally:
        if enabled:
            gc.enable()


def test_backward_makes_no_lasting_tracked_objects() -> None:
    ws, loss = _mlp_graph()
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        # gc.collect() empties the tuple free lists; the first backward refills them
        loss.backward()
        pad = [[] for _ in range(100)]  # the count stops at 0: keep it above for frees
        before = gc.get_count()[0]
        loss.backward()
        made = gc.get_count()[0] - before
        del pad
    finally:
        if enabled:
            gc.enable()
    nodes = len(_topological_order(loss))
    assert nodes > 300
    # a few lists and sets for the whole pass, nothing per node: no collections triggered
    assert made < 5, made


# -- the fast paths give what the definitions give -------------------------------------


def _reference_order(root: Value) -> list[Value]:
    """The definition: interior nodes after their parents, parents taken in order."""
    order: list[Value] = []
    visited: set[int] = set()

    def visit(v: Value) -> None:
        if not v._edges or id(v) in visited:
            return
        visited.add(id(v))
        for p in v.parents:
            visit(p)
        order.append(v)

    visit(root)
    return order


def _random_graph(rng: random.Random) -> Value:
    nodes = [Value(rng.uniform(-2, 2)) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(1, 25)):
        a, b = rng.choice(nodes), rng.choice(nodes)
        k = rng.randrange(5)
        if k == 0:
            v = a * b
        elif k == 1:
            v = (a + 2.0).relu()
        elif k == 2:
            v = microgrid.sum(rng.choices(nodes, k=rng.randint(0, 4)) + [1.0])
        elif k == 3:
            n = rng.randint(0, 4)
            v = microgrid.dot(rng.choices(nodes + [0.5], k=n), rng.choices(nodes + [2.0], k=n))
        else:
            v = a - a
        nodes.append(v)
    return nodes[-1]


def test_topological_order_is_the_definitions() -> None:
    rng = random.Random(7)
    for _ in range(300):
        root = _random_graph(rng)
        assert _topological_order(root) == _reference_order(root)


def test_backward_steps_follow_the_order() -> None:
    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    c = a * b
    d = microgrid.dot([c, a], [b, 1.0])
    steps = [s for s in d.backward_steps() if not s.is_seed]
    assert [(s.node, s.parent) for s in steps] == [(d, c), (d, b), (d, a), (c, a), (c, b)]


def _reference_dot_edges(ws, xs) -> tuple:
    edges: list = []
    for w, x in zip(ws, xs):
        wd = w.data if type(w) is Value else float(w)
        xd = x.data if type(x) is Value else float(x)
        if type(w) is Value:
            edges += (w, xd)
        if type(x) is Value:
            edges += (x, wd)
    return tuple(edges)


def _same_edges(got: tuple, want: tuple) -> bool:
    return len(got) == len(want) and all(
        (g is w) if type(w) is Value else (type(g) is float and g == w) for g, w in zip(got, want)
    )


def test_dot_edges_for_every_mix_of_values_and_numbers() -> None:
    kinds = [lambda: Value(1.5), lambda: 2.0, lambda: 3, lambda: Fraction(1, 4)]
    for n in range(4):
        for pattern in itertools.product(range(len(kinds)), repeat=2 * n):
            ws = [kinds[k]() for k in pattern[:n]]
            xs = [kinds[k]() for k in pattern[n:]]
            d = microgrid.dot(ws, xs)
            assert _same_edges(d._edges, _reference_dot_edges(ws, xs)), (ws, xs)
            want = math.fsum(float(a.data if type(a) is Value else a) * float(
                b.data if type(b) is Value else b) for a, b in zip(ws, xs))  # fmt: skip
            assert type(d.data) is float and d.data == pytest.approx(want, rel=1e-15)


def test_dot_and_sum_take_any_iterable_and_leave_lists_alone() -> None:
    ws = [Value(1.0), Value(2.0)]
    xs = [3.0, Value(4.0)]
    saved = (list(ws), list(xs))
    d1 = microgrid.dot(ws, xs)
    d2 = microgrid.dot(iter(ws), tuple(xs))
    d3 = microgrid.dot((w for w in ws), (x for x in xs))
    assert d1.data == d2.data == d3.data == 11.0
    assert _same_edges(d2._edges, d1._edges) and _same_edges(d3._edges, d1._edges)
    assert (ws, xs) == saved
    s = microgrid.sum(x for x in xs)
    assert s.data == 7.0 and s.parents == (xs[1],) and xs == saved[1]


def test_empty_and_constant_only_sums_and_dots_are_float_leaves() -> None:
    for v in (
        microgrid.sum([]),
        microgrid.dot([], []),
        microgrid.sum([1, 2]),
        microgrid.dot([2], [3]),
    ):
        assert type(v.data) is float and v.parents == ()
    assert microgrid.sum([1, 2]).data == 3.0 and microgrid.dot([2], [3]).data == 6.0


def test_dot_and_sum_still_name_bad_operands() -> None:
    with pytest.raises(TypeError, match='dot.*str'):
        microgrid.dot([Value(1.0)], ['x'])
    with pytest.raises(TypeError, match='dot.*NoneType'):
        microgrid.dot([None], [Value(1.0)])
    with pytest.raises(TypeError, match='sum.*complex'):
        microgrid.sum([Value(1.0), 1j])


def test_dots_rows_against_one_layout_match_dot_row_by_row() -> None:
    """dots() works out each layout of the shared inputs once (_dot.layout): rows of data,
    a neuron's Values then 1.0, and any mix. A row with numbers among its weights must
    still get dot()'s own edges and record."""
    rng = random.Random(3)
    kinds = [lambda: Value(rng.uniform(-1, 1)), lambda: rng.uniform(-1, 1), lambda: 2]
    inputs = {
        'data': [0.5, -1.5, 2.0],
        'neuron': [Value(0.5), Value(-1.5), 1.0],
        'values': [Value(0.5), Value(-1.5), Value(2.0)],
        'mixed': [0.5, Value(-1.5), 1.0],
    }
    for name, xs in inputs.items():
        rows = [[kinds[k]() for k in pattern] for pattern in itertools.product(range(3), repeat=3)]
        got = engine.dots(rows, xs)
        for row, node in zip(rows, got):
            want = microgrid.dot(row, xs)
            assert _same_edges(node._edges, _reference_dot_edges(row, xs)), (name, row)
            assert node.data == want.data and node._meta == want._meta, (name, row)


def test_a_parent_that_is_no_value_is_named_by_backward() -> None:
    """dots() reads weights by their _data alone (speed); an object that has one but is no
    Value is refused when backward orders the graph, with its type named."""

    class Impostor:
        _data = 2.0

    node = microgrid.dot([Value(1.0), Impostor()], [Value(3.0), Value(4.0)])
    with pytest.raises(TypeError, match=r"parents of .* must be Values.*Impostor"):
        node.backward()
