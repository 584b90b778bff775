"""Saving and loading an MLP: JSON with its architecture and every weight, never pickle.

``save`` writes atomically (a temporary file beside the target, fsynced, then renamed).
``load`` treats every file as untrusted: its size, its count of entries and its claimed
architecture are checked against each other before any JSON is parsed or any Value
built, so refusing a hostile file stays cheap. Both are also ``microgrid.nn.save`` and
``microgrid.nn.load``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import secrets
import stat
from collections.abc import Iterator
from typing import Any

from microgrid.nn.layers import ACTIVATIONS, MLP, Layer, parameter_count
from microgrid.nn.module import _short, _validated_state

__all__ = ['LOAD_MAX_PARAMETERS', 'load', 'save']

LOAD_MAX_PARAMETERS = 1_000_000
"""The largest model load() accepts (and save() writes): a guard against hostile files."""


_FORMAT = 'microgrid.MLP'
_VERSION = 1
_MAX_FILE_BYTES = 64 * 1024 * 1024


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
    nin, nouts, activation, output_activation = _architecture(model)
    count = parameter_count(nin, nouts)
    if count > LOAD_MAX_PARAMETERS:
        raise ValueError(
            f"save: the model has {count} parameters, more than load() accepts "
            f"(LOAD_MAX_PARAMETERS = {LOAD_MAX_PARAMETERS}); nothing written"
        )
    state = {name: float(v) for name, v in model.state_dict().items()}
    _check_names(list(state), nin, nouts)
    for name, v in state.items():
        if not math.isfinite(v):
            raise ValueError(f"save: parameter {name!r} is not finite ({v!r}); nothing written")
    doc = {
        'format': _FORMAT,
        'version': _VERSION,
        'nin': nin,
        'nouts': nouts,
        'activation': activation,
        'output_activation': output_activation,
        'state': state,
    }
    _write_atomically(target, json.dumps(doc, indent=1).encode('utf-8'))


def _architecture(model: MLP) -> tuple[int, list[int], str, str]:
    """(nin, nouts, activation, output_activation) read from the layers the model has now,
    which may differ from what it was built with (a replaced head); refused with a clear
    ValueError, before anything is written, when load() could not build it back."""
    layers = model.layers
    if not isinstance(layers, list) or not layers or not all(isinstance(x, Layer) for x in layers):
        raise ValueError("save: model.layers must be a non-empty list of Layers; nothing written")
    for i, layer in enumerate(layers):
        if i and layer.nin != layers[i - 1].nout:
            raise ValueError(
                f"save: layers[{i}] takes {layer.nin} inputs but layers[{i - 1}] gives "
                f"{layers[i - 1].nout}, so the model cannot run; nothing written"
            )
        neurons = layer.neurons
        if len(neurons) != layer.nout or any(len(n.w) != layer.nin for n in neurons):
            raise ValueError(
                f"save: layers[{i}] does not hold {layer.nout} neurons of {layer.nin} weights "
                f"each, as Layer({layer.nin}, {layer.nout}) does; nothing written"
            )
    hidden = {layer.activation for layer in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(
            f"save: the hidden layers use {sorted(hidden)}, but the file format holds one "
            f"activation for all hidden layers; nothing written"
        )
    activation = hidden.pop() if hidden else model.activation
    return layers[0].nin, [layer.nout for layer in layers], activation, layers[-1].activation


def _check_names(names: list[str], nin: int, nouts: list[int]) -> None:
    """The model's parameter names must be those of MLP(nin, nouts): a weight tied to
    another (one Value in two places) is named once, and could not load back."""
    for k, (have, want) in enumerate(itertools.zip_longest(names, _mlp_names(nin, nouts))):
        if have != want:
            raise ValueError(
                f"save: parameter {k} is {have!r} where an MLP of this architecture has "
                f"{want!r}: a weight shared between two places (tied) is one parameter, so "
                f"the file would not load back; untie it (copy the Value) first. Nothing written"
            )


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
    count = parameter_count(nin, sizes, stop=LOAD_MAX_PARAMETERS)
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
    count = parameter_count(nin, nouts, stop=max(LOAD_MAX_PARAMETERS, len(state)))
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
