"""microgrid.plot: curves, boundaries and weights hold the right numbers; the GIF its frames.

The plots are checked on small hand-written models; the tests that train use the real
nn, optim, data and training modules.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from microgrid import Value
from microgrid.viz.plot import (
    decision_grid,
    plot_decision_boundary,
    plot_history,
    plot_weights,
    training_animation,
)


def needs(name: str):
    return pytest.importorskip(
        f'microgrid.{name}', reason=f'microgrid.{name} (issue 4) is not in this checkout'
    )


class Neuron:
    def __init__(self, weights):
        self.w = [Value(w) for w in weights]


class Layer:
    def __init__(self, rows):
        self.neurons = [Neuron(r) for r in rows]


class TinyNet:
    """tanh hidden layer of 3, one linear output: a hand-written 2-D classifier."""

    def __init__(self):
        rng = random.Random(0)
        self.layers = [Layer([[rng.uniform(-2, 2) for _ in range(2)] for _ in range(3)])]
        self.v = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def __call__(self, x):
        hidden = [
            sum((w * xi for w, xi in zip(n.w, x)), Value(0.0)).tanh()
            for n in self.layers[0].neurons
        ]
        return sum((v * h for v, h in zip(self.v, hidden)), Value(0.0))


def moons(n=30):
    """Two noisy half circles, written out here (class 0 above, class 1 below)."""
    rng = random.Random(1)
    X, y = [], []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2)
        if i % 2:
            X.append([1 - math.cos(t) + rng.gauss(0, 0.1), 0.5 - math.sin(t) + rng.gauss(0, 0.1)])
        else:
            X.append([math.cos(t) + rng.gauss(0, 0.1), math.sin(t) + rng.gauss(0, 0.1)])
        y.append(i % 2)
    return X, y


def not_blank(path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        colours = im.convert('RGB').getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 20


def test_history_curves_hold_the_numbers(tmp_path):
    history = {'loss': [1.0, 0.5, 0.25, 0.2], 'accuracy': [0.5, 0.75, 0.9, 1.0]}
    fig = plot_history(history, tmp_path / 'h.png')
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[0].get_ydata()) == history['loss']
    assert list(acc_ax.lines[0].get_ydata()) == history['accuracy']
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2, 3, 4]
    not_blank(tmp_path / 'h.png')
    assert len(plot_history({'loss': [3.0, 2.0]}).axes) == 1  # mse: no accuracy
    with pytest.raises(TypeError, match='loss'):
        plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match='accuracies'):
        plot_history({'loss': [1.0, 2.0], 'accuracy': [0.5]})
    with pytest.raises(TypeError, match='number'):
        plot_history({'loss': [1.0, 'x']})


def test_the_decision_grid_matches_the_closed_form():
    X = [[-1.0, -1.0], [1.0, 1.0]]

    def line(x):  # class 1 where x0 - 2 x1 + 0.5 > 0
        return Value(x[0]) - 2 * Value(x[1]) + 0.5

    xx, yy, Z, binary = decision_grid(line, X, resolution=7, margin=0.5)
    assert binary and Z.shape == (7, 7)
    np.testing.assert_allclose(xx[0], np.linspace(-1.5, 1.5, 7))
    np.testing.assert_allclose(Z, xx - 2 * yy + 0.5)

    def three(x):  # logits: the largest of x0, x1, -x0 wins
        return [Value(x[0]), Value(x[1]), Value(-x[0])]

    xx, yy, Z, binary = decision_grid(three, X, resolution=9)
    assert not binary
    np.testing.assert_array_equal(Z, np.argmax(np.stack([xx, yy, -xx]), axis=0))


def test_decision_boundary_plot(tmp_path):
    X, y = moons()
    model = TinyNet()
    fig = plot_decision_boundary(model, X, y, tmp_path / 'b.png', resolution=15, title='moons')
    ax = fig.axes[0]
    assert ax.get_title() == 'moons'
    from matplotlib.collections import PathCollection

    scatters = [c for c in ax.collections if type(c) is PathCollection]
    offsets = np.concatenate([c.get_offsets() for c in scatters])
    assert sorted(map(tuple, offsets.tolist())) == sorted(map(tuple, X))  # every point drawn
    not_blank(tmp_path / 'b.png')
    with pytest.raises(ValueError, match='2-D'):
        plot_decision_boundary(model, [[1.0, 2.0, 3.0]], [0])
    with pytest.raises(ValueError, match='labels'):
        plot_decision_boundary(model, X, y[:-1])
    with pytest.raises(TypeError, match='logits'):
        plot_decision_boundary(lambda x: 'yes', X, y)


def shown(fig):
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def test_weights_are_shown_as_8x8_images(tmp_path):
    rng = random.Random(2)
    layer = Layer([[rng.gauss(0, 1) for _ in range(64)] for _ in range(3)])
    fig = plot_weights(layer, tmp_path / 'w.png')
    images = shown(fig)
    assert len(images) == 3
    for neuron, image in zip(layer.neurons, images):
        expected = np.asarray([w.data for w in neuron.w]).reshape(8, 8)
        np.testing.assert_array_equal(image, expected)
    not_blank(tmp_path / 'w.png')
    one = shown(plot_weights(layer.neurons[1]))
    np.testing.assert_array_equal(one[0], images[1])
    odd = Layer([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    with pytest.raises(ValueError, match='shape'):
        plot_weights(odd)
    np.testing.assert_array_equal(shown(plot_weights(odd, shape=(2, 3)))[0], [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(TypeError, match='MLP'):
        plot_weights(42)


def test_weights_of_a_real_mlp_are_its_first_layer():
    nn = needs('nn')
    model = nn.MLP(64, [3, 10], seed=0)
    images = shown(plot_weights(model))
    assert len(images) == 3
    for neuron, image in zip(model.layers[0].neurons, images):
        np.testing.assert_array_equal(image.ravel(), [w.data for w in neuron.w])


@pytest.mark.parametrize('epochs, every', [(4, 2), (5, 2), (3, 1)])
def test_training_animation_has_one_frame_per_recorded_epoch(tmp_path, epochs, every):
    from PIL import Image

    nn, optim, fit = needs('nn'), needs('optim'), needs('training').fit
    X, y = needs('data').make_moons(16, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    path, history = training_animation(
        model, X, y, 'hinge', opt, epochs, tmp_path / 'train.gif', every=every, resolution=8
    )
    with Image.open(path) as im:
        assert im.n_frames == 1 + math.ceil(epochs / every)  # the untrained model first
        assert im.size[0] > 300
    # the same objects through fit() alone give the same history: it is fit's loop
    twin = nn.MLP(2, [4, 1], seed=0)
    expected = fit(
        twin, X, y, 'hinge', optim.SGD(twin.parameters(), lr=0.1), epochs, progress=False
    )
    assert history == expected
    assert len(history['loss']) == epochs


def test_training_animation_rejects_bad_arguments(tmp_path):
    nn, optim = needs('nn'), needs('optim')
    X, y = moons(8)
    model = nn.MLP(2, [1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match='every'):
        training_animation(model, X, y, 'hinge', opt, 2, tmp_path / 'a.gif', every=0)
    with pytest.raises(ValueError, match='epochs'):
        training_animation(model, X, y, 'hinge', opt, 0, tmp_path / 'a.gif')


def test_figures_show_themselves_as_png_without_pyplot():
    # A cell ending in a plot function must display under Jupyter's inline backend even
    # when pyplot was never imported: the figure carries its own _repr_png_.
    fig = plot_history({'loss': [1.0, 0.5, 0.25]})
    png = fig._repr_png_()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (500, 350)  # 5 x 3.5 inches at 100 dpi


# -----------------------------------------------------------------------------
# The lessons' small helpers
# -----------------------------------------------------------------------------


def test_plot_curves_draws_each_named_curve_with_its_numbers():
    from microgrid.plot import plot_curves

    fig = plot_curves({'a': [3.0, 2.0, 1.0], 'b': [1.0, 4.0]}, x=None, log=True)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines['a'].get_xdata()) == [1, 2, 3]
    assert list(lines['a'].get_ydata()) == [3.0, 2.0, 1.0]
    assert list(lines['b'].get_ydata()) == [1.0, 4.0]
    assert ax.get_yscale() == 'log'
    fig = plot_curves({'c': [0.0, 1.0]}, x=[-1.5, 2.5])
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [-1.5, 2.5]
    with pytest.raises(TypeError, match=r"curves\['bad'\]\[0\]"):
        plot_curves({'bad': ['x']})


def test_plot_points_puts_each_class_in_its_own_colour():
    from microgrid.plot import plot_points

    fig = plot_points([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], [-1, 1, 1], title='t')
    ax = fig.axes[0]
    offsets = [c.get_offsets().tolist() for c in ax.collections]
    assert offsets == [[[0.0, 1.0]], [[2.0, 3.0], [4.0, 5.0]]]
    assert ax.get_title() == 't'


def test_plot_images_shows_square_images_and_centres_signed_ones():
    from microgrid.plot import plot_images

    image = [float(i) - 8 for i in range(16)]
    fig = plot_images([image, image], titles=['one', 'two'], signed=True)
    assert [ax.get_title() for ax in fig.axes] == ['one', 'two']
    shown = fig.axes[0].images[0]
    assert shown.get_array().tolist()[1] == [-4.0, -3.0, -2.0, -1.0]
    assert shown.get_clim() == (-8.0, 8.0)


def test_plot_confusion_writes_every_nonzero_count():
    from microgrid.plot import plot_confusion

    fig = plot_confusion([[3, 1], [0, 2]], title='m')
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ['1', '2', '3']
    assert fig.axes[0].get_title() == 'm'


def test_weights_animation_has_one_frame_per_snapshot(tmp_path):
    from PIL import Image

    from microgrid.plot import weights_animation

    frames = [(f'epoch {k}', [k * 0.1 - 0.3 + 0.01 * i for i in range(64)]) for k in range(4)]
    path = weights_animation(frames, tmp_path / 'w.gif', duration=100)
    with Image.open(path) as gif:
        assert gif.n_frames == 4


def test_one_neuron_weight_map_is_large_enough_to_read():
    fig = plot_weights(Layer([[0.1 * i for i in range(64)]]))
    width, height = fig.get_size_inches() * 100
    assert width >= 350 and height >= 300


def test_plot_bars_draws_each_group_and_the_marks():
    from microgrid.plot import plot_bars

    fig = plot_bars({'p': [0.2, 0.8], 'y': [0.0, 1.0]}, ['z0', 'z1'], marks={'g': [0.2, -0.2]})
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [0.2, 0.8, 0.0, 1.0]
    (marks,) = [line for line in ax.get_lines() if line.get_label() == 'g']
    assert list(marks.get_ydata()) == [0.2, -0.2]


def test_plot_paths_draws_every_path_over_the_contours():
    from microgrid.plot import plot_paths

    path = [(-1.0, 1.0), (-0.5, 0.2), (0.0, 0.0)]
    fig = plot_paths(
        lambda a, b: a * a + b * b,
        {'gd': path},
        (-2.0, 2.0),
        (-1.5, 1.5),
        minimum=(0.0, 0.0),
        names=("a", "b"),
    )
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines['gd'].get_xdata()) == [-1.0, -0.5, 0.0]
    assert list(lines['the minimum'].get_ydata()) == [0.0]
    assert fig.axes[0].get_xlabel() == 'a'
