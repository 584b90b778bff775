"""microgrid.live on the Python side: the widgets' traits, numbers and threads.

The browser side is tests/live/test_live_browser.py. Here: each widget's state after each
change equals a fresh eager computation, bad input is refused at construction, the
playground learns and pauses, and ``import microgrid`` does not load anywidget.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microgrid import Value, name_of
from microgrid.draw import GraphTooLargeError, collect_nodes

live = pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid.live import Explorer, Playground, Stepper  # noqa: E402
from microgrid.live.explorer import num  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_import_microgrid_does_not_load_the_widget_libraries():
    code = (
        'import sys, microgrid, microgrid.nn, microgrid.player; '
        'print(sorted(m for m in ("anywidget", "ipywidgets", "traitlets", "microgrid.live") '
        'if m in sys.modules))'
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'


def test_without_anywidget_the_error_says_what_to_install():
    code = (
        'import sys; sys.modules["anywidget"] = None\n'
        'try:\n    import microgrid.live\nexcept ImportError as e:\n    print(e)'
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert "pip install 'microgrid-autodiff[live]'" in out.stdout


def test_the_scripts_and_styles_ship_in_the_package_and_fetch_nothing():
    folder = ROOT / 'microgrid' / 'live'
    for name in ('common.js', 'stepper.js', 'explorer.js', 'playground.js', 'live.css'):
        text = (folder / name).read_text()
        assert not re.search(r'https?://|@import|\bfetch\(|import\s*\(', text), name
    common = (folder / 'common.js').read_text()
    for cls, name in ((Stepper, 'stepper.js'), (Explorer, 'explorer.js'),
                      (Playground, 'playground.js')):  # fmt: skip
        # each widget's module is the shared helpers, then its own script
        assert str(cls._esm) == common + '\n' + (folder / name).read_text()
        esm = str(cls._esm)
        assert 'function safeWidget(' in esm and 'export default safeWidget(' in esm
        assert str(cls._css) == (folder / 'live.css').read_text()


def neuron():
    a, b, c = Value(2.0, 'a'), Value(-3.0, 'b'), Value(10.0, 'c')
    e = a * b
    d = e + c
    t = d.tanh()
    L = t * a
    return locals()


# -- Stepper -----------------------------------------------------------------------------


def test_stepper_shows_each_step_of_backward_with_its_grads_and_highlight():
    g = neuron()
    L = g['L']
    s = Stepper(L, names=g)
    order = collect_nodes(L, 500)
    names = {v: k for k, v in reversed(list(g.items())) if isinstance(v, Value)}
    expected = list(L.backward_steps())  # a fresh run, with the engine's own numbers
    running = dict.fromkeys(order, None)
    assert len(s) == len(expected) == 8
    for k, step in enumerate(expected):
        assert s.goto(k) == k == s.position
        node = step.node if step.parent is None else step.parent
        running[node] = step.upstream if step.parent is None else step.parent_grad
        assert s.current == names[node]
        assert s.caption.startswith(f'{names[node]}.grad')
        if step.parent is not None:
            assert f'* {names[step.node]}.grad' in s.caption
            assert (
                f'= {step.contribution!r}' in s.caption or f'{step.contribution:.6g}' in s.caption
            )
            i = order.index(step.node)
            assert f'v{order.index(step.parent)}' in s.highlight
            assert any(h.startswith(f'e{i}_') for h in s.highlight)
        else:
            assert s.highlight == [f'v{order.index(L)}']
        shown = s.grads
        for v in order:
            want = 'grad ?' if running[v] is None else None
            if want:
                assert shown[names[v]] == want
            else:
                assert float(shown[names[v]].split()[1]) == pytest.approx(running[v], rel=1e-5)
    for v in order:
        v.grad = 0.0
    L.backward()
    assert float(s.grads['a'].split()[1]) == pytest.approx(g['a'].grad, rel=1e-5)


def test_stepper_moves_from_python_and_stays_in_range():
    s = Stepper(neuron()['L'])
    captions = [s.caption]
    assert s.step() == 1 and s.step() == 2
    captions.append(s.caption)
    assert s.back() == 1 and s.back() == 0 and s.back() == 0
    assert s.goto(-1) == len(s) - 1 and s.step() == len(s) - 1
    s.position = 10_000  # as the browser would set it: clamped
    assert s.position == len(s) - 1
    s.play()
    assert s.playing and s.position == 0
    s.reset()
    assert not s.playing and s.position == 0 and s.caption == captions[0] != captions[1]
    with pytest.raises(IndexError, match='out of range'):
        s.goto(len(s))
    with pytest.raises(TypeError):
        s.goto(1.5)


def test_stepper_leaves_the_graphs_grads_alone():
    g = neuron()
    g['a'].grad = 7.0
    Stepper(g['L'])
    assert g['a'].grad == 7.0 and g['L'].grad == 0.0


def test_stepper_refuses_bad_input():
    with pytest.raises(TypeError, match='needs a Value'):
        Stepper(3.0)
    x = Value(1.0)
    y = x
    for _ in range(30):
        y = y * 1.01 + 0.5
    with pytest.raises(GraphTooLargeError, match=r'has 61 nodes, .*; pass max_nodes=61 to show it'):
        Stepper(y, max_nodes=10)
    with pytest.raises(TypeError, match='names must be a mapping'):
        Stepper(y, names=['x'])
    with pytest.raises(ValueError, match='interval'):
        Stepper(y, interval=0)


# -- Explorer ----------------------------------------------------------------------------


def fresh(a, b, c):
    """The same function, eagerly, on new Values."""
    va, vb, vc = Value(a), Value(b), Value(c)
    out = (va * vb + vc).tanh()
    out.backward()
    return out, {'a': va.grad, 'b': vb.grad, 'c': vc.grad}


def test_explorer_numbers_equal_a_fresh_eager_computation():
    e = Explorer(lambda a, b, c: (a * b + c).tanh(), a=2.0, b=-3.0, c=6.5)
    assert e.leaves == ['a', 'b', 'c']
    for a, b, c in [(2.0, -3.0, 6.5), (1.9, -3.0, 6.5), (1.9, 0.25, 6.5), (-4.0, 0.25, -1.0)]:
        e.set(a=a, b=b, c=c)
        out, grads = fresh(a, b, c)
        assert e.output == out.data
        assert e.grads == grads  # the same engine, the same numbers, bit for bit
        order = collect_nodes(e.root, 200)
        assert e.view['data'] == [f'data {num(v.data)}' for v in order]
        assert e.view['grad'] == [f'grad {num(v.grad)}' for v in order]
        assert e.view['local'] == [[num(d) for d in v.local_grads] for v in order]
        t = math.tanh(a * b + c)
        assert grads['a'] == pytest.approx((1 - t * t) * b, rel=1e-12)


def test_explorer_shows_the_change_of_the_output_beside_grad_times_nudge():
    e = Explorer(lambda a, b, c: (a * b + c).tanh(), a=2.0, b=-3.0, c=6.5)
    out0, g0 = fresh(2.0, -3.0, 6.5)
    e.set(a=2.001)
    out1, _ = fresh(2.001, -3.0, 6.5)
    assert e.view['delta'] == pytest.approx(out1.data - out0.data, rel=1e-12)
    assert e.view['predicted'] == pytest.approx(g0['a'] * 0.001, rel=1e-9)
    assert e.view['predicted'] == pytest.approx(e.view['delta'], rel=1e-2)  # the point
    e.set(a=2.002)  # the same leaf: still measured from a = 2.0
    assert e.view['nudges']['a'] == pytest.approx(0.002)
    e.set(b=-2.9)  # another leaf: the reference moves to (2.002, -3.0)
    assert e.reference['values'] == {'a': 2.002, 'b': -3.0, 'c': 6.5}
    assert e.view['nudges'] == pytest.approx({'a': 0.0, 'b': 0.1, 'c': 0.0})
    e.pin()
    assert e.view['delta'] == 0.0 and e.view['predicted'] == 0.0


def test_explorer_keeps_its_layout_and_redraws_when_the_graph_changes_shape():
    e = Explorer(lambda x: x.relu() if x.data > 0 else x * x, x=1.0)
    svg = e.svg
    e.set(x=2.0)
    assert e.svg == svg  # same shape: the same drawing, only numbers change
    e.set(x=-1.0)
    assert e.svg != svg and e.output == 1.0 and e.grads == {'x': -2.0}


def test_explorer_shows_an_error_from_fn_in_the_widget():
    e = Explorer(lambda x: x.log(), x=1.0)
    e.values = {'x': -1.0}  # as a slider would: no exception into the kernel
    assert 'log' in e.error and 'ValueError' in e.error
    with pytest.raises(ValueError, match='log'):
        e.set(x=-2.0)
    e.set(x=2.0)
    assert e.error == '' and e.grads == {'x': 0.5}


def test_explorer_refuses_bad_input():
    with pytest.raises(TypeError, match='needs a function'):
        Explorer(3.0, a=1.0)
    with pytest.raises(TypeError, match="leaf 'a' must be a finite number"):
        Explorer(lambda a: a, a='2')
    with pytest.raises(TypeError, match="leaf 'a'"):
        Explorer(lambda a: a, a=True)
    with pytest.raises(TypeError, match="leaf 'a'"):
        Explorer(lambda a: a, a=math.nan)
    with pytest.raises(ValueError, match='at least one leaf'):
        Explorer(lambda: Value(1.0))
    with pytest.raises(TypeError, match='must return a Value'):
        Explorer(lambda a: 3.0, a=1.0)
    with pytest.raises(TypeError, match='cannot be called with the leaves'):
        Explorer(lambda a: a, b=1.0)

    def big(a):
        for _ in range(50):
            a = a * 1.01
        return a

    with pytest.raises(GraphTooLargeError, match='max_nodes'):
        Explorer(big, a=1.0, max_nodes=20)
    e = Explorer(lambda a: a * 2, a=1.0)
    with pytest.raises(ValueError, match='unknown leaves'):
        e.set(z=1.0)


# -- Playground --------------------------------------------------------------------------


def test_playground_loss_falls_on_moons_within_150_steps():
    p = Playground('moons', hidden=[16, 16], batch_size=32, seed=0)
    first, first_acc = p.val_loss, p.curves()['val_acc'][0]
    p.step(150)
    assert p.steps == 150 and p.epoch == pytest.approx(150 * 32 / len(p.X_train))
    assert p.loss < 0.5 * p.curves()['train_loss'][0]
    assert p.val_loss < 0.5 * first
    assert p.curves()['val_acc'][-1] >= 0.9 and p.curves()['val_acc'][-1] > first_acc


def test_playground_pictures_are_the_live_model_on_the_grid():
    p = Playground('xor', hidden=[4], activation='relu', seed=1, resolution=8)
    p.step(20)
    res = p.resolution
    x0, x1, y0, y1 = p.box
    hidden_layer = p.model.layers[0]
    for r, c in [(0, 0), (3, 5), (7, 7)]:
        x = x0 + (x1 - x0) * c / (res - 1)
        y = y1 - (y1 - y0) * r / (res - 1)
        logit = p.model([x, y]).data  # the engine, on the live model
        prob = 1 / (1 + math.exp(-logit))
        assert p.boundary[r * res + c] == pytest.approx(prob * 255, abs=1)
        hidden = [n([x, y]).data for n in hidden_layer.neurons]
        assert len(p.neurons) == 4 * res * res
        assert all(0 <= p.neurons[j * res * res + r * res + c] <= 255 for j in range(4))
        j = max(range(4), key=lambda j: hidden[j])
        if hidden[j] == 0:
            assert p.neurons[j * res * res + r * res + c] in (127, 128)
    # losses on the whole sets, from numpy, equal the engine's
    from microgrid import losses

    outs = [p.model(x) for x in p.X_val]
    assert p.val_loss == pytest.approx(losses.binary_cross_entropy(outs, p.y_val).data, rel=1e-9)


def test_playground_plays_in_the_background_and_pause_stops_updates():
    p = Playground('moons', hidden=[16, 16], batch_size=32, seed=0, fps=20)
    p.play()
    try:
        end = time.monotonic() + 20
        while p.frame < 4 and time.monotonic() < end:
            time.sleep(0.05)
        assert p.frame >= 4, 'no frames while playing'
        assert p.running
        x = p.model([0.0, 0.0]).data  # the kernel stays usable: the live model answers
        assert math.isfinite(x)
        with pytest.raises(RuntimeError, match='pause'):
            p.step()
    finally:
        t = time.perf_counter()
        p.pause()
        took = time.perf_counter() - t
    assert took < 0.5
    assert not p.running
    frame, steps, params = p.frame, p.steps, [v.data for v in p.model.parameters()]
    time.sleep(0.6)
    assert (p.frame, p.steps) == (frame, steps)
    assert [v.data for v in p.model.parameters()] == params


def test_playground_answers_the_browsers_trait_changes():
    p = Playground('circles', seed=0)
    p.running = True  # the play button sets the trait
    try:
        end = time.monotonic() + 20
        while p.frame < 3 and time.monotonic() < end:
            time.sleep(0.05)
        p.lr = 0.1  # live: the same optimizer, a new rate
        assert p._opt.lr == 0.1
    finally:
        p.running = False
    p.pause()
    assert p.steps > 0
    p.hidden = [3]  # the network changes: start over
    assert p.steps == 0 and p.model.nouts == [3, 1] and len(p.curves()['step']) == 1
    p.optimizer = 'momentum'
    assert p._opt.momentum == 0.9
    p.dataset = 'spiral'
    assert len(p.points) == p.n_points
    p._message(p, {'event': 'step'}, [])
    assert p.steps == 1
    p._message(p, {'event': 'reset'}, [])
    assert p.steps == 0


def test_playground_starts_over_at_once_when_the_browser_changes_the_network_while_playing():
    p = Playground('moons', seed=0, fps=50)
    p.play()
    end = time.monotonic() + 20
    while p.frame < 3 and time.monotonic() < end:
        time.sleep(0.02)
    t = time.perf_counter()
    p.set_state({'hidden': [5]})  # a message from the browser, handled in the kernel
    took = time.perf_counter() - t
    assert took < 0.5 and not p.running
    assert p.model.nouts == [5, 1] and p.steps == 0 and len(p.curves()['step']) == 1
    frame = p.frame
    time.sleep(0.3)
    assert p.frame == frame  # no stale frame of the old network arrives later


@pytest.mark.parametrize('name', ['moons', 'circles', 'xor', 'spiral', 'blobs'])
def test_playground_makes_every_data_set(name):
    p = Playground(name, n_points=40, noise=0.2, seed=3)
    assert len(p.X_train) + len(p.X_val) == 40 and len(p.X_val) == 10
    assert set(p.y_train) == {0, 1}
    span = p.box[1]
    assert all(abs(a) <= span and abs(b) <= span for a, b in p.X_train + p.X_val)
    p.step(5)
    assert all(math.isfinite(v) for v in p.curves()['train_loss'])


def test_playground_refuses_bad_input():
    with pytest.raises(ValueError, match="dataset must be one of 'moons'.*got 'moon'"):
        Playground('moon')
    with pytest.raises(ValueError, match='hidden.1. is a layer of width 0'):
        Playground(hidden=[8, 0])
    with pytest.raises(TypeError, match='hidden must be a list'):
        Playground(hidden=8)
    with pytest.raises(ValueError, match='activation'):
        Playground(activation='gelu')
    with pytest.raises(ValueError, match='optimizer'):
        Playground(optimizer='rmsprop')
    with pytest.raises(ValueError, match='lr must be > 0'):
        Playground(lr=0)
    with pytest.raises(TypeError, match='batch_size must be an int'):
        Playground(batch_size=2.5)
    with pytest.raises(ValueError, match='n_points must be >= 8'):
        Playground(n_points=3)
    with pytest.raises(ValueError, match='noise'):
        Playground(noise=-1)
    p = Playground(seed=0)
    import traitlets

    with pytest.raises(traitlets.TraitError, match='width 0'):
        p.hidden = [0]
    assert p.hidden == [8, 8]


def test_name_of_still_names_unlabelled_nodes():
    v = Value(1.0) * 2
    assert name_of(v).startswith('v')


def test_every_widget_keeps_its_keys_pings_its_kernel_and_applies_on_enter():
    # the behaviour itself is checked in a real browser (test_live_browser.py, Notebook 7 too)
    folder = ROOT / 'microgrid' / 'live'
    for name in ('stepper.js', 'explorer.js', 'playground.js'):
        text = (folder / name).read_text()
        assert 'keepKeys(root)' in text and 'heartbeat(model, root' in text, name
        assert 'beat.stop()' in text, name  # a view that goes away says goodbye
    for name, boxes in (('explorer.js', 1), ('playground.js', 2)):
        assert (folder / name).read_text().count('applyOnEnter(') == boxes, name


def test_the_widget_state_is_saved_with_the_notebook_where_microgrid_is_installed():
    # the wheel (and pip install -e) puts jupyter/microgrid-autodiff.json where JupyterLab
    # and Notebook 7 read their default overrides; test_live_reopen.py checks what it does
    tomllib = pytest.importorskip('tomllib')  # Python 3.11+
    setting = json.loads((ROOT / 'jupyter' / 'microgrid-autodiff.json').read_text())
    assert setting == {'@jupyter-widgets/jupyterlab-manager:plugin': {'saveState': True}}
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    shared = project['tool']['hatch']['build']['targets']['wheel']['shared-data']
    where = 'share/jupyter/lab/settings/overrides.d/microgrid-autodiff.json'
    assert shared == {'jupyter/microgrid-autodiff.json': where}
    assert 'jupyter/' in project['tool']['hatch']['build']['targets']['sdist']['include']
    schema = Path(sys.prefix) / 'share' / 'jupyter' / 'labextensions' / '@jupyter-widgets'
    schema = schema / 'jupyterlab-manager' / 'schemas' / '@jupyter-widgets'
    schema = schema / 'jupyterlab-manager' / 'plugin.json'
    if schema.exists():  # the setting's name is the widget manager's own
        assert json.loads(schema.read_text())['properties']['saveState']['type'] == 'boolean'
