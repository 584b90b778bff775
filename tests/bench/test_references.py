"""The benchmarks' references do the same step as microgrid: a ratio to a floor or to the
bare engine means something only if both compute the same losses and the same updates.
Values only, never timings (those are benchmarks/, not tests)."""

from __future__ import annotations

import importlib
import math
import sys
from functools import partial
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


@pytest.fixture(scope='module')
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {name: importlib.import_module(name) for name in ('workloads', 'floor', 'bare')}
    finally:
        sys.path.remove(str(BENCHMARKS))


def _losses(make, steps: int, workloads) -> list[float]:
    xs, ys = workloads.make_moons()
    step = make(xs, ys, workloads.initial_weights())
    return [step(k) for k in range(steps)]


def test_floors_and_bare_engine_follow_microgrid(bench):
    """Twelve demo steps: every floor and the bare engine give microgrid's loss at each,
    to rounding. Each loss after the first depends on the updates before it, so they also
    computed the same gradients; and the loss falls, so there were updates to compare."""
    workloads, floor, bare = bench['workloads'], bench['floor'], bench['bare']
    eager = _losses(workloads.make_microgrid, 12, workloads)
    assert eager[-1] < 0.5 * eager[0]
    rows = {skip: partial(floor.make_floor, skip=skip) for skip in floor.SKIPS}
    rows['bare'] = bare.make_bare
    for name, make in rows.items():
        got = _losses(make, 12, workloads)
        for k, (a, b) in enumerate(zip(got, eager)):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (name, k, a, b)
