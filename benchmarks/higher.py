"""The Hessian of the demo MLP's loss with respect to 10 parameters: microgrid against PyTorch.

    python benchmarks/higher.py            # 15 repeats each, taken in turns (under a minute)
    python benchmarks/higher.py --repeats 3

The workload is the demo's (see workloads.py): MLP(2, [16, 16, 1]) with relu, 100
two-moons points, the hinge loss averaged plus 1e-4 times the sum of squared parameters,
at the demo's initial weights. The 10 parameters are the first 10 of
``model.parameters()`` (the first layer's first weights and biases), so every
second-order pass runs through the whole network.

- microgrid eager: ``microgrid.hessian(fn, params10)``, where fn puts the 10 leaves it is
  given into the model and returns the loss: one backward with create_graph, then one
  float backward through the gradient graph per parameter (reverse over reverse).
- microgrid numpy replay: ``microgrid.compiler.hessian(fn, params10)``, the same result
  from the gradient graph traced once and replayed with numpy per row (timed after its
  eager first call and its tracing second call).
- PyTorch CPU eager (float64): ``torch.autograd.functional.hessian`` of the same loss as a
  function of a vector of the 10 parameters (one backward per row, as microgrid).

All Hessians must agree (the script checks it to 1e-9). relu and the hinge are piecewise
linear, so away from kinks this Hessian is the L2 term's 2e-4 times the identity; the
work is the same as for any other Hessian (tests/autograd/test_functional.py checks a tanh MLP's
non-trivial Hessian against PyTorch). Times are wall-clock medians after one warm-up call
each; the two implementations run in turns, so a busy machine slows both alike. PyTorch
runs on one thread: its tensors here are tiny, and on a shared 2-core machine its second
thread only waits for the first.
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


def microgrid_hessian(xs, ys, layers, replay: bool = False):
    import microgrid
    import microgrid.compiler
    from microgrid import losses, nn

    model = nn.MLP(workloads.SIZES[0], workloads.SIZES[1:])
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

    if replay:  # the numpy replay: eager on the first call, traced on the second
        microgrid.compiler.hessian(loss_of, start)
        microgrid.compiler.hessian(loss_of, start)
        return lambda: microgrid.compiler.hessian(loss_of, start)
    return lambda: microgrid.hessian(loss_of, start)


def torch_hessian(xs, ys, layers):
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
        a1 = torch.relu(X @ w1.T + bb1)
        a2 = torch.relu(a1 @ W2.T + b2)
        s = (a2 @ W3.T + b3)[:, 0]
        data_loss = torch.relu(1.0 - y * s).mean()
        params = [w1, bb1, W2, b2, W3, b3]
        return data_loss + workloads.ALPHA * sum((p * p).sum() for p in params)

    return lambda: torch.autograd.functional.hessian(loss_of, start).tolist()


def interleaved(fns: list, repeats: int) -> tuple[list[float], list]:
    """Median time of each fn, calling them in turn (so a busy machine slows all alike)."""
    results = [fn() for fn in fns]  # a warm-up call each, not timed (PyTorch's set-up)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times], results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=15)
    args = ap.parse_args(argv)
    xs, ys = workloads.make_moons()
    layers = workloads.initial_weights()
    print(f"# Hessian of the demo loss w.r.t. {N_PARAMS} parameters, {time.strftime('%Y-%m-%d')}")
    fns = [
        microgrid_hessian(xs, ys, layers),
        torch_hessian(xs, ys, layers),
        microgrid_hessian(xs, ys, layers, replay=True),
    ]
    (mg_time, th_time, rp_time), (H, TH, RH) = interleaved(fns, args.repeats)
    worst = max(
        abs(a - b) / max(1.0, abs(b))
        for M in (H, RH)
        for ra, rb in zip(M, TH)
        for a, b in zip(ra, rb)  # type: ignore[call-overload]
    )
    import torch

    print(f"versions: Python {sys.version.split()[0]}, torch {torch.__version__}")
    print('| implementation | median (ms) | vs PyTorch |')
    print('|---|---:|---:|')
    print(
        f"| microgrid eager, microgrid.hessian | {mg_time * 1e3:.1f} | {mg_time / th_time:.1f}x |"
    )
    print(
        f"| microgrid numpy replay, microgrid.compiler.hessian | {rp_time * 1e3:.1f} | "
        f"{rp_time / th_time:.1f}x |"
    )
    name = 'PyTorch CPU eager (float64), torch.autograd.functional.hessian'
    print(f"| {name} | {th_time * 1e3:.1f} | 1.0x |")
    print(f"largest relative difference from PyTorch's Hessian: {worst:.1e}")
    return 0 if worst < 1e-9 else 1


if __name__ == '__main__':
    sys.exit(main())
