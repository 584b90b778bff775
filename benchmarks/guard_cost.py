"""The cost of microgrid.compile's guards on the demo step (BENCHMARKS.md, issue 13).

Times, for the demo's compiled loss (MLP(2, [16, 16, 1]) over 100 points), one check of
the guards (are the globals, closure cells and containers fn reads unchanged?) against
one compiled forward call, which includes that check. Best of 5 repeats.

    .venv/bin/python benchmarks/guard_cost.py
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads

import microgrid


def main() -> int:
    xs, ys = workloads.make_moons()
    _, loss_fn = workloads.microgrid_model(workloads.initial_weights())
    f = microgrid.compile(loss_fn, static_argnums=(1,))
    f(xs, ys)
    guards = next(iter(f._cache.values())).guards
    n = 2000
    check = min(timeit.repeat(guards.hold, number=n, repeat=5)) / n
    call = min(timeit.repeat(lambda: f(xs, ys), number=100, repeat=5)) / 100
    print(
        f"guards: {len(guards.names)} globals, {len(guards.cells)} closure cells, "
        f"{len(guards.views)} containers holding {len(guards.items)} items, "
        f"{len(guards.arrays)} numpy arrays"
    )
    print(f"guard check: {check * 1e6:.1f} us per call")
    print(f"compiled forward call (guards included): {call * 1e6:.1f} us")
    print(f"share of the call: {check / call:.1%}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
