"""draw(root, collapse=model): each neuron of a real network drawn as ONE box.

The network is the one of issue 24: one sample through MLP(2, [16, 16, 1]), 402 nodes.
The boxes are checked against the Module (names, parameters), the graph (values, grads,
edges and their direction) and the escaping rules (DOT and SVG).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from microgrid import Value
from microgrid.nn import MLP, Module
from microgrid.text import fmt
from microgrid.viz.collapse import Collapse, Neurons, neuron_units, resolve_collapse
from microgrid.viz.draw import collect_nodes, draw

SVG = '{http://www.w3.org/2000/svg}'
NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)
EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[id=(\w+)', re.M)


def network(inputs=None):
    m = MLP(2, [16, 16, 1], seed=0)
    out = m(inputs if inputs is not None else [0.5, -1.0])
    return m, out


def labels(source: str) -> dict[str, list[str]]:
    """{DOT node name: its record fields} for the Values drawn (v<i>), not the op ovals."""
    out = {}
    for name, label in NODE.findall(source):
        if name.startswith('v'):
            out[name] = [f.strip() for f in label.strip('{} ').split(' | ')]
    return out


def neuron_prefixes(model) -> list[str]:
    """'layers.0.neurons.3' for every neuron, from the Module's own parameter names."""
    names = [n for n, _ in model.named_parameters()]
    return list(dict.fromkeys(n.rsplit('.', 2 if '.w.' in n else 1)[0] for n in names))


def test_the_402_node_network_is_33_boxes_plus_inputs_and_loss():
    x1, x2 = Value(0.5, 'x1'), Value(-1.0, 'x2')
    m, out = network([x1, x2])
    loss = (out - 1.0) ** 2
    loss.backward()
    assert len(collect_nodes(out, 10**6)) == 402 + 2  # the network and its two inputs
    g = draw(loss, names=m, collapse=True)
    drawn = labels(g.source)
    boxes = {k: f for k, f in drawn.items() if 'parameters' in f[1]}
    assert len(boxes) == 33  # 16 + 16 + 1 neurons
    others = sorted(f[0] for k, f in drawn.items() if k not in boxes)
    assert len(others) == 4 and {'x1', 'x2'} <= set(others)  # the inputs, out - 1, its square
    assert g.source.count('shape=Mrecord') == 33
    # names come from the Module: layers.0.neurons.3 -> L0.n3
    expected = [p.replace('layers.', 'L').replace('.neurons.', '.n') for p in neuron_prefixes(m)]
    assert sorted(f[0] for f in boxes.values()) == sorted(expected)
    assert len(expected) == 33 and 'L1.n15' in expected
    count = {f[0]: f[1] for f in boxes.values()}
    assert count['L0.n3'] == 'dot → relu, 3 parameters'  # 2 weights + bias, folded in
    assert count['L1.n3'] == 'dot → relu, 17 parameters'
    assert count['L2.n0'] == 'dot, 17 parameters'  # the last layer is linear
    assert not any('L0.n3.w0' in f[0] for f in drawn.values())  # folded, not drawn


def test_each_box_shows_its_neurons_output_data_and_grad():
    xs = [Value(0.5, 'x1'), Value(-1.0, 'x2')]
    m, out = network(xs)
    out.backward()
    g = draw(out, names=m, collapse=True)
    by_name = {f[0]: f for f in labels(g.source).values()}
    # the neurons' outputs, computed layer by layer from the same model
    h0 = [n(xs) for n in m.layers[0].neurons]
    h1 = [n(h0) for n in m.layers[1].neurons]
    for j in (0, 3, 15):
        assert by_name[f'L0.n{j}'][2] == f'data {fmt(h0[j].data)}'
        assert by_name[f'L1.n{j}'][2] == f'data {fmt(h1[j].data)}'
    assert by_name['L2.n0'][2:] == [f'data {fmt(out.data)}', 'grad 1.0']
    # the grads: those of the neuron outputs in the real graph (relu after dot)
    order = collect_nodes(out, 1000)
    c = Collapse(order, resolve_collapse(m, None))
    for box in c.boxes:
        assert by_name[box.name][3] == f'grad {fmt(box.output.grad)}'
        assert box.output.op == ('dot' if box.name == 'L2.n0' else 'relu')
    w = m.layers[1].neurons[3].w[0]  # d out / d w = dout/dh1_3 * relu' * h0_0
    top = m.layers[2].neurons[0].w[3].data
    assert w in c.folded and w.grad == pytest.approx(top * (h1[3].data > 0) * h0[0].data)


def test_edges_between_boxes_keep_their_direction():
    m, out = network()
    g = draw(out, names=m, collapse=True)
    name = {k: f[0] for k, f in labels(g.source).items()}
    layer = {k: int(n[1]) for k, n in name.items()}
    edges = [(a, b) for a, b, _ in EDGE.findall(g.source)]
    assert len(edges) == 16 * 16 + 16  # every neuron of a layer feeds every one of the next
    assert all(layer[b] == layer[a] + 1 for a, b in edges)  # from a layer to the next
    assert len(set(edges)) == len(edges)


def test_collapse_true_needs_a_module_and_bad_values_are_refused():
    m, out = network()
    assert draw(out, collapse=m).source.count('Mrecord') == 33  # collapse=model alone
    assert 'Mrecord' not in draw(out, names=m, collapse=False).source
    with pytest.raises(TypeError, match='collapse=True draws each neuron of names=model'):
        draw(out, collapse=True)
    with pytest.raises(TypeError, match='collapse must be a Module'):
        draw(out, collapse=3)
    units = neuron_units(m)
    assert [u.name for u in units][:2] == ['layers.0.neurons.0', 'layers.0.neurons.1']
    assert isinstance(resolve_collapse(True, m), Neurons)


class Micro(Module):
    """micrograd's Neuron: the weighted sum written out, ``nonlin`` for relu."""

    def __init__(self, ws, nonlin=True):
        self.w = [Value(w) for w in ws]
        self.b = Value(0.5)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act


class Net(Module):
    def __init__(self):
        self.hidden = [Micro([1.0, -2.0]), Micro([0.5, 0.25])]
        self.top = Micro([1.0, 1.0], nonlin=False)

    def __call__(self, x):
        return self.top([n(x) for n in self.hidden])


def test_a_written_out_sum_is_one_box_and_the_loss_stays_outside():
    net = Net()
    x = [Value(1.0, 'a'), Value(2.0, 'b')]
    out = net(x)
    loss = (out - 3.0) ** 2
    g = draw(loss, collapse=net)
    drawn = labels(g.source)
    names = sorted(f[0] for f in drawn.values())
    assert names[:3] == ['a', 'b', 'hidden0'] and 'top' in names and len(names) == 7
    by = {f[0]: f for f in drawn.values()}
    assert by['hidden0'][1] == '* → + → relu, 3 parameters'
    assert by['top'][1] == '* → +, 3 parameters'  # linear: the loss's '-' is not taken in
    assert by['top'][2] == f'data {fmt(out.data)}'
    between = [(a, b) for a, b, _ in EDGE.findall(g.source) if a[0] == b[0] == 'v']
    assert len(between) == 4 + 2  # a, b -> each hidden box; each hidden box -> top


def test_a_neuron_called_twice_is_two_boxes():
    m = MLP(2, [3, 1], seed=0)
    loss = m([0.5, -1.0]) + m([1.0, 2.0])
    drawn = labels(draw(loss, collapse=m).source)
    names = sorted(f[0] for f in drawn.values())
    assert names.count('L0.n0') == 1 and 'L0.n0#2' in names and 'L1.n0#2' in names
    assert sum(1 for f in drawn.values() if 'parameters' in f[1]) == 8


class Hostile(Module):
    pass


def test_names_and_ops_in_a_box_are_escaped_in_dot_and_svg():
    inner = Micro([1.0, 2.0])
    model = Hostile()
    setattr(model, '<b>x</b>{|}&"', [inner])  # an attribute name is any string to vars()
    x = [Value(1.0, '<script>a</script>'), Value(2.0, 'c&d')]
    s = inner(x)
    top = Value.from_op(s.data, [s], [1.0], '<img src=x onerror=alert(1)>')
    g = draw(top, collapse=model)
    assert r'\<b\>x\</b\>\{\|\}&amp;\"' in g.source  # record-escaped in DOT
    svg = g.pipe(format='svg', encoding='utf-8')
    root = ET.fromstring(svg)
    tags = {el.tag.split('}')[-1] for el in root.iter()}
    assert not tags & {'script', 'img', 'b', 'foreignObject', 'a'}, tags
    texts = [el.text for el in root.iter(f'{SVG}text')]
    assert '<b>x</b>{|}&"0' in texts and '<script>a</script>' in texts
    assert '<img src=x onerror=alert(1)>' in texts
    assert '<script' not in svg and '<b>' not in svg
