"""engine.dots: a layer's dot products, reading the shared inputs' numbers once (issue 25).

It must make exactly the nodes dot() makes, one per row of weights: same data, edges,
records and gradients, the same errors.
"""

from __future__ import annotations

import pytest

from microgrid import Value, nn
from microgrid.engine import dot, dots


def _same_node(a: Value, b: Value) -> bool:
    pa, pb = a._edges[0::2], b._edges[0::2]
    return (
        a.data == b.data
        and a.op == b.op == 'dot'
        and all(p is q for p, q in zip(pa, pb))
        and a._edges[1::2] == b._edges[1::2]
        and (a._meta or {}) == (b._meta or {})
    )


@pytest.mark.parametrize(
    'xs',
    [[0.5, -2.0, 1.0], [Value(0.5), Value(-2.0), 1.0], [Value(0.5), 3, Value(-1.5)]],
    ids=['numbers', 'values-and-bias', 'mixed'],
)
def test_dots_makes_what_dot_makes_row_by_row(xs):
    rows = [[Value(0.1), Value(-0.2), Value(0.3)], [Value(1.0), 2.0, Value(-1.0)], [1.0, 2.0, 3.0]]
    got = dots(rows, xs)
    want = [dot(ws, xs) for ws in rows]
    assert len(got) == 3
    assert all(_same_node(a, b) for a, b in zip(got, want))
    (got[0] + got[1] * got[2]).backward()
    grads = [v.grad for v in [*rows[0], *rows[1], *xs] if isinstance(v, Value)]
    for v in [*rows[0], *rows[1], *xs]:
        if isinstance(v, Value):
            v.grad = 0.0
    (want[0] + want[1] * want[2]).backward()
    assert grads == [v.grad for v in [*rows[0], *rows[1], *xs] if isinstance(v, Value)]


def test_dots_errors_are_dots():
    with pytest.raises(ValueError, match=r'dot: the two sequences differ in length \(2 and 3\)'):
        dots([[1.0, 2.0, 3.0], [1.0, 2.0]], [Value(1.0), 2.0, 3.0])
    with pytest.raises(TypeError, match='dot: expected Values or real numbers, got str'):
        dots([[1.0]], ['a'])
    assert dots([], [Value(1.0)]) == []


def test_a_layer_gives_what_its_neurons_give_one_by_one():
    layer = nn.Layer(3, 4, activation='tanh', seed=2)
    x = [Value(0.3), -1.0, Value(2.0)]
    assert [v.data for v in layer(x)] == [n(x).data for n in layer.neurons]
