"""All of microgrid's speed and memory figures, measured side by side in ONE process.

    python benchmarks/run_all.py            # what `make bench` runs (a few minutes)
    python benchmarks/run_all.py --quick    # micrograd for 10 steps only, fewer repeats

1. The demo step (see workloads.py): micrograd 0.1.0, microgrid eager, microgrid
   compiled, hand-written numpy and PyTorch CPU eager, each running the full 100-step
   demo from the same data and weights. Per row: the median step time, its ratio to
   micrograd's median measured in this same run, the full 100-step demo time (first
   step, tracing and garbage collection included) and the share of it spent in the
   cycle garbage collector. The final losses of the rows must agree, which shows that
   every row did the same work.
2. Memory per op: bytes that a long chain ``y = y * c`` keeps alive per node (tracemalloc).
3. The deep chain: backward through 1,000,000 nodes at the default recursion limit.

The garbage collector runs with Python's default settings, as users get them. Rows run
in the order of the table, so PyTorch is imported last and does not enlarge the heap
that the collector scans during the scalar rows. Times are wall-clock medians.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import workloads
from measure import bytes_per_op

STEPS = 100  # the demo's length


class GCTimer:
    """Total time spent in the cycle collector while installed (through gc.callbacks)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == 'start':
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.collections += 1

    def __enter__(self) -> GCTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run_demo(make: Callable, steps: int, min_seconds: float, max_runs: int) -> dict:
    """Run the demo (``steps`` steps) from fresh weights, repeated while time allows."""
    xs, ys = workloads.make_moons()
    layers = workloads.initial_weights()
    step_times: list[float] = []
    totals: list[float] = []
    gc_shares: list[float] = []
    losses: list[float] = []
    started = time.perf_counter()
    while not totals or (time.perf_counter() - started < min_seconds and len(totals) < max_runs):
        gc.collect()  # each run starts from the same heap: no garbage from the last one
        step = make(xs, ys, layers)
        losses = []
        with GCTimer() as gct:
            t_run = time.perf_counter()
            for k in range(steps):
                t = time.perf_counter()
                losses.append(step(k))
                step_times.append(time.perf_counter() - t)
            total = time.perf_counter() - t_run
        totals.append(total)
        gc_shares.append(gct.total / total)
        del step
    return {
        'median_step_ms': statistics.median(step_times) * 1e3,
        'demo_s': statistics.median(totals),
        'gc_share': statistics.median(gc_shares),
        'runs': len(totals),
        'steps': steps,
        'first_loss': losses[0],
        'final_loss': losses[-1],
    }


# -- memory per op ----------------------------------------------------------------


def memory_rows() -> list[dict]:
    from micrograd.engine import Value as MicrogradValue

    from microgrid import Value

    rows = []
    for name, cls in (('microgrid', Value), ('micrograd 0.1.0', MicrogradValue)):
        rows.append(
            {
                'engine': name,
                'c a Value': bytes_per_op(cls, True),
                'c a number': bytes_per_op(cls, False),
            }
        )
    return rows


# -- the deep chain -----------------------------------------------------------------


def deep_chain(n: int = 1_000_000) -> dict:
    """Build y = x * c * c * ... (n nodes), then time y.backward()."""
    from microgrid import Value

    gc.collect()
    x, c = Value(1.0), 1.000001
    t = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * c
    build = time.perf_counter() - t
    t = time.perf_counter()
    y.backward()
    backward = time.perf_counter() - t
    expected = c**n
    ok = math.isclose(x.grad, expected, rel_tol=1e-9) and math.isclose(
        y.data, expected, rel_tol=1e-9
    )
    t = time.perf_counter()
    del y
    free = time.perf_counter() - t
    return {
        'nodes': n,
        'recursion_limit': sys.getrecursionlimit(),
        'build_s': build,
        'backward_s': backward,
        'free_s': free,
        'grad_correct': ok,
    }


# -- report -------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}"


def versions() -> str:
    import numpy
    import torch

    return (
        f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )


def markdown(demo: dict, memory: list[dict], chain: dict) -> str:
    base = demo['micrograd']['median_step_ms'] if 'micrograd' in demo else math.nan
    out = [
        '| implementation | median step (ms) | vs micrograd | full 100-step demo (s) '
        '| time in GC | final loss |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    for name, r in demo.items():
        demo_s = f"{r['demo_s']:.3f}"
        if r['steps'] != STEPS:  # --quick: micrograd ran fewer steps
            demo_s = (
                f"~{r['demo_s'] * STEPS / r['steps']:.0f} ({r['steps']} steps: {r['demo_s']:.1f})"
            )
        out.append(
            f"| {name} | {r['median_step_ms']:.3f} | {base / r['median_step_ms']:.1f}x "
            f"| {demo_s} | {r['gc_share']:.0%} | {r['final_loss']:.12f} |"
        )
    if memory:
        out += [
            '',
            '| engine | bytes per op, c a Value | bytes per op, c a number |',
            '|---|---:|---:|',
        ]
        for m in memory:
            out.append(f"| {m['engine']} | {m['c a Value']:.0f} | {m['c a number']:.0f} |")
    if not chain:
        return '\n'.join(out)
    out += [
        '',
        f"Deep chain: {chain['nodes']:,} nodes at recursion limit {chain['recursion_limit']}: "
        f"backward {chain['backward_s']:.2f} s (build {chain['build_s']:.2f} s, "
        f"free {chain['free_s']:.2f} s, gradient correct: {chain['grad_correct']}).",
    ]
    return '\n'.join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='micrograd for 10 steps, one run each')
    ap.add_argument('--only', nargs='*', help='only these rows of the demo table (by name)')
    ap.add_argument('--skip-extras', action='store_true', help='the demo table only')
    ap.add_argument('--json', help='also write the results to this file')
    args = ap.parse_args(argv)

    print(f"# microgrid benchmarks, {time.strftime('%Y-%m-%d')}", flush=True)
    print(f"machine: {machine()}", flush=True)
    demo: dict[str, dict] = {}
    for name, make in workloads.ROWS.items():
        if args.only and name not in args.only:
            continue
        slow = name == 'micrograd'
        steps = 10 if (slow and args.quick) else STEPS
        min_seconds = 0.0 if (slow or args.quick) else 3.0
        r = run_demo(make, steps, min_seconds, max_runs=20)
        demo[name] = r
        print(
            f"  {name}: median step {r['median_step_ms']:.3f} ms, demo {r['demo_s']:.3f} s "
            f"({r['runs']} runs), GC {r['gc_share']:.0%}, final loss {r['final_loss']!r}",
            flush=True,
        )
    finals = [r['final_loss'] for r in demo.values() if r['steps'] == STEPS]
    if finals and max(finals) - min(finals) > 1e-9 * max(1.0, abs(finals[0])):
        print(f"WARNING: the rows end at different losses: {finals}", flush=True)
    memory = [] if args.skip_extras else memory_rows()
    chain = {} if args.skip_extras else deep_chain()
    print(f"versions: {versions()}\n", flush=True)
    print(markdown(demo, memory, chain), flush=True)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(
                {'machine': machine(), 'demo': demo, 'memory': memory, 'chain': chain},
                f,
                indent=1,
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
