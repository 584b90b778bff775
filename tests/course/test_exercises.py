"""Every lesson check, inside its lesson: classic wrong answers get their own hint,
acceptable alternatives (hand-rounded numbers, numpy and torch values) pass, and a check
run twice gives the same verdict.

Each lesson runs once in a kernel, with the solutions substituted (as in test_course.py).
After each exercise's check cell the test inserts: the check cell again (run twice), then
for each variant below its code and the check cell, then the solution again (so that the
rest of the lesson runs as before).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

nbformat = pytest.importorskip('nbformat', reason='nbformat comes with the dev extra')
pytest.importorskip('nbclient', reason='nbclient comes with the dev extra')

COURSE = runpy.run_path(str(Path(__file__).with_name('test_course.py')))
NOTEBOOKS = COURSE['NOTEBOOKS']

OK = None  # the variant is an acceptable answer: every line of its check must be ✓

# exercise id -> [(code that replaces the exercise cell, OK or a piece of the expected hint)]
VARIANTS: dict[str, list[tuple[str, str | None]]] = {
    '01-central-difference': [
        ('def central(fn, x, h):\n    return (fn(x + h) - fn(x)) / h', 'forward difference'),
        ('def central(fn, x, h):\n    return (fn(x + h) - fn(x - h)) / h', 'divide by 2 * h'),
    ],
    '01-partials': [
        ('dq_da, dq_db = 6, 9', 'b = -2 is a constant factor'),
        ('import numpy as np\ndq_da, dq_db = np.float64(-12), np.array(9.0)', OK),
    ],
    '01-chain-rule': [
        ('x = 0.8\ndy_dx = math.cos(x**2)', 'inner slope'),
        ("x = 0.8\ndy_dx = float(f'{math.cos(x**2) * 2 * x:.4g}')", OK),  # rounded by hand
    ],
    '02-divide-rule': [
        ('d_by_da, d_by_db = 0.5, -0.25', 'multiply by a = 3'),
        ('d_by_da, d_by_db = 0.5, 0.75', 'minus sign'),
        ('import torch\nd_by_da, d_by_db = torch.tensor(0.5), torch.tensor(-0.75)', OK),
    ],
    '02-predict-sigmoid': [
        ('dy_dw, dy_db = 0.25, 0.25', 'multiply by d(sum)/dw'),
    ],
    '02-build-graph': [
        ('ea, eb = Value(3.0), Value(1.0)\ne = (ea + eb) * (ea - eb)', 'did you call e.backward()'),
    ],
    '03-topo-sort': [
        (
            'def topological_order(root):\n'
            '    order, seen, queue = [], {id(root)}, [root]\n'
            '    while queue:  # breadth-first, then reversed\n'
            '        node = queue.pop(0)\n'
            '        order.append(node)\n'
            '        for p in node.parents:\n'
            '            if id(p) not in seen:\n'
            '                seen.add(id(p))\n'
            '                queue.append(p)\n'
            '    return order[::-1]',
            'breadth-first order, reversed, fails',
        ),
    ],
    '03-backward': [
        (
            'def backward(self):\n'
            '    self.grad = 1.0\n'
            '    for node in reversed(topological_order(self)):\n'
            '        for parent, local in zip(node.parents, node.local_grads):\n'
            '            parent.grad = local * node.grad\n'
            'MyValue.backward = backward',
            'use +=',
        ),
        (
            'def backward(self):\n'
            '    self.grad = 1.0\n'
            '    for node in topological_order(self):\n'
            '        for parent, local in zip(node.parents, node.local_grads):\n'
            '            parent.grad += local * node.grad\n'
            'MyValue.backward = backward',
            'walk the order reversed',
        ),
        (
            'def backward(self):\n'
            '    for node in reversed(topological_order(self)):\n'
            '        for parent, local in zip(node.parents, node.local_grads):\n'
            '            parent.grad += local * node.grad\n'
            'MyValue.backward = backward',
            'seed the output',
        ),
    ],
    '04-hand-neuron': [
        ('do_dw, do_db = 2.0, 1.0', "tanh's slope"),
        ('do_dw, do_db = 1.573, 0.7864', OK),  # 1.5729 and 0.78645, rounded by hand
    ],
    '04-paths-and-accumulation': [
        ('paths, dy_dx, after_three_backwards = 4, 13, 13', 'never reset'),
    ],
    '05-neuron-forward': [
        (
            'def neuron_forward(w, b, x):\n'
            '    return math.tanh(sum(wi * xi for wi, xi in zip(w, x)))',
            'the bias is missing',
        ),
    ],
    '05-build-mlp': [
        (
            'MyNeuron.__call__ = lambda self, x: (\n'
            '    sum((wi * xi for wi, xi in zip(self.w, x)), Value(0.0)) if self.linear\n'
            '    else sum((wi * xi for wi, xi in zip(self.w, x)), Value(0.0)).tanh())',
            'without biases',
        ),
    ],
    '06-train-loop': [
        (
            'def train(model, xs, ys, steps=20, lr=0.05):\n'
            '    recorded = []\n'
            '    for _ in range(steps):\n'
            '        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)\n'
            '        loss.backward()\n'
            '        for p in model.parameters():\n'
            '            p.data -= lr * p.grad\n'
            '        recorded.append(loss.data)\n'
            '    return recorded',
            'never zeroed',
        ),
    ],
    '05-he-std': [
        ('he_std = 2 / 50', 'variance'),
        ('import numpy as np\nhe_std = np.sqrt(2 / 50)', OK),
        ('he_std = 0.2', OK),
    ],
    '11-outer': [
        ('dL_dW = [[1.0, -2.0], [0.0, 0.0], [-1.5, 3.0]]', 'the transpose'),
        ('import numpy as np\ndL_dW = np.outer([0.5, -1.0], [2.0, 0.0, -3.0])', OK),
    ],
    '11-torch-grad': [
        (
            't = torch.tensor(1.5, requires_grad=True)\n(t**3 + 2 * t).backward()\n'
            'torch_slope = t.grad',
            OK,
        ),
    ],
    '12-stale-grad': [
        ('stale_grad = 48', 'fresh forward pass'),
    ],
    '13-second-difference': [
        ('def second(fn, x, h):\n    return (fn(x + h) - 2 * fn(x) + fn(x - h)) / h', 'h squared'),
    ],
    '13-newton-step': [
        ('def newton_direction(g, H):\n    return [g[0] / H[0][0], g[1] / H[1][1]]', 'ignores c'),
    ],
    '14-passes': [
        ('passes = dict(zip(passes, [1, 1000, 1000, 1]))', 'the other way round'),
    ],
    '14-dual-mul': [
        (
            'def _mul(self, other):\n'
            '    return Dual(self.value * other.value, self.tangent * other.tangent)\n'
            'Dual.__mul__ = _mul',
            'product rule',
        ),
    ],
}

LESSONS = [
    p for p in COURSE['LESSONS']
    if any(ex in VARIANTS for _, ex in COURSE['_exercises'](nbformat.read(p, as_version=4)))
]  # fmt: skip


def _cell(source: str, role: str):
    return nbformat.v4.new_code_cell(source, metadata={'variant': role})


@pytest.mark.slow
@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.stem)
def test_checks_catch_wrong_answers_accept_alternatives_and_run_twice(path):
    nb = nbformat.read(path, as_version=4)
    solutions = COURSE['_solutions'](path.stem)
    cells, roles = [], []
    exercises = dict(COURSE['_exercises'](nb))
    for i, cell in enumerate(nb.cells):
        if i in exercises:
            cell.source = solutions[exercises[i]]
        cells.append(cell)
        if i - 1 in exercises:  # the check cell of exercise exercises[i - 1]
            ex = exercises[i - 1]
            cells.append(_cell(cell.source, f'{ex}: run twice'))
            for k, (code, expected) in enumerate(VARIANTS.get(ex, [])):
                cells.append(_cell(code, 'code'))
                cells.append(_cell(cell.source, f'{ex}: variant {k}'))
                roles.append((f'{ex}: variant {k}', expected))
            cells.append(_cell(solutions[ex], 'code'))
            roles.append((f'{ex}: run twice', OK))
    nb.cells = cells
    COURSE['_execute'](nb, inline=False)
    problems = []
    outputs = {
        c.metadata['variant']: COURSE['_text'](c)
        for c in nb.cells
        if c.cell_type == 'code' and 'variant' in c.metadata
    }
    for role, expected in roles:
        lines = [line for line in outputs[role].splitlines() if line[:2] in ('✓ ', '✗ ')]
        if expected is OK:
            if not lines or any(not line.startswith('✓ ') for line in lines):
                problems.append(f'{role} should pass: {lines}')
        elif not any(line.startswith('✗ ') and expected in line for line in lines):
            problems.append(f'{role} should fail with a hint saying {expected!r}: {lines}')
    assert not problems, '\n'.join(problems)
