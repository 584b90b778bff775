"""Small data sets made on the spot: pure Python, seeded, nothing downloaded.

Each maker returns ``(X, y)`` as scikit-learn does: X a list of samples (lists of
floats), y a list of ints (0/1, or a class index). Randomness comes from a private
``random.Random(seed)``, so the same seed gives the same data and the global
generator is never touched.

The two-dimensional sets (moons, circles, spiral, xor, blobs) are for pictures of
decision boundaries; ``make_digits`` gives 8x8 images of the digits 0-9, drawn from a
bitmap font kept below and varied by shifts, slant, stroke weight and noise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from numbers import Real
from typing import Any

__all__ = [
    'DIGIT_SIZE',
    'batches',
    'digit_to_text',
    'make_blobs',
    'make_circles',
    'make_digits',
    'make_moons',
    'make_spiral',
    'make_xor',
    'train_test_split',
]

# -----------------------------------------------------------------------------
# Checking arguments.
# -----------------------------------------------------------------------------


def _rng(seed: Any) -> random.Random:
    """A private generator: a given random.Random is used as is, else one seeded with seed."""
    if isinstance(seed, random.Random):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str, bytes))):
        raise TypeError(f"seed must be an int, a str or None, got {type(seed).__name__}")
    return random.Random(seed)


def _count(n: Any, what: str, low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r:.40}")
    if n < low:
        raise ValueError(f"{what} must be >= {low}, got {n}")
    return n


def _nonneg(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {x!r:.40}")
    f = float(x)
    if not (math.isfinite(f) and f >= 0):
        raise ValueError(f"{what} must be finite and >= 0, got {x!r}")
    return f


def _shuffled(X: list, y: list, rng: random.Random) -> tuple[list, list]:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


# -----------------------------------------------------------------------------
# Two-dimensional sets.
# -----------------------------------------------------------------------------


def make_moons(
    n_samples: int = 100, noise: float = 0.1, seed: Any = None
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles: class 0 the upper arc, class 1 the lower one.

    Gaussian noise of standard deviation ``noise`` is added to each coordinate; the
    samples come shuffled.
    """
    n = _count(n_samples, 'n_samples', 2)
    noise = _nonneg(noise, 'noise')
    rng = _rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_upper):
        t = math.pi * i / max(n_upper - 1, 1)
        X.append([math.cos(t), math.sin(t)])
        y.append(0)
    for i in range(n_lower):
        t = math.pi * i / max(n_lower - 1, 1)
        X.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        y.append(1)
    _jitter(X, noise, rng)
    return _shuffled(X, y, rng)


def _jitter(X: list[list[float]], noise: float, rng: random.Random) -> None:
    if noise:
        for row in X:
            row[0] += rng.gauss(0.0, noise)
            row[1] += rng.gauss(0.0, noise)


def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: Any = None
) -> tuple[list[list[float]], list[int]]:
    """A circle of radius 1 (class 0) around one of radius ``factor`` (class 1)."""
    n = _count(n_samples, 'n_samples', 2)
    noise = _nonneg(noise, 'noise')
    factor = _nonneg(factor, 'factor')
    if not factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor!r}")
    rng = _rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    X: list[list[float]] = []
    y: list[int] = []
    for count, radius, label in ((n_outer, 1.0, 0), (n_inner, factor, 1)):
        for i in range(count):
            t = 2 * math.pi * i / count
            X.append([radius * math.cos(t), radius * math.sin(t)])
            y.append(label)
    _jitter(X, noise, rng)
    return _shuffled(X, y, rng)


def make_spiral(
    n_classes: int = 3,
    n_per_class: int = 100,
    noise: float = 0.2,
    turns: float = 0.75,
    seed: Any = None,
) -> tuple[list[list[float]], list[int]]:
    """Interleaved spiral arms, one per class, winding out from the origin.

    Along arm k a point at radius r in (0, 1] has angle 2*pi*(k/n_classes + turns*r),
    plus Gaussian noise of ``noise`` radians; outer points are harder to separate.
    """
    k_count = _count(n_classes, 'n_classes', 2)
    n = _count(n_per_class, 'n_per_class')
    noise = _nonneg(noise, 'noise')
    turns = _nonneg(turns, 'turns')
    rng = _rng(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for k in range(k_count):
        for i in range(n):
            r = (i + 1) / n
            angle = 2 * math.pi * (k / k_count + turns * r) + rng.gauss(0.0, noise)
            X.append([r * math.cos(angle), r * math.sin(angle)])
            y.append(k)
    return _shuffled(X, y, rng)


def make_xor(
    n_samples: int = 100, noise: float = 0.1, seed: Any = None
) -> tuple[list[list[float]], list[int]]:
    """Points around the four corners of the unit square, labelled a XOR b.

    Corner (a, b) in {0, 1}^2 has label 1 exactly when a != b. The corners are used in
    turn, so ``make_xor(4, noise=0)`` is the truth table itself.
    """
    n = _count(n_samples, 'n_samples', 1)
    noise = _nonneg(noise, 'noise')
    rng = _rng(seed)
    corners = ((0, 0), (0, 1), (1, 0), (1, 1))
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n):
        a, b = corners[i % 4]
        X.append([float(a), float(b)])
        y.append(a ^ b)
    _jitter(X, noise, rng)
    if n == 4 and noise == 0:
        return X, y  # the truth table, in its usual order
    return _shuffled(X, y, rng)


def make_blobs(
    n_samples: int = 100,
    centers: Any = 3,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    seed: Any = None,
) -> tuple[list[list[float]], list[int]]:
    """Gaussian blobs around ``centers`` (a count, drawn in center_box, or a list of points).

    The label is the index of the blob's center; blob sizes differ by at most one.
    """
    n = _count(n_samples, 'n_samples', 1)
    std = _nonneg(cluster_std, 'cluster_std')
    rng = _rng(seed)
    if isinstance(centers, int) and not isinstance(centers, bool):
        lo, hi = (float(_real(v, 'center_box')) for v in center_box)
        if not lo < hi:
            raise ValueError(f"center_box must be (low, high) with low < high, got {center_box}")
        k_count = _count(centers, 'centers')
        points = [[rng.uniform(lo, hi), rng.uniform(lo, hi)] for _ in range(k_count)]
    elif isinstance(centers, Sequence) and not isinstance(centers, (str, bytes)) and centers:
        points = []
        for i, c in enumerate(centers):
            if not isinstance(c, Sequence) or len(c) != 2:
                raise ValueError(f"centers[{i}] must be a point [x, y], got {c!r:.40}")
            points.append([_real(c[0], f'centers[{i}]'), _real(c[1], f'centers[{i}]')])
    else:
        raise TypeError(f"centers must be an int or a list of [x, y] points, got {centers!r:.40}")
    X: list[list[float]] = []
    y: list[int] = []
    k_count = len(points)
    for k, (cx, cy) in enumerate(points):
        size = n // k_count + (1 if k < n % k_count else 0)
        for _ in range(size):
            X.append([cx + rng.gauss(0.0, std), cy + rng.gauss(0.0, std)])
            y.append(k)
    return _shuffled(X, y, rng)


def _real(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(float(x)):
        raise TypeError(f"{what} must hold finite real numbers, got {x!r:.40}")
    return float(x)


# -----------------------------------------------------------------------------
# Digits: 8x8 images drawn from a 5x7 bitmap font, then varied.
# -----------------------------------------------------------------------------

# One glyph per digit, 7 rows of 5 columns; '#' is ink.
DIGIT_FONT: dict[int, tuple[str, ...]] = {
    0: ('.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'),
    1: ('..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'),
    2: ('.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'),
    3: ('####.', '....#', '....#', '.###.', '....#', '....#', '####.'),
    4: ('...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'),
    5: ('#####', '#....', '####.', '....#', '....#', '#...#', '.###.'),
    6: ('..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'),
    7: ('#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'),
    8: ('.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'),
    9: ('.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'),
}
DIGIT_SIZE = 8
"""The digits are DIGIT_SIZE x DIGIT_SIZE images, stored row by row."""


def _digit_image(digit: int, rng: random.Random, noise: float) -> list[float]:
    """One varied 8x8 image of a digit, as 64 floats in [0, 1]."""
    glyph = DIGIT_FONT[digit]
    ink = [[0.0] * DIGIT_SIZE for _ in range(DIGIT_SIZE)]
    top = rng.randint(0, DIGIT_SIZE - 7)  # the 7 rows fit with 1 row to spare
    left = rng.randint(1, DIGIT_SIZE - 6)  # leave a column for a bold stroke or a slant
    slant = rng.random() < 0.2  # the upper rows lean one pixel right
    bold = rng.random() < 0.2  # strokes two pixels wide
    weight = rng.uniform(0.7, 1.0)  # how dark the pen is
    for r, line in enumerate(glyph):
        shift = 1 if slant and r < 3 else 0
        for c, ch in enumerate(line):
            if ch != '#':
                continue
            rr, cc = top + r, left + c + shift
            if rng.random() < 0.03:  # the pen skips
                continue
            ink[rr][cc] = max(ink[rr][cc], weight)
            if bold and cc + 1 < DIGIT_SIZE:
                ink[rr][cc + 1] = max(ink[rr][cc + 1], weight * 0.8)
    pixels = []
    for row in ink:
        for v in row:
            if noise:
                v += rng.gauss(0.0, noise)
            pixels.append(min(1.0, max(0.0, v)))
    return pixels


def make_digits(
    n_per_class: int = 50, noise: float = 0.1, seed: Any = None
) -> tuple[list[list[float]], list[int]]:
    """8x8 images of the digits 0-9: X holds 64 floats in [0, 1] (row-major), y the digit.

    Each image is a glyph of the built-in font, shifted, sometimes slanted or bold,
    with a random pen weight, the odd missing pixel and Gaussian noise of ``noise``.
    """
    n = _count(n_per_class, 'n_per_class')
    noise = _nonneg(noise, 'noise')
    rng = _rng(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for _ in range(n):
        for d in range(10):
            X.append(_digit_image(d, rng, noise))
            y.append(d)
    return _shuffled(X, y, rng)


def digit_to_text(pixels: Sequence[float], chars: str = ' .:-=+*#%@') -> str:
    """An 8x8 image as 8 lines of characters, darker pixels as denser characters."""
    if len(pixels) != DIGIT_SIZE * DIGIT_SIZE:
        raise ValueError(f"expected {DIGIT_SIZE * DIGIT_SIZE} pixels, got {len(pixels)}")
    top = len(chars) - 1
    lines = []
    for r in range(DIGIT_SIZE):
        row = pixels[r * DIGIT_SIZE : (r + 1) * DIGIT_SIZE]
        lines.append(''.join(chars[min(top, max(0, round(float(v) * top)))] for v in row))
    return '\n'.join(lines)


# -----------------------------------------------------------------------------
# Splitting and batching.
# -----------------------------------------------------------------------------


def _check_xy(X: Any, y: Any, who: str) -> tuple[list, list]:
    for name, v in (('X', X), ('y', y)):
        if isinstance(v, (str, bytes)) or not hasattr(v, '__len__'):
            raise TypeError(f"{who}: {name} must be a list, got {type(v).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{who}: X has {len(X)} samples but y has {len(y)}")
    return list(X), list(y)


def train_test_split(
    X: Any, y: Any, test_size: float = 0.25, seed: Any = None
) -> tuple[list, list, list, list]:
    """Shuffle and split into X_train, X_test, y_train, y_test (as scikit-learn).

    ``test_size`` is a fraction in (0, 1) (the test set gets ceil(fraction * n)
    samples) or a count of test samples.
    """
    Xs, ys = _check_xy(X, y, 'train_test_split')
    n = len(Xs)
    if isinstance(test_size, bool) or not isinstance(test_size, Real):
        raise TypeError(f"test_size must be a fraction or a count, got {test_size!r:.40}")
    if isinstance(test_size, int):
        n_test = test_size
    elif 0.0 < float(test_size) < 1.0:
        n_test = math.ceil(float(test_size) * n)
    else:
        raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size!r}")
    if not 1 <= n_test < n:
        raise ValueError(
            f"test_size={test_size!r} leaves {n_test} test and {n - n_test} training samples "
            f"of {n}; both must be at least 1"
        )
    order = list(range(n))
    _rng(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    X_train, X_test = [Xs[i] for i in train], [Xs[i] for i in test]
    return X_train, X_test, [ys[i] for i in train], [ys[i] for i in test]


def batches(
    X: Any, y: Any, size: int, shuffle: bool = True, seed: Any = None
) -> Iterator[tuple[list, list]]:
    """Yield (X_batch, y_batch) of ``size`` samples (the last may be smaller), once over the data.

    With shuffle, the order is drawn from random.Random(seed); pass the same
    random.Random on each epoch to get a new, reproducible order every time.
    """
    Xs, ys = _check_xy(X, y, 'batches')
    size = _count(size, 'size')
    order = list(range(len(Xs)))
    if shuffle:
        _rng(seed).shuffle(order)
    return _batches(Xs, ys, order, size)  # the checks above run at the call, not at first use


def _batches(Xs: list, ys: list, order: list[int], size: int) -> Iterator[tuple[list, list]]:
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        yield [Xs[i] for i in idx], [ys[i] for i in idx]
