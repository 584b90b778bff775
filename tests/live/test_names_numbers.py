"""The widgets name what the text names, write numbers in the shared format, say when
grad x nudge is a poor estimate, and refuse a graph too large at once with a limit that works."""

from __future__ import annotations

import math
import time

import pytest

pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid import data, losses
from microgrid.draw import GraphTooLargeError
from microgrid.labels import fmt
from microgrid.live import Explorer, Stepper
from microgrid.live._base import LAYOUT_LIMIT, count_nodes
from microgrid.live.explorer import agreement
from microgrid.nn import MLP


def lesson2(a, b, c, f):
    e = a * b
    d = e + c
    L = d * f
    return locals()


def test_explorer_names_the_nodes_by_the_variables_of_fn():
    x = Explorer(lesson2, a=2.0, b=-3.0, c=10.0, f=-2.0)
    assert x.names == ['a', 'b', 'e', 'c', 'd', 'f', 'L']
    assert x.view['out'] == 'L' and x.output == -8.0
    assert x.grads == {'a': 6.0, 'b': -4.0, 'c': -2.0, 'f': 4.0}  # dL/da = b*f ...
    assert x.view['text']['output'] == '-8.0' and x.view['text']['grads']['a'] == '6.0'
    y = Explorer(lesson2, output='d', a=2.0, b=-3.0, c=10.0, f=-2.0)
    assert y.view['out'] == 'd' and y.output == 4.0
    with pytest.raises(ValueError, match="output='name of the output'"):
        Explorer(lesson2, output='zz', a=2.0, b=-3.0, c=10.0, f=-2.0)


def test_explorer_names_a_models_parameters_as_draw_does():
    m = MLP(2, [16, 16, 1], seed=0)
    x = Explorer(lambda x1, x2: m([x1, x2]), names=m, x1=0.5, x2=-1.0)
    assert len(x.names) == 404  # 402 nodes of the network + the two leaves
    assert {'L0.n0.w0', 'L0.n15.b', 'L1.n7.w12', 'L2.n0.b', 'x1', 'x2', 'out'} <= set(x.names)
    assert not any(n.startswith('n') and n[1:].isdigit() for n in x.names if 'w' in n)
    with pytest.raises(TypeError, match='names must be a mapping'):
        Explorer(lambda a: a, names=3, a=1.0)


def test_explorer_numbers_use_the_shared_format():
    x = Explorer(lambda a, b: a * b, a=2.0, b=-3.0)
    assert x.view['data'][-1] == 'data ' + fmt(-6.0) == 'data -6.0'
    x.set(a=1.0 / 3.0)
    assert x.view['text']['values']['a'] == '0.333333'
    assert x.view['data'][-1] == 'data -1.0'
    assert all(t.startswith('grad ') for t in x.view['grad'])


def test_explorer_says_when_the_linear_estimate_is_poor_and_why():
    x = Explorer(lambda a: a.tanh(), a=0.5)
    x.set(a=2.5)
    c = x.view['compare']
    delta = math.tanh(2.5) - math.tanh(0.5)
    predicted = (1 - math.tanh(0.5) ** 2) * 2.0
    assert x.view['delta'] == pytest.approx(delta, rel=1e-12)
    assert x.view['predicted'] == pytest.approx(predicted, rel=1e-12)
    assert c['verdict'] == 'poor' and c['delta'] == fmt(delta) and c['predicted'] == fmt(predicted)
    assert 'curves' in c['why'] and fmt(1 - math.tanh(2.5) ** 2) in c['why']
    x.pin()
    x.set(a=2.501)  # a small nudge: the estimate agrees
    assert x.view['compare']['verdict'] == 'close' and x.view['compare']['why'] == ''
    lin = Explorer(lambda a, b: a * 3.0 + b, a=1.0, b=0.0)
    lin.set(a=5.0)  # linear: exact for any nudge
    assert lin.view['compare']['verdict'] == 'close'
    assert agreement(1.0, 1.04) == 'close' and agreement(1.0, 1.2) == 'poor'


def network_and_loss(points: int):
    m = MLP(2, [16, 16, 1], seed=0)
    X, y = data.make_moons(points, seed=0)
    return m, m([0.5, -1.0]), losses.binary_cross_entropy([m(x) for x in X], y)


def test_stepper_on_the_402_node_network_names_the_parameters():
    m, out, _ = network_and_loss(2)
    s = Stepper(out, names=m)
    assert count_nodes(out, 10**6) == 402 and len(s) == 642
    assert {'L0.n0.w0', 'L2.n0.b'} <= set(s.names)
    s.goto(-1)
    assert s.current in s.names and s.grads['L0.n0.w0'] != '?'


def test_a_graph_too_large_fails_fast_with_a_limit_that_works():
    m, out, loss = network_and_loss(30)
    with pytest.raises(GraphTooLargeError, match='pass max_nodes=402'):
        Stepper(out, max_nodes=100)
    assert len(Stepper(out, max_nodes=402)) == 642  # the suggested limit works
    t = time.perf_counter()
    with pytest.raises(GraphTooLargeError, match=f'more than {LAYOUT_LIMIT} nodes') as e:
        Stepper(loss, max_nodes=5000)
    assert time.perf_counter() - t < 2.0  # not 120 s of graphviz, then a TimeoutError
    assert 'model(X[0])' in str(e.value)
    with pytest.raises(GraphTooLargeError, match=f'more than {LAYOUT_LIMIT} nodes'):
        Explorer(lambda a: loss * a, max_nodes=5000, a=1.0)
