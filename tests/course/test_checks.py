"""check(), check_mlp() and check_training(): wrong answers caught, acceptable ones accepted.

Fast, in-process tests. The lessons' own checks, fed the classic wrong answers inside a
kernel, are in test_exercises.py.
"""

from __future__ import annotations

import math
import random

import pytest

from microgrid import Value
from microgrid.course import check, check_mlp, check_training
from microgrid.course.nn_check import reference_train


def _line(capsys) -> str:
    return capsys.readouterr().out


# -----------------------------------------------------------------------------
# check()
# -----------------------------------------------------------------------------


def test_hand_rounded_answers_pass_and_differences_show_enough_digits(capsys):
    assert check('4 digits', 1.573, 1.5729155)
    assert check('4 digits, small', 0.0001235, 0.00012345)
    assert check('4 digits, negative', -0.7269, -0.72686198)
    assert not check('3 digits are not enough', 1.57, 1.5729155)
    out = _line(capsys).splitlines()
    assert out[:3] == ['✓ 4 digits', '✓ 4 digits, small', '✓ 4 digits, negative']
    assert out[3] == '✗ 3 digits are not enough: expected 1.57292, got 1.57.'
    # a difference in the 9th digit is shown, not "expected 1.5729, got 1.5729"
    assert not check('tight', 1.57291551, 1.5729155, rel=1e-12)
    assert _line(capsys) == '✗ tight: expected 1.5729155, got 1.57291551.\n'


def test_integers_show_as_integers(capsys):
    assert not check('backward twice', 36.0, 12.0)
    assert _line(capsys) == '✗ backward twice: expected 12, got 36.\n'


def test_numpy_arrays_and_scalars_are_accepted():
    np = pytest.importorskip('numpy')
    assert check('array', np.array([[1.0, 0.0], [-2.0, 3.0]]), [[1.0, 0.0], [-2.0, 3.0]])
    assert check('float64', np.float64(0.2), 0.2)
    assert check('float32 rounding', np.float32(0.1), 0.1)
    assert check('int64', np.int64(41), 41)
    assert check('0-d array', np.array(2.5), 2.5)
    assert check('array against array', [1.0, 2.0], np.array([1.0, 2.0]))
    assert not check('wrong shape', np.array([1.0, 2.0, 3.0]), [1.0, 2.0])


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip('torch')
    t = torch.tensor(1.5, requires_grad=True)
    (t**3 + 2 * t).backward()
    assert check('t.grad', t.grad, 8.75)
    assert check('needs grad', t * 2, 3.0)
    assert check('a row', torch.tensor([1.0, -1.5]), [1.0, -1.5])
    assert not check('wrong', t.grad, 6.75)


def test_mistakes_key_the_hint_to_the_wrong_answer(capsys):
    mistakes = [(0.04, 'that is the variance'), (math.sqrt(1 / 50), 'He uses 2 / n_in')]
    assert not check('std', 0.04, 0.2, hint='sqrt(2 / 50)', mistakes=mistakes)
    assert not check('std', 0.1414, 0.2, hint='sqrt(2 / 50)', mistakes=mistakes)
    assert not check('std', 0.3, 0.2, hint='sqrt(2 / 50)', mistakes=mistakes)
    assert not check('std', None, 0.2, hint='sqrt(2 / 50)', mistakes=mistakes)
    out = _line(capsys).splitlines()
    assert out[0].endswith('Hint: that is the variance')
    assert out[1].endswith('Hint: He uses 2 / n_in')
    assert out[2].endswith('Hint: sqrt(2 / 50)')
    assert out[3].startswith('✗ std: not filled in yet')
    lists = [([1, 1000, 1000, 1], 'the other way round')]
    assert not check('passes', [1, 1000, 1000, 1], [1000, 1, 1, 1000], mistakes=lists)
    assert _line(capsys).endswith('Hint: the other way round\n')


def test_a_check_of_a_callable_can_be_run_again(capsys):
    def fresh():
        x = Value(3.0)
        (x * x + x).backward()
        return x.grad

    assert check('once', fresh, 7.0) and check('twice', fresh, 7.0)


# -----------------------------------------------------------------------------
# check_mlp and check_training
# -----------------------------------------------------------------------------


def _classes(*, bias=True, hidden='tanh', output=None, grad_safe=True, with_b_param=True):
    class Neuron:
        def __init__(self, nin, linear=False):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0.0)
            self.linear = linear

        def __call__(self, x):
            if not grad_safe:
                xs = [getattr(xi, 'data', xi) for xi in x]
                s = sum(w.data * xi for w, xi in zip(self.w, xs)) + self.b.data
                return Value(s if self.linear else math.tanh(s))
            s = sum((wi * xi for wi, xi in zip(self.w, x)), self.b if bias else Value(0.0))
            act = output if self.linear else hidden
            return s if act is None else getattr(s, act)()

        def parameters(self):
            return self.w + ([self.b] if with_b_param else [])

    class Layer:
        def __init__(self, nin, nout, linear=False):
            self.neurons = [Neuron(nin, linear) for _ in range(nout)]

        def __call__(self, x):
            return [n(x) for n in self.neurons]

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP:
        def __init__(self, nin, nouts):
            sizes = [nin, *nouts]
            last = len(nouts) - 1
            self.layers = [Layer(sizes[i], sizes[i + 1], i == last) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x[0] if len(x) == 1 else x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


def test_check_mlp_passes_a_right_mlp(capsys):
    assert check_mlp(_classes())
    out = _line(capsys)
    assert out.count('✓') == 3 and '✗' not in out and '41' in out


@pytest.mark.parametrize(
    ('kwargs', 'hint'),
    [
        ({'bias': False}, 'without biases'),
        ({'with_b_param': False}, 'the biases are missing from parameters()'),
        ({'output': 'tanh'}, 'the last layer must be linear'),
        ({'hidden': None}, 'the hidden layers need tanh'),
        ({'hidden': 'relu'}, 'not relu'),
        ({'grad_safe': False}, 'Value operations'),
    ],
)
def test_check_mlp_names_the_classic_mistakes(capsys, kwargs, hint):
    assert not check_mlp(_classes(**kwargs))
    out = _line(capsys)
    assert '✗' in out and hint in out, out


def test_check_mlp_reports_a_stub_without_raising(capsys):
    class Stub:
        def __init__(self, nin, nouts):
            pass

        def parameters(self):
            return []

    assert not check_mlp(Stub)
    assert 'expected 41 Values, got 0' in _line(capsys)
    assert not check_mlp(lambda nin, nouts: 1 / 0)
    assert 'ZeroDivisionError' in _line(capsys)


def _train(zero=True, sign=1.0, record_after=False):
    def train(model, xs, ys, steps=20, lr=0.05):
        history = []
        for _ in range(steps):
            loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
            if zero:
                model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= sign * lr * p.grad
            history.append(loss)  # Values are accepted too
        return history

    return train


def test_check_training_passes_a_right_loop_and_names_mistakes(capsys):
    assert check_training(_train())
    assert '✓' in _line(capsys)
    assert not check_training(_train(zero=False))
    assert 'never zeroed' in _line(capsys)
    assert not check_training(_train(sign=-1.0))
    assert 'downhill' in _line(capsys)
    assert not check_training(lambda model, xs, ys, steps, lr: [])
    assert 'expected 20 losses, got 0' in _line(capsys)


def test_reference_train_lowers_the_loss():
    from microgrid.course.nn_check import INPUTS, TARGETS, _reference

    history = reference_train(_reference(0), INPUTS, TARGETS, 20, 0.05)
    assert history[-1] < 0.5 * history[0]
