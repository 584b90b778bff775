"""microgrid.data: the shapes, labels and geometry of each set, seeds, splits, batches."""

import math
import random
import statistics
from collections import Counter

import pytest

from microgrid import data


def shape_ok(X, y, n, dim=2):
    assert len(X) == len(y) == n
    assert all(isinstance(row, list) and len(row) == dim for row in X)
    assert all(type(v) is float and math.isfinite(v) for row in X for v in row)
    assert all(type(label) is int for label in y)


MAKERS = [
    lambda seed: data.make_moons(60, seed=seed),
    lambda seed: data.make_circles(60, seed=seed),
    lambda seed: data.make_spiral(3, 20, seed=seed),
    lambda seed: data.make_xor(60, seed=seed),
    lambda seed: data.make_blobs(60, seed=seed),
    lambda seed: data.make_digits(6, seed=seed),
]


@pytest.mark.parametrize('make', MAKERS)
def test_seeds_reproduce_and_leave_the_global_generator_alone(make):
    random.seed(99)
    before = random.getstate()
    a, b, c = make(1), make(1), make(2)
    assert random.getstate() == before
    assert a == b and a != c


def test_moons_lie_on_their_two_half_circles():
    X, y = data.make_moons(101, noise=0.0, seed=0)
    shape_ok(X, y, 101)
    assert Counter(y) == {0: 50, 1: 51}
    for (a, b), label in zip(X, y):
        if label == 0:  # the upper arc: unit circle around (0, 0), b >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # the lower arc: unit circle around (1, 0.5), below its center
            assert math.hypot(a - 1, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_moons_noise_has_the_requested_spread():
    X, y = data.make_moons(2000, noise=0.2, seed=3)
    dist = []  # signed distance of each point from its arc's circle
    for (a, b), label in zip(X, y):
        center = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        dist.append(math.hypot(a - center[0], b - center[1]) - 1.0)
    # the radial part of 2-D Gaussian noise of std 0.2 has std about 0.2
    assert statistics.pstdev(dist) == pytest.approx(0.2, rel=0.15)


def test_circles_have_the_two_radii():
    X, y = data.make_circles(80, noise=0.0, factor=0.3, seed=0)
    shape_ok(X, y, 80)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)
    assert Counter(y) == {0: 40, 1: 40}


def test_spiral_arms_follow_their_angle():
    X, y = data.make_spiral(4, 25, noise=0.0, turns=0.5, seed=0)
    shape_ok(X, y, 100)
    assert Counter(y) == {k: 25 for k in range(4)}
    for (a, b), k in zip(X, y):
        r = math.hypot(a, b)
        assert 0 < r <= 1 + 1e-12
        angle = 2 * math.pi * (k / 4 + 0.5 * r)
        assert (a, b) == pytest.approx((r * math.cos(angle), r * math.sin(angle)), abs=1e-12)


def test_xor_of_four_noiseless_points_is_the_truth_table():
    X, y = data.make_xor(4, noise=0.0)
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y == [0, 1, 1, 0]


def test_xor_labels_follow_the_nearest_corner():
    X, y = data.make_xor(200, noise=0.1, seed=0)
    shape_ok(X, y, 200)
    assert all(label == (round(a) ^ round(b)) for (a, b), label in zip(X, y))
    assert Counter(y) == {0: 100, 1: 100}


def test_blobs_center_on_the_given_points():
    centers = [[-5.0, 0.0], [5.0, 5.0], [0.0, -5.0]]
    X, y = data.make_blobs(301, centers=centers, cluster_std=0.5, seed=0)
    shape_ok(X, y, 301)
    assert Counter(y) == {0: 101, 1: 100, 2: 100}
    for k, (cx, cy) in enumerate(centers):
        pts = [p for p, label in zip(X, y) if label == k]
        assert statistics.fmean(p[0] for p in pts) == pytest.approx(cx, abs=0.15)
        assert statistics.fmean(p[1] for p in pts) == pytest.approx(cy, abs=0.15)
        assert statistics.pstdev(p[0] for p in pts) == pytest.approx(0.5, rel=0.2)


def test_blobs_with_a_count_draw_centers_in_the_box():
    X, y = data.make_blobs(90, centers=3, cluster_std=0.0, center_box=(-2.0, 2.0), seed=4)
    assert sorted(Counter(y).values()) == [30, 30, 30]
    assert all(-2 <= v <= 2 for row in X for v in row)
    assert len({tuple(row) for row in X}) == 3  # std 0: every point is its center


# -- digits ---------------------------------------------------------------------------


def test_digits_are_64_pixels_in_zero_one_with_balanced_labels():
    X, y = data.make_digits(12, seed=0)
    shape_ok(X, y, 120, dim=64)
    assert all(0.0 <= v <= 1.0 for row in X for v in row)
    assert Counter(y) == {d: 12 for d in range(10)}


def glyph_templates():
    """Every placement of every font glyph as a 64-pixel template (1 = ink)."""
    out = []
    for d, rows in data.DIGIT_FONT.items():
        for top in range(2):
            for left in range(4):
                t = [0.0] * 64
                for r, line in enumerate(rows):
                    for c, ch in enumerate(line):
                        if ch == '#':
                            t[(top + r) * 8 + left + c] = 1.0
                out.append((d, t))
    return out


def test_digit_images_show_their_digit():
    # The nearest placed glyph (by squared distance) names the right digit for almost
    # every image: the labels match the pictures, and the variations keep them legible.
    X, y = data.make_digits(30, seed=1)
    templates = glyph_templates()
    right = 0
    for x, label in zip(X, y):
        best = min(templates, key=lambda dt: sum((a - b) ** 2 for a, b in zip(x, dt[1])))
        right += best[0] == label
    assert right / len(X) >= 0.9  # 0.97 when measured


def test_noiseless_digits_are_ink_and_paper_only():
    X, _ = data.make_digits(5, noise=0.0, seed=2)
    values = {round(v, 6) for row in X for v in row}
    assert 0.0 in values
    assert all(v == 0.0 or v >= 0.7 * 0.8 - 1e-9 for v in values)  # pen weight 0.7..1


def test_the_variations_are_really_there():
    X, y = data.make_digits(40, noise=0.0, seed=3)
    ones = [x for x, label in zip(X, y) if label == 1]
    assert len({tuple(x) for x in ones}) > 20  # shifts, slant, bold, skips, weight
    ink = [sum(v > 0 for v in x) for x in ones]
    assert max(ink) > min(ink) + 5  # bold strokes hold many more pixels


def test_digit_to_text_draws_eight_lines():
    X, y = data.make_digits(1, noise=0.0, seed=0)
    text = data.digit_to_text(X[0])
    lines = text.split('\n')
    assert len(lines) == 8 and all(len(line) == 8 for line in lines)
    assert sum(ch != ' ' for ch in text.replace('\n', '')) == sum(v > 0.05 for v in X[0])
    with pytest.raises(ValueError, match='64 pixels'):
        data.digit_to_text([0.0] * 10)


# -- bad arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    'call, error, words',
    [
        (lambda: data.make_moons(1), ValueError, 'n_samples'),
        (lambda: data.make_moons(10.0), TypeError, 'n_samples'),
        (lambda: data.make_moons(10, noise=-0.1), ValueError, 'noise'),
        (lambda: data.make_moons(10, seed=1.5), TypeError, 'seed'),
        (lambda: data.make_circles(10, factor=1.0), ValueError, 'factor'),
        (lambda: data.make_spiral(1), ValueError, 'n_classes'),
        (lambda: data.make_xor(0), ValueError, 'n_samples'),
        (lambda: data.make_blobs(10, centers=[[1, 2, 3]]), ValueError, 'centers[0]'),
        (lambda: data.make_blobs(10, centers='abc'), TypeError, 'centers'),
        (lambda: data.make_blobs(10, center_box=(1, -1)), ValueError, 'center_box'),
        (lambda: data.make_digits(0), ValueError, 'n_per_class'),
        (lambda: data.make_digits(2, noise=math.inf), ValueError, 'noise'),
    ],
)
def test_bad_arguments_are_refused(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# -- train_test_split and batches ------------------------------------------------------

XS = [[float(i), float(-i)] for i in range(10)]
YS = list(range(10))


def test_train_test_split_partitions_and_keeps_pairs():
    X_train, X_test, y_train, y_test = data.train_test_split(XS, YS, test_size=0.25, seed=0)
    assert len(X_test) == 3 and len(X_train) == 7  # ceil(0.25 * 10), as scikit-learn
    assert sorted(y_train + y_test) == YS
    assert all(x == [float(t), float(-t)] for x, t in zip(X_train + X_test, y_train + y_test))
    assert data.train_test_split(XS, YS, test_size=4, seed=0)[3].__len__() == 4
    assert data.train_test_split(XS, YS, seed=0) == data.train_test_split(XS, YS, seed=0)
    assert data.train_test_split(XS, YS, seed=0) != data.train_test_split(XS, YS, seed=1)


@pytest.mark.parametrize(
    'kwargs, error', [({'test_size': 0.0}, ValueError), ({'test_size': 10}, ValueError),
                      ({'test_size': 1.5}, ValueError), ({'test_size': '0.2'}, TypeError)],
)  # fmt: skip
def test_train_test_split_refuses_bad_sizes(kwargs, error):
    with pytest.raises(error, match='test_size'):
        data.train_test_split(XS, YS, **kwargs)


def test_train_test_split_wants_matching_lengths():
    with pytest.raises(ValueError, match='X has 10 samples but y has 9'):
        data.train_test_split(XS, YS[:9])


def test_batches_cover_every_sample_once_in_batches_of_size():
    got = list(data.batches(XS, YS, 4, seed=0))
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    assert sorted(t for _, yb in got for t in yb) == YS
    assert all(x == [float(t), float(-t)] for xb, yb in got for x, t in zip(xb, yb))
    assert [t for _, yb in got for t in yb] != YS  # shuffled


def test_batches_without_shuffle_keep_the_order_and_seeds_reproduce():
    assert [yb for _, yb in data.batches(XS, YS, 3, shuffle=False)] == [
        [0, 1, 2], [3, 4, 5], [6, 7, 8], [9]
    ]  # fmt: skip
    first = [yb for _, yb in data.batches(XS, YS, 3, seed=5)]
    assert first == [yb for _, yb in data.batches(XS, YS, 3, seed=5)]
    rng = random.Random(5)  # one generator across epochs: a new order each time
    e1 = [yb for _, yb in data.batches(XS, YS, 3, seed=rng)]
    e2 = [yb for _, yb in data.batches(XS, YS, 3, seed=rng)]
    assert e1 == first and e2 != e1


def test_batches_check_their_arguments_at_the_call():
    with pytest.raises(ValueError, match='size'):
        data.batches(XS, YS, 0)
    with pytest.raises(ValueError, match='X has 10 samples but y has 3'):
        data.batches(XS, YS[:3], 2)
    with pytest.raises(TypeError, match='X must be a list'):
        data.batches(5, YS, 2)
