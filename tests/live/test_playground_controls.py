"""The Playground's controls, asserted on values: settings to share, features, L1 beside L2,
dead units, discretized output, speed, new data, the class colours of the static plots, and
frames that carry only the new points of the curves."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid.live import Playground

JS = (Path(__file__).resolve().parents[2] / 'microgrid' / 'live' / 'playground.js').read_text()


def test_settings_are_a_small_dict_that_makes_the_same_playground():
    features = ['x1', 'x2', 'x1*x2']
    p = Playground('xor', noise=0.2, hidden=[3, 2], features=features, l1=0.001, seed=4, speed=10)
    s = p.settings
    assert json.loads(json.dumps(s)) == s  # plain values a teacher can paste
    assert s['hidden'] == [3, 2] and s['features'] == features and s['seed'] == 4
    q = Playground(**s)
    assert q.settings == s
    assert q.X_train == p.X_train and [v.data for v in q.model.parameters()] == [
        v.data for v in p.model.parameters()
    ]
    with pytest.raises(ValueError, match='each feature must be one of'):
        Playground(features=['x3'])
    p.close()
    q.close()


def test_features_are_the_networks_inputs():
    p = Playground('circles', features=['x1^2', 'x2^2', 'sin x1', 'x1*x2'], hidden=[4])
    assert p.model.nin == 4 and p.features == ['x1^2', 'x2^2', 'x1*x2', 'sin x1']
    a, b = p.X_train[0]
    assert p._inputs[0] == [a * a, b * b, a * b, math.sin(a)]
    p.set_state({'features': ['x2']})  # a toggle in the browser starts over
    assert p.model.nin == 1 and p.steps == 0
    p.close()


def test_l1_and_l2_are_added_to_the_loss():
    for l1, l2 in ((0.0, 0.0), (0.1, 0.0), (0.0, 0.1), (0.05, 0.02)):
        p = Playground('moons', n_points=40, hidden=[3], batch_size=1000, l1=l1, l2=l2)
        params = [v.data for v in p.model.parameters()]
        z = [p.model(x).data for x in p._inputs]
        terms = [max(t, 0) - y * t + math.log1p(math.exp(-abs(t))) for t, y in zip(z, p.y_train)]
        bce = sum(terms) / len(terms)
        expected = bce + l1 * sum(abs(w) for w in params) + l2 * sum(w * w for w in params)
        assert p._train_step() == pytest.approx(expected, rel=1e-9)
        p.close()


def test_dead_units_are_the_models_own_dead_units():
    p = Playground('moons', hidden=[5, 4], activation='relu')
    for k in (1, 3):  # make two units of the first layer output 0 everywhere
        n = p.model.layers[0].neurons[k]
        for w in n.w:
            w.data = 0.0
        n.b.data = -5.0
    p.step()
    dead = p.model.dead_units(p._inputs)
    flat = [i for i in dead[0]] + [5 + j for j in dead[1]]
    assert p.dead == flat and {1, 3} <= set(p.dead)
    p.close()


def test_discretize_and_resolution_change_the_pictures():
    p = Playground('moons', hidden=[6, 3], resolution=64)
    assert len(p.boundary) == 64 * 64 and len(p.neurons) == 9 * 24 * 24
    assert len(set(p.boundary)) > 2
    p.discretize = True
    assert set(p.boundary) <= {0, 255}
    p.resolution = 80
    assert len(p.boundary) == 80 * 80
    p.close()


def test_speed_limits_the_updates_a_second():
    p = Playground('moons', n_points=60, hidden=[4], speed=10)
    p.play()
    time.sleep(1.0)
    p.pause()
    assert 5 <= p.steps <= 12
    p.close()


def test_new_data_takes_the_next_seed():
    p = Playground('moons', seed=3)
    before = p.X_train
    p._message(p, {'event': 'regenerate'}, [])
    assert p.seed == 4 and p.X_train != before and p.steps == 0
    p.close()


def test_frames_carry_only_the_new_points_of_the_curves():
    p = Playground('moons', n_points=60, hidden=[4])
    sizes = []
    for _ in range(60):
        p.step()
        sizes.append(len(p.recent))
    assert max(sizes) < 25  # at most a batch of new points per frame
    whole = p.curves()
    assert len(whole['step']) == 61
    assert p.history['step'] + [r[0] for r in p.recent] == whole['step']  # what the view merges
    p.close()


def test_the_class_colours_are_the_static_plots():
    from matplotlib.colors import to_rgb

    found = re.search(r'CLASS0 = \[(\d+), (\d+), (\d+)\], CLASS1 = \[(\d+), (\d+), (\d+)\]', JS)
    rgb = [int(x) / 255 for x in found.groups()]
    # microgrid.plot scatters class 0 then class 1 in matplotlib's first two colours
    assert rgb[:3] == pytest.approx(to_rgb('tab:blue'), abs=1 / 255)
    assert rgb[3:] == pytest.approx(to_rgb('tab:orange'), abs=1 / 255)


def test_a_regression_problem_fits_its_targets_with_the_mean_squared_error():
    p = Playground('plane', hidden=[4], n_points=60, batch_size=1000, lr=0.03)
    assert p.problem == 'regression'
    assert all(-1 <= t <= 1 for t in p.y_train)
    a, b = p.X_train[0]
    assert p.y_train[0] == pytest.approx((a + b) / 3, abs=0.2)  # the plane, plus noise
    z = [p.model(x).data for x in p._inputs]
    mse = sum((u - t) ** 2 for u, t in zip(z, p.y_train)) / len(z)
    assert p.loss == pytest.approx(mse, rel=1e-9)  # the frame's loss is the MSE
    assert p._train_step() == pytest.approx(mse, rel=1e-9)
    p.step(200)
    assert p.loss < 0.1 * mse and p.curves()['train_acc'][-1] is None  # no accuracy
    p.dataset = 'moons'
    assert p.problem == 'classification' and set(p.y_train) == {0, 1}
    p.close()
