"""microgrid.draw: the SVG is real (labels, data, grads, local derivatives), with either renderer.

Both renderers are exercised: graphviz-pure with ``dot`` hidden from PATH (as on a machine
without Graphviz), and the system ``dot`` where one is installed.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path

import pytest

import microgrid
from microgrid import Value
from microgrid.viz.draw import (
    HIGHLIGHT,
    GraphTooLargeError,
    RendererNotFoundError,
    draw,
    find_renderer,
    render_source,
    to_svg,
    value_svg,
)

torch = pytest.importorskip('torch', reason='torch (a dev dependency) gives the reference grads')

draw_module = import_module('microgrid.viz.draw')  # the module; microgrid.draw is the function
SVG = '{http://www.w3.org/2000/svg}'
SYSTEM_DOT = shutil.which('dot')


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """PATH without any dot: the renderer must be graphviz-pure, found next to Python."""
    empty = tmp_path / 'empty-bin'
    empty.mkdir()
    monkeypatch.setenv('PATH', str(empty))
    monkeypatch.delenv('MICROGRID_DOT', raising=False)
    renderer = find_renderer()
    assert renderer.kind == 'graphviz-pure', renderer
    assert Path(renderer.path).is_absolute()
    return renderer


@pytest.fixture(params=['graphviz-pure', 'dot'])
def renderer(request, monkeypatch, tmp_path):
    monkeypatch.delenv('MICROGRID_DOT', raising=False)
    if request.param == 'graphviz-pure':
        return request.getfixturevalue('no_dot')
    if SYSTEM_DOT is None:
        pytest.skip('no system Graphviz dot on PATH here; the graphviz-pure case still runs')
    found = find_renderer()
    assert found.kind == 'dot'
    return found


def neuron():
    """o = tanh(x1*w1 + x2*w2 + b), with labels on the inputs only."""
    x1, x2 = Value(2.0, 'x1'), Value(0.0, 'x2')
    w1, w2 = Value(-3.0, 'w1'), Value(1.0, 'w2')
    b = Value(6.8813735870195432, 'b')
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.label = 'o'
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b)


def torch_grads(leaves: dict[str, Value]) -> dict[str, float]:
    t = {
        k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in leaves.items()
    }
    o = torch.tanh(t['x1'] * t['w1'] + t['x2'] * t['w2'] + t['b'])
    o.backward()
    return {k: v.grad.item() for k, v in t.items()}


def parse(svg: str):
    root = ET.fromstring(svg)
    nodes, edges = {}, {}
    for g in root.iter(f'{SVG}g'):
        texts = [t.text or '' for t in g.iter(f'{SVG}text')]
        if g.get('class') == 'node':
            nodes[g.get('id')] = texts
        elif g.get('class') == 'edge':
            edges[g.get('id')] = (g.find(f'{SVG}title').text, texts, g)
    return root, nodes, edges


def number(text: str, prefix: str) -> float:
    assert text.startswith(prefix + ' '), text
    return float(text.split(' ', 1)[1])


def test_svg_holds_labels_data_grads_and_local_derivatives(renderer):
    o, leaves = neuron()
    o.backward()
    expected = torch_grads(leaves)
    svg = to_svg(o, show_local_grads=True)
    root, nodes, edges = parse(svg)
    by_name = {texts[0]: texts for texts in nodes.values() if len(texts) == 3}
    for name, v in leaves.items():
        texts = by_name[name]
        assert number(texts[1], 'data') == pytest.approx(v.data, rel=1e-5)
        assert number(texts[2], 'grad') == pytest.approx(expected[name], rel=1e-5, abs=1e-12)
    assert number(by_name['o'][1], 'data') == pytest.approx(0.7071067811865476, rel=1e-5)
    assert number(by_name['o'][2], 'grad') == 1.0
    ops = sorted(texts[0] for texts in nodes.values() if len(texts) == 1)
    assert ops == ['*', '*', '+', '+', 'tanh']
    # every edge into an op carries the local derivative d(node)/d(parent)
    ids = {v: i for i, v in enumerate(draw_module.collect_nodes(o, 500))}
    for v, i in ids.items():
        for k, local in enumerate(v.local_grads):
            title, texts, _ = edges[f'e{i}_{k}']
            assert title.endswith(f'o{i}')
            assert float(texts[0]) == pytest.approx(local, rel=1e-5)
    # the tanh edge: 1 - tanh(n)^2, from torch
    n = torch.tensor(o.parents[0].data, dtype=torch.float64, requires_grad=True)
    torch.tanh(n).backward()
    assert float(edges[f'e{ids[o]}_0'][1][0]) == pytest.approx(n.grad.item(), rel=1e-5)
    assert root.get('width').endswith('pt')


def test_no_local_grads_unless_asked(no_dot):
    o, _ = neuron()
    _, _, edges = parse(to_svg(o))
    assert all(texts == [] for _, texts, _ in edges.values())


HOSTILE = [
    '<script>alert(1)</script>',
    '{|}',
    'say "hi" \\ and \\" and \\n',
    '&lt; & &amp; <b>bold</b>',
    '</text></g></svg><script>x</script>',
]


def test_hostile_labels_are_shown_exactly_and_never_become_markup(renderer):
    leaves = [Value(float(i), label) for i, label in enumerate(HOSTILE)]
    total = microgrid.sum(leaves)
    top = Value.from_op(total.data, [total], [1.0], '<img src=x onerror=alert(1)>{|}"\\')
    svg = to_svg(top, names={'<svg onload=alert(2)>': total}, show_local_grads=True)
    root, nodes, _ = parse(svg)
    tags = {el.tag.split('}')[-1] for el in root.iter()}
    assert not tags & {'script', 'img', 'b', 'foreignObject', 'a'}, tags
    first_fields = [texts[0] for texts in nodes.values()]
    for label in HOSTILE:
        assert label in first_fields
    assert '<svg onload=alert(2)>' in first_fields
    assert '<img src=x onerror=alert(1)>{|}"\\' in first_fields
    assert '<script' not in svg and '<b>' not in svg


def test_record_escaping_in_the_dot_source():
    v = Value(1.0, 'a{b}|c<d>"e\\f')
    src = draw(v).source
    assert r'a\{b\}\|c\<d\>\"e\\f' in src
    x = Value(1.0, 'l&r')
    assert 'l&amp;r' in draw(x).source  # Graphviz would read a bare & as an entity


def test_max_nodes_raises_a_clear_error_without_rendering():
    v = Value(0.0, 'x')
    for _ in range(600):
        v = v + 1.0
    with pytest.raises(GraphTooLargeError) as info:
        draw(v)
    message = str(info.value)
    assert 'max_nodes=500' in message and 'sub-expression' in message
    assert isinstance(info.value, ValueError)
    assert len(draw(v, max_nodes=601).source) > 0
    assert value_svg(v) is None  # Jupyter then shows the plain repr
    with pytest.raises(ValueError, match='max_nodes'):
        draw(v, max_nodes=0)


def test_a_huge_graph_is_refused_after_max_nodes_visits():
    v = Value(1.0)
    for _ in range(200_000):
        v = v * 1.0
    with pytest.raises(GraphTooLargeError):
        draw(v, max_nodes=10)


def test_names_from_locals_label_the_nodes():
    a = Value(2.0)
    b = Value(-3.0)
    product = a * b
    _hidden = product
    src = draw(product, names=locals()).source
    assert '{ a | data 2.0' in src and '{ b | data -3.0' in src
    assert '{ product | data -6.0' in src and '_hidden' not in src
    with pytest.raises(TypeError, match='names'):
        draw(product, names=['a'])


def test_rankdir_and_bad_arguments():
    v = Value(1.0, 'v') * 2.0
    assert 'rankdir=TB' in draw(v, rankdir='TB').source
    with pytest.raises(ValueError, match='rankdir'):
        draw(v, rankdir='sideways')
    with pytest.raises(TypeError, match='Value'):
        draw(3.0)  # type: ignore[arg-type]


def hot_ids(graph) -> set[str]:
    return {line.split('id=')[1].split()[0].strip('"]') for line in graph.body if HIGHLIGHT in line}


def test_highlight_a_node_an_edge_a_path_and_an_explain_path():
    from microgrid.explain import paths

    x, y = Value(2.0, 'x'), Value(3.0, 'y')
    m = x * y
    out = m + x
    order = draw_module.collect_nodes(out, 500)
    i = {v: n for n, v in enumerate(order)}
    assert hot_ids(draw(out, highlight=x)) == {f'v{i[x]}'}
    edge = {f'v{i[x]}', f'v{i[m]}', f'o{i[m]}', f'f{i[m]}', f'e{i[m]}_0'}
    assert hot_ids(draw(out, highlight=(x, m))) == edge
    full = edge | {f'v{i[out]}', f'o{i[out]}', f'f{i[out]}', f'e{i[out]}_0'}
    assert hot_ids(draw(out, highlight=[x, m, out])) == full
    assert hot_ids(draw(out, highlight=[out, m, x])) == full  # either direction
    route = next(p for p in paths(x, out) if len(p) == 2)  # out -> m -> x
    assert hot_ids(draw(out, highlight=route)) == full
    steps = list(out.backward_steps())
    assert hot_ids(draw(out, highlight=steps[0])) == {f'v{i[out]}'}  # the seed: the root
    with pytest.raises(ValueError, match='no edge'):
        draw(out, highlight=[x, y])
    with pytest.raises(ValueError, match='not in the graph'):
        draw(m, highlight=out)
    with pytest.raises(TypeError, match='highlight'):
        draw(out, highlight='x')


def test_discovery_prefers_dot_on_path(monkeypatch, tmp_path):
    """A program called dot on PATH wins over graphviz-pure (here a stand-in for Graphviz)."""
    pure = find_renderer_with_empty_path(monkeypatch, tmp_path)
    fake = tmp_path / 'fakebin'
    fake.mkdir()
    (fake / 'dot').write_text(f'#!/bin/sh\nexec "{pure}" "$@"\n')
    (fake / 'dot').chmod(0o755)
    monkeypatch.setenv('PATH', str(fake))
    found = find_renderer()
    assert found.kind == 'dot' and found.path == str(fake / 'dot')
    assert b'<svg' in render_source('digraph { a -> b }')


def find_renderer_with_empty_path(monkeypatch, tmp_path) -> str:
    empty = tmp_path / 'empty'
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv('PATH', str(empty))
    monkeypatch.delenv('MICROGRID_DOT', raising=False)
    found = find_renderer()
    assert found.kind == 'graphviz-pure'
    return found.path


def test_microgrid_dot_environment_variable(monkeypatch, tmp_path):
    pure = find_renderer_with_empty_path(monkeypatch, tmp_path)
    monkeypatch.setenv('MICROGRID_DOT', pure)
    assert find_renderer() == (pure, 'MICROGRID_DOT')
    monkeypatch.setenv('MICROGRID_DOT', str(tmp_path / 'nothing-here'))
    with pytest.raises(RendererNotFoundError, match='MICROGRID_DOT'):
        find_renderer()


def test_no_renderer_at_all_says_what_to_install(monkeypatch, tmp_path):
    find_renderer_with_empty_path(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, 'executable', str(tmp_path / 'empty' / 'python'))
    monkeypatch.setattr(sysconfig, 'get_path', lambda *a, **k: str(tmp_path / 'empty'))
    with pytest.raises(RendererNotFoundError) as info:
        find_renderer()
    message = str(info.value)
    assert 'pip install graphviz-pure' in message and 'apt-get install graphviz' in message
    graph = draw(Value(1.0, 'a'))  # building the graph needs no renderer
    with pytest.raises(RendererNotFoundError):
        graph.pipe(format='svg')
    with pytest.warns(RuntimeWarning, match='graphviz-pure'):
        assert value_svg(Value(1.0)) is None


def test_digraph_pipe_render_and_jupyter_use_the_found_renderer(no_dot, tmp_path):
    import graphviz

    o, _ = neuron()
    g = draw(o)
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    assert bundle['image/svg+xml'].lstrip().startswith('<?xml')
    png = g.pipe(format='png')
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    out = g.render(outfile=tmp_path / 'neuron.svg')
    assert Path(out) == tmp_path / 'neuron.svg'
    ET.parse(out)
    assert not (tmp_path / 'neuron.gv').exists()  # no stray source next to the picture
    kept = g.render(outfile=tmp_path / 'kept.svg', cleanup=False)
    assert (tmp_path / 'kept.gv').read_text() == g.source and Path(kept).exists()
    default = g.render(filename='graph', directory=tmp_path, format='svg')
    assert Path(default) == tmp_path / 'graph.svg' and not (tmp_path / 'graph').exists()
    with pytest.raises(ValueError, match='format'):
        render_source('digraph {}', format='svg -o x')


def test_value_shows_its_graph_in_jupyter(no_dot):
    o, _ = neuron()
    svg = value_svg(o)
    _, nodes, _ = parse(svg)
    assert any(texts[0] == 'x1' for texts in nodes.values())
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        draw_module._show_values_as_graphs_in_ipython()
        data, _ = shell.display_formatter.format(o)
        assert data['image/svg+xml'] == svg
        assert data['text/plain'] == repr(o)
    finally:
        InteractiveShell.clear_instance()


@pytest.mark.skipif(SYSTEM_DOT is None, reason='no system Graphviz dot to compare with')
def test_both_renderers_lay_out_alike(monkeypatch, tmp_path):
    """Fonts are set explicitly, so the two renderers give (nearly) the same size."""
    o, _ = neuron()
    sizes = []
    for path in (os.environ['PATH'], str(tmp_path)):
        monkeypatch.setenv('PATH', path)
        root = ET.fromstring(to_svg(o, show_local_grads=True))
        sizes.append([float(root.get(k)[:-2]) for k in ('width', 'height')])
    (w1, h1), (w2, h2) = sizes
    assert w2 == pytest.approx(w1, rel=0.03) and h2 == pytest.approx(h1, rel=0.05)


def test_microgrid_draw_is_the_function_however_the_module_was_imported():
    import microgrid.draw  # importing the module must not rebind the name
    import microgrid.viz.draw  # nor importing it at its new place

    v = Value(1.0, 'v') * 2.0
    assert callable(microgrid.draw) and import_module('microgrid.draw') is draw_module
    assert microgrid.draw is draw and microgrid.draw(v).source == draw(v).source


def test_use_renderer_gives_render_source_a_function_and_none_gives_the_program_back(
    monkeypatch, tmp_path
) -> None:
    """The browser kernel's seam: with use_renderer(fn), every drawing goes through fn (no
    program is looked for, so none needs to exist); use_renderer(None) goes back."""
    from microgrid.viz import render

    calls = []

    def fake(source: str, format: str, engine: str) -> bytes:
        calls.append((source, format, engine))
        return b'<svg>fake</svg>'

    a = Value(2.0, 'a')
    graph = draw(a * 3.0)
    monkeypatch.setenv('PATH', str(tmp_path))  # no dot, no graphviz-pure to be found
    monkeypatch.setenv('MICROGRID_DOT', str(tmp_path / 'missing'))
    render.use_renderer(fake)
    try:
        assert graph.pipe(format='svg') == b'<svg>fake</svg>'
        assert render_source('digraph { a -> b }') == b'<svg>fake</svg>'
        assert calls[0][1:] == ('svg', 'dot') and 'digraph' in calls[0][0]
        with pytest.raises(ValueError):  # the arguments are still checked first
            render_source('digraph {}', format='svg -o x')
    finally:
        render.use_renderer(None)
    with pytest.raises(RendererNotFoundError):
        render_source('digraph { a -> b }')
    with pytest.raises(TypeError, match='function or None'):
        render.use_renderer('dot')
