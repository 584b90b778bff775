"""The live widgets' speed: playground frames per second and explorer update latency.

    python benchmarks/live.py            # about 30 s
    python benchmarks/live.py --quick    # fewer repeats

1. Playground frames per second: Playground('moons', hidden=[16, 16], batch_size=32)
   playing in its background thread for a few seconds, as in a notebook; a frame is the
   decision boundary and 32 neuron maps on a 40x40 grid, the loss and accuracy on the
   whole training and validation sets, and the message with all of it. Measured at the
   default rate (fps=10: the frames a learner sees) and unthrottled (fps=1000: a frame
   after every update, the most the kernel can send). Goal: at least 5 frames a second.
2. Explorer update latency: the time from a leaf's new value arriving (the ``values``
   trait set, as the browser's slider does) to the new numbers being ready to send:
   validation, fn, backward, formatting. The classic neuron
   tanh(x1*w1 + x2*w2 + b). Goal: under 100 ms.

Outside Jupyter the widgets' messages go to ipywidgets' dummy comm, so the figures cover
the kernel's work (the state is still serialised), not the browser's drawing: for that,
benchmarks/live_browser.py (painted fps, bytes a second and gaps in Chromium).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from microgrid.live import Explorer, Playground


def playground_fps(fps: float, seconds: float, repeats: int) -> tuple[float, float]:
    """Median frames per second and training steps per second over ``repeats`` runs."""
    rates, steps = [], []
    for r in range(repeats):
        p = Playground('moons', hidden=[16, 16], batch_size=32, seed=r, fps=fps)
        f0, s0 = p.frame, p.steps
        t = time.perf_counter()
        p.play()
        time.sleep(seconds)
        p.pause()
        dt = time.perf_counter() - t
        rates.append((p.frame - f0) / dt)
        steps.append((p.steps - s0) / dt)
        p.close()
    return statistics.median(rates), statistics.median(steps)


def explorer_latency(n: int) -> tuple[float, float]:
    """Median and 95th-percentile ms from a new leaf value to the numbers being ready."""
    e = Explorer(
        lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(),
        x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432,
    )  # fmt: skip
    times = []
    for i in range(n):
        values = {**e.values, 'w1': -3.0 + 0.01 * (i % 50)}
        t = time.perf_counter()
        e.values = values  # what a slider's change does in the kernel
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='fewer repeats')
    args = parser.parse_args()
    repeats, seconds = (1, 2.0) if args.quick else (5, 3.0)
    print(f'date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, '
          f'python {sys.version.split()[0]}, {os.cpu_count()} cores')  # fmt: skip
    print('| measurement | median | goal |')
    print('|---|---:|---:|')
    for fps in (10.0, 1000.0):
        rate, steps = playground_fps(fps, seconds, repeats)
        print(f'| playground frames/s, moons 2-16-16-1, batch 32, fps={fps:g} | {rate:.1f} '
              f'({steps:.0f} updates/s) | >= 5 |')  # fmt: skip
    med, p95 = explorer_latency(200 if args.quick else 1000)
    print(f'| explorer update latency, classic neuron (ms) | {med:.3f} (p95 {p95:.3f}) | < 100 |')


if __name__ == '__main__':
    main()
