"""explain(): the chain rule for one gradient, written out path by path."""

from __future__ import annotations

import math

import pytest
from catalogue import lesson_graph

from microgrid import Value, explain
from microgrid.explain import paths

# -- explain --------------------------------------------------------------------------


def test_explain_one_path() -> None:
    a, b, c, e, d, f, L = lesson_graph()
    L.backward()
    assert explain(a, L) == 'dL/da = dL/dd * dd/de * de/da = (-2.0)(1.0)(-3.0) = 6.0'
    assert explain(f, L) == 'dL/df = dL/df = (4.0) = 4.0'
    assert explain(L, L).startswith('dL/dL = 1.0')
    assert explain(Value(1.0, 'z'), L) == 'dL/dz = 0.0  (z is not used in computing L)'


def test_explain_reused_node() -> None:
    a = Value(3.0, 'a')
    b = a + a
    b.label = 'b'
    c = b * a
    c.label = 'c'
    c.backward()  # dc/da = b + a * 2 = 6 + 6 = 12
    text = explain(a, c)
    assert text.splitlines() == [
        'dc/da = the sum over 3 paths of the local derivatives multiplied:',
        '  path 1: dc/db * db/da = (3.0)(1.0) = 3.0',
        '  path 2: dc/db * db/da = (3.0)(1.0) = 3.0',
        '  path 3: dc/da = (6.0) = 6.0',
        'dc/da = 3.0 + 3.0 + 6.0 = 12.0',
    ]
    assert a.grad == 12.0


def test_explain_summarises_many_paths_and_totals_match_backward() -> None:
    x = Value(0.3, 'x')
    y = x
    for _ in range(12):  # 2**12 paths
        y = y * 0.9 + y.sin()
    y.label = 'y'
    y.backward()
    text = explain(x, y)
    lines = text.splitlines()
    assert lines[0] == 'dy/dx = the sum over 4096 paths of the local derivatives multiplied:'
    assert sum(line.startswith('  path') for line in lines) == 20
    assert '... and 4076 more paths, which add up to' in text
    total = float(lines[-1].rsplit('= ', 1)[1])
    assert total == pytest.approx(x.grad, rel=1e-5)
    assert sum(1 for _ in paths(x, y)) == 4096
    # an explicit product of every path equals backward's gradient
    assert math.fsum(math.prod(g for _, _, g in p) for p in paths(x, y)) == pytest.approx(
        x.grad, rel=1e-12
    )


def test_explain_notes_accumulated_leaf_grads() -> None:
    a, b, c, e, d, f, L = lesson_graph()
    L.backward()
    L.backward()
    assert explain(a, L).splitlines()[1] == (
        '  (note: a.grad holds 12.0, not 6.0; one backward() from zeroed grads gives 6.0, '
        'and a leaf adds up the gradients of every backward() until it is zeroed)'
    )
    a.grad = 0.0  # never backpropagated: no note
    assert explain(a, L) == 'dL/da = dL/dd * dd/de * de/da = (-2.0)(1.0)(-3.0) = 6.0'
