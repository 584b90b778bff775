"""check_mlp and check_training: a student's own MLP and training loop against microgrid.nn.

Lesson 5 asks for ``MyMLP(nin, nouts)``: tanh hidden layers, a linear last layer, a Value
out when the last layer has one neuron, and ``parameters()`` listing each neuron's weights
and then its bias, layer by layer (micrograd's order, and microgrid.nn's). ``check_mlp``
gives the student's parameters the same numbers as a microgrid ``nn.MLP`` and compares the
outputs and every gradient. ``check_training`` (lesson 6) runs the student's
``train(model, xs, ys, steps, lr)`` on a microgrid MLP and compares its losses with the
reference loop. Both print ``✓``/``✗`` lines with a hint keyed to the mistake they
recognise, return True or False, and never raise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from microgrid import nn
from microgrid.engine import Value

__all__ = ['check_mlp', 'check_training', 'reference_train']

NIN, NOUTS = 3, [4, 4, 1]
INPUTS = [[0.5, -1.0, 2.0], [-1.5, 0.3, 0.7], [2.0, 1.0, -0.4]]
TARGETS = [1.0, -1.0, 0.5]


def _reference(seed: int, output: str = 'linear', hidden: str = 'tanh') -> nn.MLP:
    """microgrid's MLP(3, [4, 4, 1]) with every weight AND bias drawn from U(-1, 1)."""
    model = nn.MLP(NIN, NOUTS, activation=hidden, output_activation=output, init='uniform')
    rng = random.Random(seed)
    for p in model.parameters():
        p.data = rng.uniform(-1.0, 1.0)
    return model


def _scalar(out: Any) -> Any:
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return out[0]
    return out


def _data(out: Any) -> float:
    out = _scalar(out)
    return float(out.data if hasattr(out, 'data') else out)


def _verdict(what: str, problem: str, hint: str = '') -> bool:
    if not problem:
        print(f'✓ {what}')
        return True
    print(f'✗ {what}: {problem}.' + (f' Hint: {hint}' if hint else ''))
    return False


def _forward_hint(got: list[float], seed: int) -> str:
    """A hint for outputs that match a known wrong network."""
    unbiased = _reference(seed)
    for n in (neuron for layer in unbiased.layers for neuron in layer.neurons):
        n.b.data = 0.0
    variants = [
        (unbiased, 'your outputs are those of a network without biases: add + b in the neuron'),
        (_reference(seed, output='tanh'), 'the last layer must be linear: no tanh on the output'),
        (_reference(seed, hidden='linear'), 'the hidden layers need tanh after the sum'),
        (_reference(seed, hidden='relu'), 'the hidden layers use tanh here, not relu'),
    ]
    for model, hint in variants:
        if all(math.isclose(g, model(x).data, rel_tol=1e-9) for g, x in zip(got, INPUTS)):
            return hint
    return 'out = tanh(w . x + b) in each hidden neuron; the last layer is w . x + b alone'


def check_mlp(mlp_class: Callable[..., Any], seed: int = 0) -> bool:
    """Check ``mlp_class(3, [4, 4, 1])`` against microgrid's MLP on the same numbers.

    Prints one ✓/✗ line per stage (parameters, forward, gradients); returns True if all pass.
    """
    what = 'MyMLP(3, [4, 4, 1])'
    try:
        model = mlp_class(NIN, list(NOUTS))
        params = list(model.parameters())
    except Exception as error:
        return _verdict(what, f'making it or its parameters() raised {type(error).__name__}: '
                        f'{error}')  # fmt: skip
    ref = _reference(seed)
    want = len(ref.parameters())
    if len(params) != want:
        hint = 'each neuron has one weight per input plus one bias'
        if len(params) == want - sum(NOUTS):
            hint = 'the biases are missing from parameters(): each neuron has one'
        return _verdict(f'{what}.parameters()', f'expected {want} Values, got {len(params)}', hint)
    if not all(isinstance(p, Value) for p in params):
        return _verdict(
            f'{what}.parameters()', 'expected Values', 'parameters are microgrid Values'
        )
    _verdict(f'{what}.parameters(): {want} of them', '')
    for p, q in zip(params, ref.parameters()):
        p.data = q.data
    try:
        got = [_data(model(list(x))) for x in INPUTS]
    except Exception as error:
        hint = 'is a __call__ still returning None?' if 'NoneType' in str(error) else ''
        problem = f'your code raised {type(error).__name__}: {error}'
        return _verdict(f'{what} forward', problem, hint)
    want_out = [ref(x).data for x in INPUTS]
    if not all(math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12) for g, w in zip(got, want_out)):
        shown = ', '.join(f'{g:.6g}' for g in got)
        return _verdict(f'{what} forward', f'expected [{", ".join(f"{w:.6g}" for w in want_out)}], '
                        f'got [{shown}]', _forward_hint(got, seed))  # fmt: skip
    _verdict(f'{what} forward, on {len(INPUTS)} inputs', '')
    for p in params:
        p.grad = 0.0
    try:
        _scalar(model(list(INPUTS[0]))).backward()
    except Exception as error:
        return _verdict(f'{what} gradients', f'backward raised {type(error).__name__}: {error}')
    ref(INPUTS[0]).backward()
    wrong = [i for i, (p, q) in enumerate(zip(params, ref.parameters()))
             if not math.isclose(p.grad, q.grad, rel_tol=1e-9, abs_tol=1e-12)]  # fmt: skip
    if wrong:
        return _verdict(f'{what} gradients', f'{len(wrong)} of {want} parameters have a wrong '
                        f'grad (the first is parameters()[{wrong[0]}])',
                        'build the output from Value operations (w * x, +, .tanh()), not from '
                        '.data and math, so that backward() can reach every weight')  # fmt: skip
    return _verdict(f'{what} gradients of all {want} parameters', '')


def reference_train(
    model: Any, xs: list, ys: list, steps: int = 20, lr: float = 0.05, *, zero: bool = True
) -> list[float]:
    """The loop the lesson asks for: MSE loss, zero the grads, backward, p -= lr * grad.

    Returns the loss of each step, measured before that step's update. ``zero=False`` is
    the classic bug (gradients accumulate), used to recognise it.
    """
    history = []
    for _ in range(steps):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        if zero:
            for p in model.parameters():
                p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append(loss.data)
    return history


def _uphill(model: Any, xs: list, ys: list, steps: int, lr: float) -> list[float]:
    return reference_train(model, xs, ys, steps, -lr)


def check_training(train: Callable[..., Any], seed: int = 0, steps: int = 20) -> bool:
    """Run ``train(model, xs, ys, steps, lr)`` on microgrid's MLP; compare its losses.

    The student's ``train`` returns the list of losses (one per step, before the update).
    """
    what = f'train(model, xs, ys, steps={steps}, lr=0.05)'
    try:
        got = train(_reference(seed), INPUTS, TARGETS, steps, 0.05)
        got = [_data(v) for v in got]
    except Exception as error:
        return _verdict(what, f'your code raised {type(error).__name__}: {error}',
                        'return the list of losses (floats or Values)')  # fmt: skip
    want = reference_train(_reference(seed), INPUTS, TARGETS, steps, 0.05)
    if len(got) != len(want):
        return _verdict(what, f'expected {len(want)} losses, got {len(got)}',
                        'append one loss per step')  # fmt: skip
    if all(math.isclose(g, w, rel_tol=1e-9) for g, w in zip(got, want)):
        return _verdict(f'{what}: the loss falls from {want[0]:.4f} to {want[-1]:.4f}', '')
    hint = 'loss (mean of squared errors), zero every grad, loss.backward(), p.data -= lr * p.grad'
    for wrong, why in (
        (reference_train(_reference(seed), INPUTS, TARGETS, steps, 0.05, zero=False),
         'the grads were never zeroed, so each step adds to the last: set p.grad = 0.0 first'),
        (_uphill(_reference(seed), INPUTS, TARGETS, steps, 0.05),
         'the loss climbs: step downhill, p.data -= lr * p.grad'),
    ):  # fmt: skip
        if all(math.isclose(g, w, rel_tol=1e-9) for g, w in zip(got, wrong)):
            hint = why
            break
    first = next(
        i for i, (g, w) in enumerate(zip(got, want)) if not math.isclose(g, w, rel_tol=1e-9)
    )
    return _verdict(
        what, f'step {first}: expected loss {want[first]:.6g}, got {got[first]:.6g}', hint
    )
