"""The lecture's training loop over 10 seeds: how often it learns (issue 15).

The loop as the lecture writes it: four samples, the sum of squared errors, 20 steps of
``p.data += -lr * p.grad``. Each seed is set with ``random.seed(seed)`` before the model
is built (seed=None draws from the global generator, as in micrograd). Prints a Markdown
table of the loss of the 20th forward pass (the last loss the lecture's loop prints) for
each network, and how many seeds end under 0.1.
Run: ``.venv/bin/python benchmarks/lecture_seeds.py``.
"""

from __future__ import annotations

import random

from microgrid import nn

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
SEEDS = range(10)
NETWORKS = {
    "tanh, He init (MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh'))": {
        'activation': 'tanh', 'output_activation': 'tanh',
    },
    "tanh, the lecture's U(-1, 1) init (init='uniform')": {
        'activation': 'tanh', 'output_activation': 'tanh', 'init': 'uniform',
    },
    'relu hidden, linear output, He init (MLP(3, [4, 4, 1]), the defaults)': {},
}  # fmt: skip


def run(kwargs: dict, seed: int, steps: int = 20, lr: float = 0.05) -> tuple[float, list]:
    random.seed(seed)
    model = nn.MLP(3, [4, 4, 1], **kwargs)
    for _ in range(steps):
        ypred = [model(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -lr * p.grad
    return loss.data, model.dead_units(XS)


def main() -> None:
    print('| network | ' + ' | '.join(f'seed {s}' for s in SEEDS) + ' | under 0.1 |')
    print('|---|' + '---:|' * (len(SEEDS) + 1))
    for name, kwargs in NETWORKS.items():
        losses = [run(kwargs, s)[0] for s in SEEDS]
        cells = ' | '.join(f'{x:.3f}' for x in losses)
        print(f'| {name} | {cells} | {sum(x < 0.1 for x in losses)} of {len(losses)} |')
    dead = [s for s in SEEDS if any(len(d) == 4 for d in run({}, s)[1][:2])]
    print(f'\nrelu seeds with a fully dead hidden layer after training: {dead}')


if __name__ == '__main__':
    main()
