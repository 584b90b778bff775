"""Stepper(root, names=model, collapse=True) and Explorer(..., collapse=True): each neuron
of the 402-node network is one box, and the 642 steps stay the same steps."""

from __future__ import annotations

import re

import pytest
from traitlets import TraitError

pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid import Value
from microgrid.labels import fmt
from microgrid.live import Explorer, Stepper
from microgrid.nn import MLP
from microgrid.viz.collapse import Collapse, resolve_collapse
from microgrid.viz.draw import collect_nodes


def network():
    m = MLP(2, [16, 16, 1], seed=0)
    return m, m([0.5, -1.0])


def ids(svg: str, prefix: str) -> set[str]:
    return {i[len(prefix) :] for i in re.findall(r'id="([^"]+)"', svg) if i.startswith(prefix)}


def test_the_collapsed_stepper_steps_through_all_642_steps_with_the_same_captions():
    m, out = network()
    full = Stepper(out, names=m)
    s = Stepper(out, names=m, collapse=True)
    assert len(s) == len(full) == 642
    assert [f[4] for f in s.frames] == [f[4] for f in full.frames]  # the chain-rule lines
    shown = s.scene['shown']
    assert len(shown) == 33  # one box per neuron; the inputs are numbers, the root a box
    drawn = ids(s.svg, s.scene['prefix'])
    for k in range(len(s)):  # every step colours and updates what is drawn
        s.goto(k)
        assert s.caption == full.frames[k][4]
        assert set(s.highlight) <= drawn and s.frames[k][0] in shown
    assert s.current == 'L0.n0'  # the last step: a weight of L0.n0, inside its box
    # the neurons' parts are named after them, in both drawings' captions
    assert s.frames[0][4] == 'L2.n0.grad = 1.0  (the seed: dL2.n0/dL2.n0 = 1.0)'
    assert any(
        f[4].startswith('L1.n3.dot.grad += dL1.n3/dL1.n3.dot * L1.n3.grad') for f in s.frames
    )
    assert 'L1.n3.dot' in full.names and 'L1.n3' in full.names
    assert s.highlight == [f'v{s.frames[-1][0]}']


def test_a_step_inside_a_neuron_colours_its_box_and_its_grad_is_the_real_one():
    m, out = network()
    s = Stepper(out, names=m, collapse=True)
    order = collect_nodes(out, 1000)
    boxes = Collapse(order, resolve_collapse(m, None))
    index = {v: i for i, v in enumerate(order)}
    w = m.layers[1].neurons[3].w[5]
    k = next(k for k, f in enumerate(s.frames) if f[4].startswith('L1.n3.w5.grad +='))
    box = boxes.box_of[next(v for v in order if w in v.parents)]
    assert box.name == 'L1.n3' and s.frames[k][3] == [f'v{index[box.output]}']
    s.goto(k)
    assert s.current == 'L1.n3'
    # the grads shown are those of a real backward pass, box by box
    s.goto(-1)
    saved = [(v, v.grad) for v in order]
    for v in order:
        v.grad = 0.0
    out.backward()
    try:
        assert s.grads == {b.name: f'grad {fmt(b.output.grad)}' for b in boxes.boxes}
        assert s.grads['L2.n0'] == 'grad 1.0'
    finally:
        for v, g in saved:
            v.grad = g
    # a step between boxes: the edge, the box it enters and the box updated
    k = next(k for k, f in enumerate(s.frames) if len(f[3]) == 3)
    edge, into, updated = s.frames[k][3]
    assert edge.startswith('e') and into == 'v401' and updated == f'v{s.frames[k][0]}'


def test_collapse_needs_a_module_and_leaves_the_uncollapsed_stepper_alone():
    m, out = network()
    with pytest.raises(TypeError, match='collapse=True draws each neuron of names=model'):
        Stepper(out, collapse=True)
    with pytest.raises(TypeError, match='collapse must be a Module'):
        Stepper(out, collapse='yes')
    assert len(Stepper(out, collapse=m).scene['shown']) == 33  # collapse=model, no names
    assert len(Stepper(out, names=m).scene['shown']) == 402


def test_the_collapsed_trait_switches_the_drawing_at_the_same_step():
    m, out = network()
    s = Stepper(out, names=m)
    assert s.can_collapse and not s.collapsed and len(s.scene['shown']) == 402
    s.goto(300)
    caption, svg = s.caption, s.svg
    s.collapsed = True  # what the widget's 'neurons as boxes' button sets
    assert len(s.scene['shown']) == 33 and s.svg != svg and 'L1.n15<' in s.svg
    assert s.position == 300 and s.caption == caption and len(s) == 642
    assert set(s.grads) == {b for b in s.names if '.' in b and b.count('.') == 1}
    s.collapsed = False
    assert s.svg == svg and len(s.grads) == 402
    plain = Stepper(Value(2.0, 'a') * Value(3.0, 'b'))
    assert not plain.can_collapse
    with pytest.raises(TraitError, match='needs a Module'):
        plain.collapsed = True
    assert not plain.collapsed


def test_labels_stay_escaped_in_the_collapsed_widgets_html():
    m = MLP(2, [2, 1], seed=0)
    x = [Value(0.5, '<script>alert(1)</script>'), Value(1.0, '<b>&</b>')]
    s = Stepper(m(x), names={'<img src=x>': x[0], **dict(m.named_parameters())}, collapse=m)
    assert '<script' not in s.svg and '<b>' not in s.svg and '<img' not in s.svg
    assert '&lt;img src=x&gt;' in s.svg and '&lt;b&gt;&amp;&lt;/b&gt;' in s.svg


def test_the_explorer_collapses_too_and_its_numbers_follow_the_sliders():
    m = MLP(2, [16, 16, 1], seed=0)
    x = Explorer(lambda x1, x2: m([x1, x2]), names=m, collapse=True, x1=0.5, x2=-1.0)
    assert x.svg.count('L1.n15<') == 1 and 'L0.n0.w0' not in x.svg  # parameters folded
    boxes = re.findall(r'>dot(?: → relu)?, (\d+) parameters<', x.svg)
    assert len(boxes) == 33 and boxes.count('3') == 16 and boxes.count('17') == 17
    x.set(x1=1.0)
    assert x.output == pytest.approx(m([1.0, -1.0]).data, rel=1e-12)
    assert x.view['data'][-1] == f'data {fmt(x.output)}'  # the root box's data field
