"""The lecture's code and micrograd's names, run against microgrid with only the import
changed (issue 15). Written for this project from what the lecture does: a draw_dot-style
helper that reads ``_prev`` and ``_op``, backprop by hand with ``_backward()`` node by node,
the lecture's own Neuron/Layer/MLP on our Value, and its training loop.
"""

from __future__ import annotations

import math
import random

import pytest

from microgrid import Value  # the lecture: from micrograd.engine import Value
from microgrid.draw import render_source

# -- the lecture's neuron ------------------------------------------------------------------


def neuron():
    x1 = Value(2.0, label='x1')
    x2 = Value(0.0, label='x2')
    w1 = Value(-3.0, label='w1')
    w2 = Value(1.0, label='w2')
    b = Value(6.8813735870195432, label='b')
    x1w1 = x1 * w1
    x1w1.label = 'x1*w1'
    x2w2 = x2 * w2
    x2w2.label = 'x2*w2'
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = 'x1*w1 + x2*w2'
    n = x1w1x2w2 + b
    n.label = 'n'
    o = n.tanh()
    o.label = 'o'
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, s=x1w1x2w2, n=n, o=o)


# -- a draw_dot in the lecture's style: it knows only _prev, _op, data, grad, label ---------


def walk(root):
    nodes, edges = set(), set()

    def visit(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                visit(child)

    visit(root)
    return nodes, edges


def draw_dot(root):
    from graphviz import Digraph

    dot = Digraph(format='svg', graph_attr={'rankdir': 'LR'})
    nodes, edges = walk(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label=f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}",
                 shape='record')  # fmt: skip
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_draw_dot_reads_prev_and_op():
    v = neuron()
    o = v['o']
    o.backward()
    nodes, edges = walk(o)
    assert len(nodes) == 10 and len(edges) == 9
    assert v['n']._prev == {v['s'], v['b']} and v['x1']._prev == set()
    assert (v['o']._op, v['n']._op, v['x1w1']._op, v['x1']._op) == ('tanh', '+', '*', '')
    src = draw_dot(o).source
    assert 'x1*w1 + x2*w2 | data -6.0000 | grad 0.5000' in src
    assert 'x1 | data 2.0000 | grad -1.5000' in src and 'w1 | data -3.0000 | grad 1.0000' in src
    assert src.count('label=tanh') == 1 and src.count('label="+"') + src.count('label="+"') >= 1
    svg = render_source(src).decode()  # valid DOT: the renderer draws it
    assert svg.count('class="node"') == 10 + 5  # values and op nodes


def test_prev_and_op_are_read_only_and_cost_no_slot():
    a = Value(3.0, label='a')
    with pytest.raises(AttributeError):
        a._prev = set()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a._op = '+'  # type: ignore[misc]
    assert '_prev' not in Value.__slots__ and '_op' not in Value.__slots__


def test_op_speaks_micrograds_spelling():
    a, b = Value(2.0), Value(-3.0)
    assert (a + b)._op == '+' and (a * b)._op == '*'
    assert (a**2)._op == '**2' and (a**-1)._op == '**-1' and (a**0.5)._op == '**0.5'
    assert a.relu()._op == 'ReLU' and a.relu().op == 'relu'
    assert a.tanh()._op == 'tanh' and a.exp()._op == 'exp'
    assert Value(1.0)._op == ''


# -- backprop by hand, as the first half of the lecture does it -----------------------------


def test_manual_backward_node_by_node():
    v = neuron()
    v['o'].grad = 1.0
    v['o']._backward()
    v['n']._backward()
    v['b']._backward()  # a leaf: nothing to do
    v['s']._backward()
    v['x2w2']._backward()
    v['x1w1']._backward()
    got = {k: v[k].grad for k in ('x1', 'x2', 'w1', 'w2', 'b', 'n')}
    assert got == pytest.approx(
        {'x1': -1.5, 'x2': 0.5, 'w1': 1.0, 'w2': 0.0, 'b': 0.5, 'n': 0.5}, rel=1e-12
    )


def test_the_lectures_topological_backward():
    v = neuron()
    topo, visited = [], set()

    def build(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            topo.append(node)

    build(v['o'])
    v['o'].grad = 1.0
    for node in reversed(topo):
        node._backward()
    by_hand = {k: v[k].grad for k in v}
    w = neuron()
    w['o'].backward()
    assert by_hand == pytest.approx({k: w[k].grad for k in w}, rel=1e-15)
    assert v['o'].propagate.__func__ is Value._backward  # one rule, two names


def test_micrograds_private_constructor_points_to_from_op():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match='from_op'):
        Value(3.0, (a, b), '+')
    node = Value.from_op(3.0, (a, b), (1.0, 1.0), '+')
    node.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)


def test_lecture_step_lines_wrap_composite_labels():
    v = neuron()
    lines = [str(s) for s in v['o'].backward_steps()]
    assert lines[2] == (
        '(x1*w1 + x2*w2).grad += dn/d(x1*w1 + x2*w2) * n.grad = 1.0 * 0.5 = 0.5'
        '  ((x1*w1 + x2*w2).grad = 0.5)'
    )
    assert lines[-1] == 'w1.grad += d(x1*w1)/dw1 * (x1*w1).grad = 2.0 * 0.5 = 1.0  (w1.grad = 1.0)'


# -- the lecture's own network classes on our Value, and its training loop -------------------


class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def train(model, steps=20, lr=0.05):
    history = []
    for _ in range(steps):
        ypred = [model(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -lr * p.grad
        history.append(loss.data)
    return history, ypred


@pytest.mark.parametrize('seed', range(5))
def test_the_lectures_training_loop_on_its_own_classes(seed):
    random.seed(seed)
    history, ypred = train(MLP(3, [4, 4, 1]), steps=40)
    assert history[-1] < history[0] and history[-1] < 0.2, history
    assert all(math.copysign(1, p.data) == y for p, y in zip(ypred, YS))


def test_the_lectures_loop_on_microgrids_all_tanh_mlp():
    from microgrid import nn  # the lecture: from micrograd.nn import MLP

    random.seed(1337)
    model = nn.MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh')
    history, ypred = train(model)
    assert history[-1] < 0.1 and history[-1] < history[0] / 10, history


def test_micrograds_demo_loss_with_numpy_arrays():
    """micrograd's demo feeds numpy rows and int64 labels straight into Values."""
    np = pytest.importorskip('numpy', reason='numpy is a dev dependency')
    from microgrid import data
    from microgrid.nn import MLP  # micrograd: from micrograd.nn import MLP

    random.seed(1337)
    X, y = data.make_moons(n_samples=40, noise=0.1, seed=1337)
    X, y = np.array(X), np.array(y) * 2 - 1
    model = MLP(2, [16, 16, 1], init='uniform')

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    first, _ = loss()
    for k in range(15):
        total, acc = loss()
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert type(total) is Value and type(first) is Value
    assert total.data < first.data / 2 and acc >= 0.8, (first.data, total.data, acc)
