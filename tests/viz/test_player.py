"""The backprop player and its frames: one per backward step, one layout, true gradients."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path

import pytest

import microgrid
from microgrid import Value
from microgrid.viz.draw import HIGHLIGHT, collect_nodes, find_renderer
from microgrid.viz.player import DONE_FILL, backprop_frames, backprop_gif, backprop_player

torch = pytest.importorskip('torch', reason='torch (a dev dependency) gives the reference grads')

SVG = '{http://www.w3.org/2000/svg}'


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path):
    """Render with graphviz-pure, as on a machine without Graphviz (test_draw covers dot)."""
    empty = tmp_path / 'empty-bin'
    empty.mkdir()
    monkeypatch.setenv('PATH', str(empty))
    monkeypatch.delenv('MICROGRID_DOT', raising=False)
    assert find_renderer().kind == 'graphviz-pure'


def graph():
    """L = (a*b + c) * relu(a) - a**2, with a used three times."""
    a, b, c = Value(2.0, 'a'), Value(-3.0, 'b'), Value(10.0, 'c')
    d = a * b + c
    d.label = 'd'
    L = d * a.relu() - a**2
    L.label = 'L'
    return L, {'a': a, 'b': b, 'c': c}


def torch_grads(leaves):
    t = {
        k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in leaves.items()
    }
    a, b, c = t['a'], t['b'], t['c']
    L = (a * b + c) * torch.relu(a) - a**2
    L.backward()
    return {k: v.grad.item() for k, v in t.items()}


def n_steps(root: Value) -> int:
    return 1 + sum(len(v.parents) for v in collect_nodes(root, 10_000))


def player_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)
    assert found, 'the player has no data block'
    return json.loads(found.group(1))


def test_one_frame_per_step_and_no_external_url(tmp_path):
    L, _ = graph()
    page = backprop_player(L, tmp_path / 'player.html')
    assert (tmp_path / 'player.html').read_text(encoding='utf-8') == page
    data = player_data(page)
    steps = list(L.backward_steps())
    assert len(data['frames']) == len(steps) == n_steps(L) == 11
    assert not re.search(r'https?:|//[a-z]|<link|\bsrc\s*=|@import|url\(', page, re.I)
    assert page.startswith('<!DOCTYPE html>') and '</html>' in page
    for act in ('prev', 'next', 'play'):
        assert f'data-act="{act}"' in page
    assert 'type="range"' in page and 'ArrowRight' in page and 'ArrowLeft' in page
    # the frames follow backward_steps: the seed, then each edge in order
    order = collect_nodes(L, 500)
    index = {v: i for i, v in enumerate(order)}
    seen: dict = {}
    prefix = data['prefix']
    for frame, step in zip(data['frames'], steps):
        target, text, state, hot, caption = frame
        if step.is_seed:
            assert hot == [f'v{index[L]}'] and text == 'grad 1.0'
            continue
        k = seen.get(step.node, 0)
        seen[step.node] = k + 1
        assert step.node.parents[k] is step.parent
        assert target == index[step.parent]
        assert f'e{index[step.node]}_{k}' in hot
        assert float(text.split()[1]) == pytest.approx(step.parent_grad)
        assert f'{prefix}e{index[step.node]}_{k}' in page  # the edge exists in the SVG


def test_frames_share_one_layout_and_end_with_the_true_gradients(tmp_path):
    L, leaves = graph()
    expected = torch_grads(leaves)
    paths = backprop_frames(L, tmp_path / 'frames', format='svg')
    assert len(paths) == n_steps(L)
    assert [p.name for p in paths] == sorted(p.name for p in paths)

    def geometry(path: Path):
        root = ET.parse(path).getroot()
        keep = ('points', 'd', 'cx', 'cy', 'rx', 'ry', 'x', 'y', 'width', 'height', 'viewBox')
        return [(el.tag, tuple(el.get(k) for k in keep)) for el in root.iter()]

    first = geometry(paths[0])
    assert all(geometry(p) == first for p in paths[1:])

    last = ET.parse(paths[-1]).getroot()
    grads = {}
    for g in last.iter(f'{SVG}g'):
        texts = [t.text for t in g.iter(f'{SVG}text')]
        if g.get('class', '').startswith('node') and len(texts) == 3:
            grads[texts[0]] = float(texts[2].split()[1])
            assert g.find(f'{SVG}polygon').get('fill') == DONE_FILL  # all of it has arrived
    for name, value in expected.items():
        assert grads[name] == pytest.approx(value, rel=1e-9)
    assert grads['L'] == 1.0

    # the first frame: only the root is known; the rest still say 'grad ?'
    root0 = ET.parse(paths[0]).getroot()
    texts0 = [[t.text for t in g.iter(f'{SVG}text')] for g in root0.iter(f'{SVG}g')]
    records = [t for t in texts0 if len(t) == 3]
    assert sorted(t[2] for t in records).count('grad ?') == len(records) - 1


def test_each_frame_highlights_its_edge(tmp_path):
    x = Value(3.0, 'x')
    y = x * x  # two edges from x to the same op: frames 1 and 2 light different edges
    paths = backprop_frames(y, tmp_path, format='svg')
    assert len(paths) == 3

    def hot(path):
        root = ET.parse(path).getroot()
        return {
            g.get('id').split('-', 1)[1]
            for g in root.iter(f'{SVG}g')
            if 'current' in (g.get('class') or '')
            and any(el.get('stroke') == HIGHLIGHT for el in g)
        }

    assert hot(paths[0]) == {'v1'}
    assert hot(paths[1]) == {'e1_0', 'f1', 'o1', 'v0'}
    assert hot(paths[2]) == {'e1_1', 'f1', 'o1', 'v0'}
    captions = [
        [t.text for t in ET.parse(p).getroot().find(f'{SVG}g').findall(f'{SVG}text')][0]
        for p in paths
    ]
    assert captions[1].endswith('so x.grad = 3.0') and captions[2].endswith('so x.grad = 6.0')


def test_the_users_grads_are_left_as_they_were(tmp_path):
    L, leaves = graph()
    L.backward()
    leaves['a'].grad = 123.0  # as if accumulated from an earlier pass
    before = {v: v.grad for v in collect_nodes(L, 500)}
    backprop_player(L)
    backprop_frames(L, tmp_path, format='svg')
    backprop_gif(L, tmp_path / 'x.gif', scale=0.5)
    assert {v: v.grad for v in collect_nodes(L, 500)} == before
    # and the frames showed this pass alone (leaf grads zeroed first), not 123 + ...
    data = player_data(backprop_player(L))
    a_index = collect_nodes(L, 500).index(leaves['a'])
    last_a = [f[1] for f in data['frames'] if f[0] == a_index][-1]
    assert float(last_a.split()[1]) == pytest.approx(torch_grads(leaves)['a'])


def test_png_frames_and_the_gif(tmp_path):
    from PIL import Image

    L, _ = graph()
    paths = backprop_frames(L, tmp_path / 'png', format='png', scale=1.0)
    assert len(paths) == n_steps(L)
    sizes = set()
    red = tuple(int(HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5))
    for p in paths:
        with Image.open(p) as im:
            assert im.format == 'PNG'
            sizes.add(im.size)
            rgb = im.convert('RGB')
            colours = rgb.getcolors(maxcolors=1 << 20)
            assert len(colours) > 50  # text, shapes and anti-aliasing: not a blank image
            near_red = sum(n for n, c in colours if sum(abs(a - b) for a, b in zip(c, red)) < 40)
            assert near_red > 50  # the highlighted edge is drawn
    assert len(sizes) == 1
    gif = backprop_gif(L, tmp_path / 'steps.gif', duration=300, last_duration=1000, scale=0.8)
    with Image.open(gif) as im:
        assert im.n_frames == n_steps(L)
        assert im.info['loop'] == 0
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info['duration'])
        assert durations[0] == 300 and durations[-1] == 1000


def test_hostile_labels_stay_text_in_the_player():
    a = Value(1.0, '</script><script>alert(1)</script>')
    b = Value(2.0, '<img src=x onerror=alert(2)>&amp;')
    out = a * b
    out.label = '{|}"\\'
    page = backprop_player(out)
    assert '<script>alert' not in page and '<img' not in page
    assert page.count('<script') == 2  # the data block and the player's own script
    assert '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in page
    data = player_data(page)  # the JSON survives the trip and holds the names as text
    assert any('</script><script>alert(1)</script>' in f[4] for f in data['frames'])


def test_notebook_display_and_bad_arguments(tmp_path):
    L, _ = graph()
    page = backprop_player(L)
    fragment = page._repr_html_()
    assert '<html' not in fragment and 'mg-player' in fragment and '<svg' in fragment
    with pytest.raises(ValueError, match='format'):
        backprop_frames(L, tmp_path, format='jpeg')
    with pytest.raises(TypeError, match='Value'):
        backprop_player(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='interval'):
        backprop_player(L, interval=0)
    with pytest.raises(ValueError, match='duration'):
        backprop_gif(L, tmp_path / 'x.gif', duration=-1)
    big = microgrid.sum(Value(float(i)) for i in range(30))
    with pytest.raises(ValueError, match='max_nodes'):
        backprop_player(big, max_nodes=10)


def test_a_lone_leaf_has_just_the_seed_frame():
    data = player_data(backprop_player(Value(5.0, 'w')))
    assert len(data['frames']) == 1 and data['frames'][0][1] == 'grad 1.0'


# -- the player's entry points check their arguments at the door -------------------------


def _small_graph():
    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    return a * b + a


@pytest.mark.parametrize(
    'call, error, words',
    [
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop='a'),
            TypeError,
            'loop must be an int',
        ),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=-1),
            ValueError,
            'loop must be an int in',
        ),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=True), TypeError, 'loop'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', duration='9'), TypeError, 'duration'),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', last_duration=1.5),
            TypeError,
            'last_duration',
        ),
        (lambda p, L, t: p.backprop_gif(L, 3), TypeError, 'path must be a str or os.PathLike'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', scale='2'), TypeError, 'scale'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir=1), TypeError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir='XY'), ValueError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', max_nodes='5'), TypeError, 'max_nodes'),
        (lambda p, L, t: p.backprop_gif('L', t / 'x.gif'), TypeError, 'needs a Value'),
        (lambda p, L, t: p.backprop_frames(L, 7), TypeError, 'folder must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, format=None), TypeError, 'format must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, names=[1]), TypeError, 'names must be a mapping'),
        (lambda p, L, t: p.backprop_player(L, path=5), TypeError, 'path must be a str'),
        (lambda p, L, t: p.backprop_player(L, interval='fast'), TypeError, 'interval'),
        (
            lambda p, L, t: p.backprop_player(L, show_local_grads='no'),
            TypeError,
            'show_local_grads',
        ),
        (lambda p, L, t: p.backprop_player(L, max_nodes=0), ValueError, 'max_nodes'),
    ],
)
def test_player_entry_points_check_argument_types_at_the_door(
    call, error, words, tmp_path, monkeypatch
):
    player = import_module('microgrid.viz.player')

    def no_work(*args, **kwargs):
        raise AssertionError('work started before the arguments were checked')

    monkeypatch.setattr(player, '_scene', no_work)
    out = tmp_path / 'out'  # tmp_path also holds this file's empty-bin
    out.mkdir()
    with pytest.raises(error, match=words):
        call(player, _small_graph(), out)
    assert list(out.iterdir()) == []
