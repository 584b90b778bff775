"""The engine against its previous version and micrograd, in ONE run.

    python benchmarks/engine_compare.py                 # baseline: the commit before HEAD
    python benchmarks/engine_compare.py --baseline main # or any git ref

Two versions of microgrid cannot share one process, so each measurement runs in a
fresh worker process, and the workers take turns (micrograd, baseline, current,
micrograd, ...) for several rounds: a slow spell of the machine hits every row alike.
Per row it reports the median of:

- the eager demo step (MLP(2, [16, 16, 1]), 100 moons, hinge + 1e-4 * L2, forward +
  backward + SGD; see workloads.py), and its ratio to micrograd's;
- node creation: the time per node of ``y = y * c + x`` chains (two ops per link).

The baseline's package is exported with ``git archive`` into a temporary folder.

With ``--instructions``, it also counts the instructions (valgrind's callgrind, which
a busy machine does not disturb) that a fixed workload of node creation, dot/sum and
backward takes in each version, with the cost of ``import microgrid`` subtracted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from measure import export

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def worker(kind: str, steps: int) -> dict:
    sys.path.insert(0, HERE)
    import workloads

    xs, ys = workloads.make_moons()
    layers = workloads.initial_weights()
    make = workloads.make_micrograd if kind == 'micrograd' else workloads.make_microgrid
    step = make(xs, ys, layers)
    times, losses = [], []
    for k in range(steps):
        t = time.perf_counter()
        losses.append(step(k))
        times.append(time.perf_counter() - t)
    out = {'step_ms': [t * 1e3 for t in times[1:] or times], 'loss': losses[-1]}
    if kind != 'micrograd':
        from microgrid import Value

        n, per_node = 100_000, []
        for _ in range(5):
            c, x, y = Value(1.0000001), Value(1e-9), Value(1.0)
            t = time.perf_counter()
            for _ in range(n):
                y = y * c + x
            per_node.append((time.perf_counter() - t) / (2 * n) * 1e9)
            del y
        out['node_ns'] = per_node
    return out


INSTRUCTION_WORKLOAD = """
import os
from microgrid import Value, dot, sum as msum
xs = [[0.1 * i, -0.2 * i] for i in range(50)]
ws = [[Value(0.3), Value(-0.2), Value(0.1)] for _ in range(8)]
for rep in range(int(os.environ['REPS'])):
    outs = []
    for x in xs:
        h = [dot(w, x + [1.0]).relu() for w in ws]
        o = dot(h, [0.5] * 8).tanh()
        outs.append((1 - o * 1.0).relu())
    loss = msum(outs) * (1 / 50)
    loss.backward()
    y = Value(1.0)
    for _ in range(5000):
        y = y * 1.0001 + 0.5
"""


DEMO_WORKLOAD = f"""
import os, sys
sys.path.insert(0, {HERE!r})
import workloads
step = workloads.make_microgrid(workloads.make_moons()[0], workloads.make_moons()[1],
                                workloads.initial_weights())
for k in range(int(os.environ['REPS'])):
    step(k)
"""


def instructions(path: str, reps: int, workload: str = INSTRUCTION_WORKLOAD) -> int:
    """Instructions that callgrind counts for the workload (REPS rounds) with path first."""
    env = dict(os.environ, PYTHONPATH=path, REPS=str(reps))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'cg.out')
        cmd = ['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}', sys.executable,
               '-c', workload]  # fmt: skip
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in res.stderr.splitlines() if 'Collected' in x)
    return int(line.split(':')[-1])


def run_worker(kind: str, path: str | None, steps: int) -> dict:
    env = dict(os.environ)
    if path:
        env['PYTHONPATH'] = path + os.pathsep + env.get('PYTHONPATH', '')
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', kind, '--steps', str(steps)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--baseline', default='HEAD~1', help='git ref of the previous version')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--steps', type=int, default=25, help='demo steps per microgrid worker')
    ap.add_argument('--micrograd-steps', type=int, default=3)
    ap.add_argument('--instructions', action='store_true', help='also count instructions')
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return 0
    rows: dict[str, dict] = {'micrograd': {}, 'baseline': {}, 'current': {}}
    with tempfile.TemporaryDirectory() as tmp:
        base = export(args.baseline, tmp)
        for _ in range(args.rounds):
            for name, kind, path, steps in (
                ('micrograd', 'micrograd', None, args.micrograd_steps),
                ('baseline', 'microgrid', base, args.steps),
                ('current', 'microgrid', ROOT, args.steps),
            ):
                r = run_worker(kind, path, steps)
                for key, vals in r.items():
                    if isinstance(vals, list):
                        rows[name].setdefault(key, []).extend(vals)
                    else:
                        rows[name][key] = vals
    mg = statistics.median(rows['micrograd']['step_ms'])
    print(f"command: python benchmarks/engine_compare.py --baseline {args.baseline}")
    print(f"date: {time.strftime('%Y-%m-%d')}, {args.rounds} rounds, workers taking turns\n")
    print('| row | median demo step | micrograd / row | median ns per node |')
    print('|---|---|---|---|')
    for name, r in rows.items():
        step = statistics.median(r['step_ms'])
        node = f"{statistics.median(r['node_ns']):.0f}" if 'node_ns' in r else '-'
        print(f"| {name} | {step:.2f} ms | {mg / step:.1f}x | {node} |")
    b, c = (statistics.median(rows[k]['step_ms']) for k in ('baseline', 'current'))
    bn, cn = (statistics.median(rows[k]['node_ns']) for k in ('baseline', 'current'))
    print(f"\ncurrent / baseline: demo step {c / b:.3f}, node creation {cn / bn:.3f}")
    if args.instructions:
        with tempfile.TemporaryDirectory() as tmp:
            base = export(args.baseline, tmp)
            rows_i = {
                name: (
                    instructions(path, 3) - instructions(path, 0),
                    instructions(path, 2, DEMO_WORKLOAD) - instructions(path, 0, DEMO_WORKLOAD),
                )
                for name, path in (('baseline', base), ('current', ROOT))
            }
        print('\n| row | engine workload | two demo steps | (callgrind; import, set-up subtracted)')
        print('|---|---|---|')
        for name, (e, d) in rows_i.items():
            print(f"| {name} | {e / 1e6:.2f} M | {d / 1e6:.2f} M |")
        (be, bd), (ce, cd) = rows_i['baseline'], rows_i['current']
        print(f"\ncurrent / baseline: engine workload {ce / be:.4f}, demo steps {cd / bd:.4f}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
