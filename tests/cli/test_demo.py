"""The main job: microgrid demo trains the classic network and writes four valid files."""

from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from microgrid import losses
from microgrid.cli import main
from microgrid.cli.demo import (
    FILES,
    chain_rule_example,
    classic_schedule,
    classic_setup,
    run_demo,
)

ROOT = Path(__file__).resolve().parents[2]
SVG = '{http://www.w3.org/2000/svg}'


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """One short demo through the command line, shared by the checks on its files."""
    out = tmp_path_factory.mktemp('demo') / 'nested' / 'out'  # the folder is created
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(['demo', '--steps', '3', '--seed', '7', '--out', str(out)])
    return status, stdout.getvalue(), stderr.getvalue(), out


def test_demo_exits_0_and_reports_loss_accuracy_and_files(demo_run):
    status, out, err, folder = demo_run
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith('microgrid demo: MLP(2, [16, 16, 1]) relu on 100 two-moons')
    assert '3 steps, seed 7' in lines[0]
    for name in FILES:
        assert any(line.startswith(f'wrote {folder / name} ') for line in lines), name
    assert lines[-1].startswith('done in ')
    assert '3/3' in err and 'loss=' in err and 'acc=' in err  # the progress bar
    assert 'Traceback' not in err


def test_demo_training_is_micrograds_setup(demo_run):
    """The printed loss and accuracy are those of the classic setup trained by hand."""
    _, out, _, _ = demo_run
    model, X, y, optimizer = classic_setup(seed=7)
    schedule = classic_schedule(optimizer, 3)
    params = model.parameters()
    labels = [2.0 * t - 1.0 for t in y]  # {0, 1} -> {-1, +1}
    for _ in range(3):
        scores = [model(x) for x in X]
        data_loss = sum(max(0.0, 1.0 - t * s.data) for t, s in zip(labels, scores)) / len(X)
        reg = 1e-4 * sum(p.data * p.data for p in params)
        loss = data_loss + reg
        accuracy = sum((s.data > 0) == (t > 0) for t, s in zip(labels, scores)) / len(X)
        total = losses.hinge(scores, labels) + 1e-4 * losses.l2(params)
        assert total.data == pytest.approx(loss, rel=1e-12)
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= optimizer.lr * p.grad
        schedule.step()
    assert f'final loss {loss:.4f}, accuracy {accuracy:.0%}' in out


def test_classic_schedule_is_micrograds_linear_decay():
    _, _, _, optimizer = classic_setup(seed=0)
    schedule = classic_schedule(optimizer, 10)
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.lr)
        schedule.step()
    assert lrs == pytest.approx([1.0 - 0.9 * k / 10 for k in range(10)], rel=1e-12)


def test_demo_svg_is_the_chain_rule_example_with_local_grads(demo_run):
    folder = demo_run[3]
    root = ET.parse(folder / 'neuron.svg').getroot()  # it parses
    assert root.tag == f'{SVG}svg'
    texts = [t.text for t in root.iter(f'{SVG}text') if t.text]
    for name in ('x1', 'x2', 'w1', 'w2', 'b', 'n', 'h', 'v', 'c', 'm', 'o', 'y', 'L', 'tanh'):
        assert name in texts, name
    assert 'x1*w1 + x2*w2' in texts  # a lecture-style composite label, shown as is
    data = {texts[i]: texts[i + 1].removeprefix('data ') for i in range(len(texts) - 1)}
    grads = {texts[i]: texts[i + 2].removeprefix('grad ') for i in range(len(texts) - 2)}
    # closed form: dL/dw1 = 2(o - y) * (1 - o^2) * v * (1 - h^2) * x1
    h = math.tanh(2.0 * -0.6 + 0.5 * 0.8 + 0.4)
    o = math.tanh(h * 1.5 + 0.3)
    dw1 = 2 * (o - 1.0) * (1 - o * o) * 1.5 * (1 - h * h) * 2.0
    assert float(grads['w1']) == pytest.approx(dw1, rel=1e-5)
    assert float(data['L']) == pytest.approx((o - 1.0) ** 2, rel=1e-5) and grads['L'] == '1.0'
    edge_labels = [t for t in texts if not t.startswith(('data ', 'grad '))]
    assert data['x1'] in edge_labels and data['v'] in edge_labels  # d(x1*w1)/dw1 = x1, ...


def test_demo_player_steps_multiply_non_trivial_upstream_gradients():
    L = chain_rule_example()
    steps = list(L.backward_steps())
    assert len(steps) == 18  # the seed and 17 edges
    below_the_loss = steps[2:]
    assert all(abs(s.upstream) not in (0.0, 1.0) for s in below_the_loss)
    assert sum(s.local_grad not in (0.0, 1.0) for s in steps) >= 8


def test_demo_html_has_the_player(demo_run):
    page = (demo_run[3] / 'neuron_backprop.html').read_text(encoding='utf-8')
    assert page.startswith('<!DOCTYPE html>')
    assert 'class="mg-player"' in page and '<svg' in page
    for act in ('prev', 'play', 'next'):
        assert f'data-act="{act}"' in page
    assert 'step 1 / 18' in page
    # a step through the composite labels, wrapped so that it reads clearly
    assert (
        '(x1*w1).grad += d(x1*w1 + x2*w2)/d(x1*w1) * (x1*w1 + x2*w2).grad = 1.0 * -3.01815 '
        '= -3.01815, so (x1*w1).grad = -3.01815'
    ) in page


def test_demo_gif_has_a_frame_per_epoch(demo_run):
    from PIL import Image

    with Image.open(demo_run[3] / 'training.gif') as im:
        assert im.format == 'GIF'
        assert im.n_frames == 1 + 3  # the untrained model, then every one of the 3 steps


def test_demo_loss_curve_is_a_png(demo_run):
    from PIL import Image

    with Image.open(demo_run[3] / 'loss.png') as im:
        assert im.format == 'PNG' and im.width > 300 and im.height > 200


def test_demo_into_a_file_is_a_one_line_error(capsys, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    status = main(['demo', '--steps', '1', '--out', str(blocker / 'out')])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count('\n') == 1 and err.startswith('microgrid: error: cannot write')
    assert 'Traceback' not in err


@pytest.mark.parametrize(
    'kwargs, error',
    [
        ({'steps': 0}, ValueError),
        ({'steps': 2.5}, TypeError),
        ({'seed': '1'}, TypeError),
        ({'frames': 0}, ValueError),
        ({'out': 3}, TypeError),
    ],
)
def test_run_demo_checks_its_arguments(kwargs, error, tmp_path):
    kwargs.setdefault('out', tmp_path)
    with pytest.raises(error):
        run_demo(**kwargs)
    assert list(tmp_path.iterdir()) == []


def test_demo_as_a_process(tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    p = subprocess.run(
        [sys.executable, '-m', 'microgrid', 'demo', '--steps', '1', '--out', 'here'],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert 'Traceback' not in p.stderr
    assert sorted(f.name for f in (tmp_path / 'here').iterdir()) == sorted(FILES)
    assert math.isfinite(float(p.stdout.split('final loss ')[1].split(',')[0]))
