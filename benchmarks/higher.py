"""The Hessian of the demo MLP's loss with respect to 10 parameters: microgrid against PyTorch.

    python benchmarks/higher.py            # 15 repeats each, taken in turns
    python benchmarks/higher.py --repeats 5 --activation tanh

The workload is the demo's (see workloads.py): MLP(2, [16, 16, 1]) with relu (or tanh,
the goal of issue 25), 100 two-moons points, the hinge loss averaged plus 1e-4 times the
sum of squared parameters, at the demo's initial weights. The 10 parameters are the first
10 of ``model.parameters()`` (the first layer's first weights and biases), so every
second-order pass runs through the whole network. fn puts the 10 leaves it is given into
the model and returns the loss.

- ``microgrid.hessian`` (the default): eager on fn's first call, traced on its second,
  then a numpy replay of the gradient graph, one forward and backward per row (timed
  after those two calls); docs/compile.md says when it replays.
- ``microgrid.autograd.functional.hessian``: always eager; one backward with
  create_graph, then one float backward through the gradient graph per parameter.
- PyTorch CPU eager (float64), ``torch.autograd.functional.hessian`` of the same loss as a
  function of a vector of the 10 parameters (one backward per row, as microgrid), on one
  thread (its tensors are tiny; on a shared 2-core machine a second thread only waits).

All Hessians must agree with PyTorch's (the script checks it to 1e-9). The three run in
turns, a warm-up call each first, so a busy machine slows all alike; the script reports
medians of wall time and of the thread's CPU time (``time.thread_time``, steadier when
the machine is shared), and the load (``os.getloadavg``) before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import workloads

N_PARAMS = 10


def microgrid_hessian(xs, ys, layers, default: bool = True, activation: str = 'relu'):
    import microgrid
    from microgrid import losses, nn
    from microgrid.autograd import functional

    model = nn.MLP(workloads.SIZES[0], workloads.SIZES[1:], activation=activation)
    for layer, (w, b) in zip(model.layers, layers):
        for neuron, wrow, bias in zip(layer.neurons, w, b):
            for p, v in zip(neuron.w, wrow):
                p.data = v
            neuron.b.data = bias
    slots = []  # (neuron, index): index len(w) is the bias
    for neuron in model.layers[0].neurons:
        slots += [(neuron, i) for i in range(len(neuron.w) + 1)]
    slots = slots[:N_PARAMS]
    start = [n.w[i].data if i < len(n.w) else n.b.data for n, i in slots]

    def loss_of(*ps):
        for (neuron, i), p in zip(slots, ps):
            if i < len(neuron.w):
                neuron.w[i] = p
            else:
                neuron.b = p
        scores = [model(x) for x in xs]
        return losses.hinge(scores, ys) + workloads.ALPHA * losses.l2(model)

    if default:  # eager on the first call, traced on the second, then replayed
        microgrid.hessian(loss_of, start)
        microgrid.hessian(loss_of, start)
        return lambda: microgrid.hessian(loss_of, start)
    return lambda: functional.hessian(loss_of, start)


def torch_hessian(xs, ys, layers, activation: str = 'relu'):
    import torch

    torch.set_num_threads(1)

    X = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys, dtype=torch.float64)
    (W1, b1), (W2, b2), (W3, b3) = [
        (torch.tensor(w, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
        for w, b in layers
    ]
    # the first layer's parameters in microgrid's order: w0, w1, b for each neuron
    first = torch.cat([W1, b1[:, None]], dim=1).reshape(-1)
    start = first[:N_PARAMS].clone()
    rest = first[N_PARAMS:].clone()

    def loss_of(p10):
        layer1 = torch.cat([p10, rest]).reshape(W1.shape[0], W1.shape[1] + 1)
        w1, bb1 = layer1[:, :-1], layer1[:, -1]
        act = torch.relu if activation == 'relu' else torch.tanh
        a1 = act(X @ w1.T + bb1)
        a2 = act(a1 @ W2.T + b2)
        s = (a2 @ W3.T + b3)[:, 0]
        data_loss = torch.relu(1.0 - y * s).mean()
        params = [w1, bb1, W2, b2, W3, b3]
        return data_loss + workloads.ALPHA * sum((p * p).sum() for p in params)

    return lambda: torch.autograd.functional.hessian(loss_of, start).tolist()


def interleaved(fns: list, repeats: int) -> tuple[list[float], list[float], list]:
    """Median wall and CPU time of each fn, calling them in turn (a busy machine slows all
    alike)."""
    results = [fn() for fn in fns]  # a warm-up call each, not timed (PyTorch's set-up)
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, wall, cpu in zip(fns, walls, cpus):
            t, c = time.perf_counter(), time.thread_time()
            fn()
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - t)
    median = statistics.median
    return [median(ts) for ts in walls], [median(ts) for ts in cpus], results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--activation', choices=('relu', 'tanh'), default='relu')
    args = ap.parse_args(argv)
    xs, ys = workloads.make_moons()
    layers = workloads.initial_weights()
    act = args.activation
    load = ' '.join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# Hessian of the demo loss ({act}) w.r.t. {N_PARAMS} parameters, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {args.repeats} repeats"
    )
    print(f"load average before: {load}")
    fns = [
        microgrid_hessian(xs, ys, layers, default=True, activation=act),
        torch_hessian(xs, ys, layers, activation=act),
        microgrid_hessian(xs, ys, layers, default=False, activation=act),
    ]
    walls, cpus, (H, TH, EH) = interleaved(fns, args.repeats)
    worst = max(
        abs(a - b) / max(1.0, abs(b))
        for M in (H, EH)
        for ra, rb in zip(M, TH)
        for a, b in zip(ra, rb)  # type: ignore[call-overload]
    )
    import torch

    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"versions: Python {sys.version.split()[0]}, torch {torch.__version__}")
    print('| implementation | wall median (ms) | vs PyTorch | CPU median (ms) | vs PyTorch |')
    print('|---|---:|---:|---:|---:|')
    names = [
        'microgrid.hessian (default: numpy replay)',
        'PyTorch CPU eager (float64), torch.autograd.functional.hessian',
        'microgrid eager, microgrid.autograd.functional.hessian',
    ]
    for k in (0, 2, 1):
        print(
            f"| {names[k]} | {walls[k] * 1e3:.1f} | {walls[k] / walls[1]:.1f}x | "
            f"{cpus[k] * 1e3:.1f} | {cpus[k] / cpus[1]:.1f}x |"
        )
    print(f"largest relative difference from PyTorch's Hessian: {worst:.1e}")
    return 0 if worst < 1e-9 else 1


if __name__ == '__main__':
    sys.exit(main())
