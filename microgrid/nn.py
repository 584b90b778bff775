"""A thin neural-network layer on the engine: Module, Neuron, Layer, MLP.

A neuron is ``activation(w . x + b)``; its weighted sum is ONE engine ``dot`` node,
so the graph stays small and backward has few nodes to visit. A Layer is a list of
neurons, an MLP a list of layers whose last one is linear.

Parameters are plain Values. A Module finds them by looking at its attributes: a
Value, a Module, or a list/tuple of them is registered under its attribute name
(``layers.0.neurons.3.w.1``). Models are saved as validated JSON, never pickled.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import re
import secrets
import stat
from collections.abc import Iterator, Sequence
from numbers import Real
from typing import Any

from microgrid.data import _rng  # a private random.Random for an int seed
from microgrid.engine import Value, dot

ACTIVATIONS = ('relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear')
INITS = ('he', 'xavier', 'uniform')
LEAKY_SLOPE = 0.01  # as torch.nn.LeakyReLU's default negative_slope

# Value method applied after the weighted sum (None: linear, the sum itself).
_ACTIVATION_FN = {
    'relu': Value.relu,
    'tanh': Value.tanh,
    'sigmoid': Value.sigmoid,
    'leaky_relu': Value.leaky_relu,  # slope 0.01 by default
    'linear': None,
}


# -----------------------------------------------------------------------------
# Module: finds its parameters, names them, saves and loads their values.
# -----------------------------------------------------------------------------


class Module:
    """Base class: Values, Modules and lists of them held in attributes are its parameters."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, each shared Value once, in a stable order."""
        out: list[tuple[str, Value]] = []
        _collect(self, '', out, set())
        return out

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of named_parameters()."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set the grad of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{parameter name: its value}, a plain dict of floats (JSON-ready)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Any) -> None:
        """Set every parameter from a dict like state_dict()'s; all checked before any is set."""
        named = self.named_parameters()
        values = _validated_state(state, [name for name, _ in named])
        for (_, p), v in zip(named, values):
            p.data = v


def _collect(obj: Any, prefix: str, out: list, seen: set) -> None:
    """Walk a Module's public attributes (and lists of them) for Values."""
    for name, v in vars(obj).items():
        if not name.startswith('_'):
            _collect_item(v, prefix + name, out, seen)


def _collect_item(v: Any, name: str, out: list, seen: set) -> None:
    if type(v) is Value:
        if id(v) not in seen:
            seen.add(id(v))
            out.append((name, v))
    elif isinstance(v, Module):
        if id(v) not in seen:  # a submodule reached twice is counted once
            seen.add(id(v))
            _collect(v, name + '.', out, seen)
    elif isinstance(v, (list, tuple)):
        for i, item in enumerate(v):
            _collect_item(item, f"{name}.{i}", out, seen)


def _validated_state(state: Any, names: list[str]) -> list[float]:
    """The state's values as floats in the order of names, after checking names, count
    and types (nothing is built, so a hostile state costs only the checks)."""
    if not isinstance(state, dict):
        raise TypeError(f"load_state_dict: expected a dict, got {type(state).__name__}")
    missing = [k for k in names if k not in state]
    unexpected: list = []
    if missing or len(state) != len(names):
        known = set(names)
        unexpected = [k for k in state if k not in known]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s) {_short(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s) {_short(unexpected)}")
        raise ValueError(
            f"load_state_dict: {' and '.join(parts)} "
            f"(the model has {len(names)} parameters, the dict {len(state)} entries)"
        )
    values = []
    for name in names:
        v = state[name]
        if isinstance(v, bool) or not isinstance(v, Real):
            got = f"{type(v).__name__}: {v!r:.40}"
            raise TypeError(f"load_state_dict: {name!r} must be a real number, got {got}")
        try:
            f = float(v)
        except OverflowError:  # an int too large for a float
            f = math.inf
        if not math.isfinite(f):
            raise ValueError(f"load_state_dict: {name!r} is not finite ({v!r:.40})")
        values.append(f)
    return values


def _short(keys: list) -> str:
    shown = ', '.join(repr(k) for k in keys[:5])
    return f"{shown}, ... ({len(keys)} in all)" if len(keys) > 5 else shown


# -----------------------------------------------------------------------------
# Neuron, Layer, MLP.
# -----------------------------------------------------------------------------


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
        return [n._forward(xs) for n in self.neurons]

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
            out = [n._forward(out) for n in layer.neurons]
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
                pre = [math.fsum(w * x for w, x in zip(ws, row)) + b for ws, b in weights]
                for j, s in enumerate(pre):
                    if s > 0:
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


def _data_of(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _parameter_count(nin: int, nouts: Sequence[int], stop: int | None = None) -> int:
    """The number of parameters of MLP(nin, nouts); with ``stop``, any count past it may
    be returned as soon as the running total passes it (a huge nouts costs no time)."""
    total, fan_in = 0, nin
    for n in nouts:
        total += (fan_in + 1) * n
        if stop is not None and total > stop:
            return total
        fan_in = n
    return total


# -----------------------------------------------------------------------------
# Saving and loading: JSON with the architecture and the weights, validated on load.
# -----------------------------------------------------------------------------

_FORMAT = 'microgrid.MLP'
_VERSION = 1
_MAX_FILE_BYTES = 64 * 1024 * 1024
LOAD_MAX_PARAMETERS = 1_000_000
"""The largest model load() accepts (and save() writes): a guard against hostile files."""


def _checked_path(path: Any, who: str) -> str:
    """path as a str; only str and os.PathLike are paths (an int would be a file descriptor)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a str or os.PathLike, got {type(path).__name__}")
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError(f"{who}: path must give a str, got {type(p).__name__}")
    return p


def save(model: MLP, path: str | os.PathLike) -> None:
    """Write an MLP to a JSON file: its architecture and every weight (never pickle).

    The write is atomic: the text goes to a temporary file in the same folder, which is
    flushed, fsynced and then renamed onto ``path`` (os.replace). A failed save (a full
    disk, a file-size limit, a kill) leaves any previous file at ``path`` as it was.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"save: expected an MLP, got {type(model).__name__}")
    target = _checked_path(path, 'save')
    count = _parameter_count(model.nin, model.nouts)
    if count > LOAD_MAX_PARAMETERS:
        raise ValueError(
            f"save: the model has {count} parameters, more than load() accepts "
            f"(LOAD_MAX_PARAMETERS = {LOAD_MAX_PARAMETERS}); nothing written"
        )
    state = model.state_dict()
    for name, v in state.items():
        if not math.isfinite(v):
            raise ValueError(f"save: parameter {name!r} is not finite ({v!r}); nothing written")
    doc = {
        'format': _FORMAT,
        'version': _VERSION,
        'nin': model.nin,
        'nouts': list(model.nouts),
        'activation': model.activation,
        'output_activation': model.output_activation,
        'state': state,
    }
    _write_atomically(target, json.dumps(doc, indent=1).encode('utf-8'))


def _write_atomically(target: str, data: bytes) -> None:
    """Write data to a temporary file beside target, fsync it, then rename it onto target."""
    if os.path.islink(target):  # replace the file the link points to, not the link
        target = os.path.realpath(target)
    folder, base = os.path.split(os.path.abspath(target))
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through a file (or link) someone placed there; 0o666 & ~umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0), 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:  # keep the mode of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, 'O_DIRECTORY'):  # make the rename itself durable (POSIX)
        try:
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)


def load(path: str | os.PathLike) -> MLP:
    """Read an MLP written by save(); a malformed file raises ValueError naming the fault.

    Files are treated as untrusted, and refusing one stays cheap: the file must be at
    most 64 MiB, hold no more JSON entries than a model of LOAD_MAX_PARAMETERS
    (1,000,000) parameters needs, and its architecture must agree with the keys and
    the count of its 'state' before any Value is built. A file over 1 MiB is first
    checked on its bytes (the claimed architecture against its count of entries and
    of keys), so most bad files are refused before parsing, in about their own size
    of memory; the others cost the JSON parse, a few times their size.
    """
    where = _checked_path(path, 'load')
    with open(where, 'rb') as f:
        size = os.fstat(f.fileno()).st_size  # 0 for a pipe: then read up to the limit
        if size > _MAX_FILE_BYTES:
            raise ValueError(f"load: {where!r} is larger than {_MAX_FILE_BYTES} bytes")
        raw = f.read((size or _MAX_FILE_BYTES) + 1)
    if len(raw) > _MAX_FILE_BYTES:
        raise ValueError(f"load: {where!r} is larger than {_MAX_FILE_BYTES} bytes")
    # Every JSON value costs a separator or an opening bracket, and these counts run in C
    # without allocating: a file with more than a model at the limit needs is refused
    # before it is parsed (a saved model of P parameters and L layers has 2P + L + 12).
    entries = raw.count(b',') + raw.count(b':') + raw.count(b'[') + raw.count(b'{')
    if entries > 3 * LOAD_MAX_PARAMETERS:
        raise ValueError(
            f"load: {where!r} holds about {entries} JSON entries, more than a model of "
            f"at most {LOAD_MAX_PARAMETERS} parameters (LOAD_MAX_PARAMETERS) needs"
        )
    if len(raw) > _PRECHECK_BYTES:
        _precheck_architecture(raw, where)
    try:
        text = raw.decode('utf-8')
        del raw
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"load: {where!r} is nested too deeply") from None
    except ValueError as e:  # bad UTF-8, bad JSON, a duplicate key, NaN, a huge int literal
        msg = str(e)
        if not msg.startswith('load:'):
            msg = f"load: {where!r} is not valid JSON: {msg}"
        raise ValueError(msg) from None
    del text
    return _model_from_doc(doc)


_PRECHECK_BYTES = 1 << 20
_NIN = re.compile(rb'"nin"\s*:\s*(\d{1,20})\s*[,}]')
_NOUTS = re.compile(rb'"nouts"\s*:\s*\[\s*(\d{1,20}(?:\s*,\s*\d{1,20})*)\s*\]')


def _precheck_architecture(raw: bytes, where: str) -> None:
    """Before parsing a large file: its claimed architecture against its count of ':'.

    In a valid file no string holds a ':' and nothing nests below 'state', so the
    "nin" and "nouts" keys each appear once (a match of these patterns in valid JSON is
    a key, since a string cannot hold an unescaped quote) and the file has exactly one
    ':' per parameter plus 6 (7 with "output_activation"), and one '"layers.' per
    parameter (save() never escapes a key's letters). A file that fails this is refused
    at the cost of a few scans of its bytes; one the patterns do not fit is left to the
    full checks.
    """
    nins, nouts = _NIN.findall(raw), _NOUTS.findall(raw)
    if len(nins) != 1 or len(nouts) != 1:
        return
    nin, sizes = int(nins[0]), [int(n) for n in nouts[0].split(b',')]
    if nin < 1 or not all(sizes):
        return  # the full checks say what is wrong
    count = _parameter_count(nin, sizes, stop=LOAD_MAX_PARAMETERS)
    arch = f"nin={nin}, nouts={_short_list(sizes)}"
    if count > LOAD_MAX_PARAMETERS:
        raise ValueError(
            f"load: the architecture {arch} has more than {LOAD_MAX_PARAMETERS} parameters "
            f"(LOAD_MAX_PARAMETERS), the most load() accepts"
        )
    held = raw.count(b':') - 6 - (b'"output_activation"' in raw)  # an optional 7th key
    if held != count:
        raise ValueError(
            f"load: the architecture {arch} has {count} parameters but {where!r} holds "
            f"{held} entries in 'state'"
        )
    named = raw.count(b'"layers.')  # every key, and nothing else, starts so (unescaped)
    if named != count:
        raise ValueError(
            f"load: 'state' does not match the architecture {arch}: {count} parameters "
            f"but {named} keys named like 'layers.0.neurons.0.w.0'"
        )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)  # in C; only a short dict means a key came twice
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise ValueError(f"load: duplicate key {k!r:.60}")
            seen.add(k)
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"load: {name} is not allowed (weights must be finite numbers)")


def _model_from_doc(doc: Any) -> MLP:
    if not isinstance(doc, dict):
        raise ValueError(f"load: the file must hold a JSON object, got {type(doc).__name__}")
    expected = {'format', 'version', 'nin', 'nouts', 'activation', 'state'}
    optional = {'output_activation'}  # files written before it existed: a linear output
    if not expected <= set(doc) <= expected | optional:
        missing, extra = expected - set(doc), set(doc) - expected - optional
        raise ValueError(
            f"load: wrong top-level keys (missing {sorted(missing)}, unexpected {sorted(extra)})"
        )
    if doc['format'] != _FORMAT:
        raise ValueError(f"load: 'format' must be {_FORMAT!r}, got {doc['format']!r:.60}")
    if doc['version'] != _VERSION or isinstance(doc['version'], bool):
        raise ValueError(f"load: unsupported 'version' {doc['version']!r:.60}")
    nin, nouts, activation, state = doc['nin'], doc['nouts'], doc['activation'], doc['state']
    if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
        raise ValueError(f"load: 'nin' must be a positive int, got {nin!r:.60}")
    if not isinstance(nouts, list) or not nouts:
        raise ValueError(f"load: 'nouts' must be a non-empty list, got {nouts!r:.60}")
    for i, n in enumerate(nouts):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"load: 'nouts[{i}]' must be a positive int, got {n!r:.60}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"load: 'activation' must be one of {', '.join(ACTIVATIONS)}; got {activation!r:.60}"
        )
    output_activation = doc.get('output_activation', 'linear')
    if not isinstance(output_activation, str) or output_activation not in ACTIVATIONS:
        raise ValueError(
            f"load: 'output_activation' must be one of {', '.join(ACTIVATIONS)}; "
            f"got {output_activation!r:.60}"
        )
    if not isinstance(state, dict):
        raise ValueError(f"load: 'state' must be an object, got {type(state).__name__}")
    # Everything about the state is checked before any Value is built: the count, which
    # bounds the model by the limit and by the file, then every name and value.
    arch = f"nin={nin}, nouts={_short_list(nouts)}"
    count = _parameter_count(nin, nouts, stop=max(LOAD_MAX_PARAMETERS, len(state)))
    if count > LOAD_MAX_PARAMETERS:
        raise ValueError(
            f"load: the architecture {arch} has more than {LOAD_MAX_PARAMETERS} parameters "
            f"(LOAD_MAX_PARAMETERS), the most load() accepts"
        )
    if count != len(state):
        raise ValueError(
            f"load: the architecture {arch} has {count} parameters but 'state' holds {len(state)}"
        )
    absent = list(itertools.islice((k for k in _mlp_names(nin, nouts) if k not in state), 5))
    if absent:  # the counts agree, so some keys are unexpected too: show a few
        strange = [k for k in itertools.islice(state, 100) if not _is_mlp_name(k, nin, nouts)]
        raise ValueError(
            f"load: 'state' does not match the architecture {arch}: missing key(s) "
            f"{_short(absent)}{', ...' if len(absent) == 5 else ''}"
            + (f"; unexpected key(s) such as {_short(strange[:5])}" if strange else '')
        )
    names = list(_mlp_names(nin, nouts))
    try:
        values = _validated_state(state, names)
    except (TypeError, ValueError) as e:
        raise ValueError(f"load: {e}") from None
    by_name = dict(zip(names, values))
    model = MLP(nin, nouts, activation, seed=0, output_activation=output_activation)
    for name, p in model.named_parameters():
        p.data = by_name[name]
    return model


def _mlp_names(nin: int, nouts: list[int]) -> Iterator[str]:
    """The parameter names of MLP(nin, nouts), in named_parameters() order, one at a time."""
    fan_in = nin
    for layer, n in enumerate(nouts):
        for j in range(n):
            prefix = f"layers.{layer}.neurons.{j}."
            for k in range(fan_in):
                yield f"{prefix}w.{k}"
            yield prefix + 'b'
        fan_in = n


_NAME = re.compile(r'layers\.(0|[1-9]\d*)\.neurons\.(0|[1-9]\d*)\.(?:w\.(0|[1-9]\d*)|b)')


def _is_mlp_name(key: Any, nin: int, nouts: list[int]) -> bool:
    """Whether key names a parameter of MLP(nin, nouts), without listing them all."""
    m = _NAME.fullmatch(key) if isinstance(key, str) else None
    if m is None:
        return False
    layer, j = int(m[1]), int(m[2])
    if layer >= len(nouts) or j >= nouts[layer]:
        return False
    return m[3] is None or int(m[3]) < (nin if layer == 0 else nouts[layer - 1])


def _short_list(xs: list) -> str:
    return repr(xs) if len(xs) <= 8 else f"[{', '.join(map(str, xs[:8]))}, ... ({len(xs)} sizes)]"


# -----------------------------------------------------------------------------
# Onward to PyTorch.
# -----------------------------------------------------------------------------


def to_torch(model: MLP) -> Any:
    """The same network as a float64 torch.nn.Sequential of Linear and activation modules."""
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch: expected an MLP, got {type(model).__name__}")
    import torch

    modules: list = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if layer.activation == 'relu':
            modules.append(torch.nn.ReLU())
        elif layer.activation == 'tanh':
            modules.append(torch.nn.Tanh())
        elif layer.activation == 'sigmoid':
            modules.append(torch.nn.Sigmoid())
        elif layer.activation == 'leaky_relu':
            modules.append(torch.nn.LeakyReLU(LEAKY_SLOPE))
    return torch.nn.Sequential(*modules)
