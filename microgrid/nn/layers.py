"""Neuron, Layer and MLP: the network's building blocks.

A neuron is ``activation(w . x + b)``; its weighted sum is ONE engine ``dot`` node,
so the graph stays small and backward has few nodes to visit. A Layer is a list of
neurons, an MLP a list of layers whose last one is linear.

Each is a Module (module.py), so it finds and names its parameters.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from microgrid.engine import Value, dot, dots
from microgrid.nn.data import _rng  # a private random.Random for an int seed
from microgrid.nn.module import Module

__all__ = ['ACTIVATIONS', 'INITS', 'LEAKY_SLOPE', 'MLP', 'Layer', 'Neuron', 'parameter_count']

ACTIVATIONS = ('relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear')
"""The activations a Neuron, Layer or MLP accepts ('linear' is none)."""
INITS = ('he', 'xavier', 'uniform')
"""Weight initialisations: He (relu), Xavier (tanh, sigmoid), micrograd's uniform(-1, 1)."""
LEAKY_SLOPE = 0.01
"""leaky_relu's slope below 0, as torch.nn.LeakyReLU's default negative_slope."""

# Value method applied after the weighted sum (None: linear, the sum itself).
_ACTIVATION_FN = {
    'relu': Value.relu,
    'tanh': Value.tanh,
    'sigmoid': Value.sigmoid,
    'leaky_relu': Value.leaky_relu,  # slope 0.01 by default
    'linear': None,
}


def _check_size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}: {value!r:.40}")
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
    return value


def _check_choice(value: Any, choices: tuple, what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        names = ', '.join(map(repr, choices))
        raise ValueError(f"{what} must be one of {names}; got {value!r:.40}")
    return value


def _model_rng(seed: Any) -> Any:
    """Where starting weights come from: seed=None draws from the global ``random`` module
    (so ``random.seed(n)`` reproduces a model, as in micrograd); an int, str or
    random.Random gives a private generator that leaves the global one alone."""
    return random if seed is None or seed is random else _rng(seed)


def _activation_from(activation: str, nonlin: Any, who: str) -> str:
    """The activation, or micrograd's ``nonlin`` keyword mapped to it (True: relu)."""
    if nonlin is None:
        return _check_choice(activation, ACTIVATIONS, 'activation')
    if not isinstance(nonlin, bool):
        raise TypeError(f"{who} nonlin must be True or False, got {nonlin!r:.40}")
    if activation != 'relu':
        raise TypeError(
            f"{who}: give either activation= or micrograd's nonlin=, not both "
            f"(nonlin=True is activation='relu', nonlin=False is activation='linear')"
        )
    return 'relu' if nonlin else 'linear'


def _initial_weights(nin: int, fan_out: int, init: str, rng: Any) -> list[float]:
    """nin starting weights: He (normal, std sqrt(2/fan_in)), Xavier (uniform) or U(-1, 1)."""
    if init == 'he':
        std = math.sqrt(2.0 / nin)
        return [rng.gauss(0.0, std) for _ in range(nin)]
    if init == 'xavier':
        bound = math.sqrt(6.0 / (nin + fan_out))
        return [rng.uniform(-bound, bound) for _ in range(nin)]
    return [rng.uniform(-1.0, 1.0) for _ in range(nin)]  # 'uniform', micrograd's scheme


def _check_inputs(x: Any, nin: int, who: str) -> list:
    if isinstance(x, (str, bytes, dict)) or not hasattr(x, '__len__'):
        raise TypeError(f"{who} expects a list of {nin} numbers or Values, got {type(x).__name__}")
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return list(x)


class Neuron(Module):
    """activation(w . x + b) with nin weights; the weighted sum is one engine dot node.

    ``init`` picks the starting weights: 'he' (normal with std sqrt(2/nin)), 'xavier'
    (uniform in +-sqrt(6/(nin + fan_out))) or 'uniform' (U(-1, 1)); biases start at 0.
    ``seed``: None draws from the global ``random`` module (``random.seed(n)`` makes it
    reproducible), an int or a random.Random gives a private generator.
    ``nonlin`` is micrograd's keyword: True means activation='relu', False 'linear'.
    """

    def __init__(
        self,
        nin: int,
        activation: str = 'relu',
        init: str = 'he',
        fan_out: int = 1,
        seed: Any = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        self.nin = _check_size(nin, 'Neuron nin')
        self.activation = _activation_from(activation, nonlin, 'Neuron')
        activation = self.activation
        _check_choice(init, INITS, 'init')
        rng = _model_rng(seed)
        fan_out = _check_size(fan_out, 'fan_out')
        self.w = [Value(wi) for wi in _initial_weights(nin, fan_out, init, rng)]
        self.b = Value(0.0)
        self._act = _ACTIVATION_FN[activation]

    def __call__(self, x: Sequence[Any]) -> Value:
        """activation(w . x + b) for nin inputs (numbers or Values)."""
        xs = _check_inputs(x, self.nin, 'Neuron')
        xs.append(1.0)
        return self._forward(xs)

    def _forward(self, x1: list) -> Value:
        # x1 is the inputs followed by 1.0 (the bias input): one dot node does w.x + b.
        s = dot([*self.w, self.b], x1)
        act = self._act
        return s if act is None else act(s)

    def __repr__(self) -> str:
        return f"Neuron(nin={self.nin}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons reading the same nin inputs; calling it always returns a list of Values.

    ``nonlin`` is micrograd's keyword: True means activation='relu', False 'linear'.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = 'relu',
        init: str = 'he',
        seed: Any = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        self.nin = _check_size(nin, 'Layer nin')
        self.nout = _check_size(nout, 'Layer nout')
        self.activation = _activation_from(activation, nonlin, 'Layer')
        activation = self.activation
        rng = _model_rng(seed)
        self.neurons = [Neuron(nin, activation, init, nout, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Any]) -> list[Value]:
        """The outputs of every neuron, as a list (even for one neuron)."""
        xs = _check_inputs(x, self.nin, 'Layer')
        xs.append(1.0)
        return self._forward(xs)

    def _forward(self, x1: list) -> list[Value]:
        # Plain version: [n._forward(x1) for n in self.neurons]. The neurons share their
        # inputs x1 (then 1.0, the bias input): engine.dots reads x1's numbers once.
        sums = dots([[*n.w, n.b] for n in self.neurons], x1)
        return [s if n._act is None else n._act(s) for n, s in zip(self.neurons, sums)]

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use ``activation``, the last layer
    ``output_activation`` (linear by default).

    ``MLP(2, [16, 16, 1])`` maps 2 inputs through two hidden layers of 16 to one output;
    ``MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh', init='uniform')`` is
    the lecture's all-tanh network. Calling it returns a Value when the last layer has
    one output, else a list of Values. ``seed``: None draws from the global ``random``
    module (``random.seed(n)`` reproduces the model), an int gives a private generator.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = 'relu',
        init: str = 'he',
        seed: Any = None,
        output_activation: str = 'linear',
    ) -> None:
        self.nin = _check_size(nin, 'MLP nin')
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise TypeError(f"nouts must be a non-empty list of layer sizes, got {nouts!r:.40}")
        self.nouts = [_check_size(n, f"nouts[{i}]") for i, n in enumerate(nouts)]
        self.activation = _check_choice(activation, ACTIVATIONS, 'activation')
        self.init = _check_choice(init, INITS, 'init')
        self.output_activation = _check_choice(output_activation, ACTIVATIONS, 'output_activation')
        rng = _model_rng(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation, init, rng)
            for i in range(len(self.nouts))
        ]

    def __call__(self, x: Sequence[Any]) -> Any:
        """Forward pass: a Value if the last layer has one output, else a list of Values."""
        out = _check_inputs(x, self.nin, 'MLP')
        for layer in self.layers:
            out.append(1.0)
            out = layer._forward(out)
        return out[0] if len(out) == 1 else out

    def dead_units(self, X: Sequence[Sequence[Any]]) -> list[list[int]]:
        """For each layer, the indices of its relu units that output 0 for every input in X.

        Such a unit passes no gradient back, so neither it nor what feeds it can learn;
        a layer whose units are all dead stops training altogether. Computed on plain
        floats, without building a graph. Only relu units can be dead.
        """
        rows = [[_data_of(v) for v in _check_inputs(x, self.nin, 'dead_units')] for x in X]
        dead: list[list[int]] = []
        for layer in self.layers:
            weights = [([w.data for w in n.w], n.b.data) for n in layer.neurons]
            alive = [False] * layer.nout
            outs = []
            for row in rows:
                pre = [_exact_dot(ws, row) + b for ws, b in weights]
                for j, s in enumerate(pre):
                    if not s <= 0:  # NaN too: a unit whose output is NaN is not outputting 0
                        alive[j] = True
                outs.append(pre)
            if layer.activation == 'relu':
                dead.append([j for j in range(layer.nout) if not alive[j]])
                rows = [[max(s, 0.0) for s in pre] for pre in outs]
            else:
                dead.append([])
                act = _ACTIVATION_FN[layer.activation]
                rows = [[s if act is None else act(Value(s)).data for s in pre] for pre in outs]
        return dead

    def __repr__(self) -> str:
        out = (
            f", output_activation={self.output_activation!r}"
            if self.output_activation != 'linear'
            else ''
        )
        return f"MLP(nin={self.nin}, nouts={self.nouts}, activation={self.activation!r}{out})"


def _exact_dot(ws: list[float], row: list[float]) -> float:
    """sum(w * x), correctly rounded; NaN where it has no value (inf - inf, an overflow)."""
    try:
        return math.fsum(w * x for w, x in zip(ws, row))
    except (ValueError, OverflowError):  # fsum refuses -inf + inf and intermediate overflow
        return math.nan


def _data_of(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def parameter_count(nin: int, nouts: Sequence[int], stop: int | None = None) -> int:
    """The number of parameters of MLP(nin, nouts); with ``stop``, any count past it may
    be returned as soon as the running total passes it (a huge nouts costs no time)."""
    total, fan_in = 0, nin
    for n in nouts:
        total += (fan_in + 1) * n
        if stop is not None and total > stop:
            return total
        fan_in = n
    return total
