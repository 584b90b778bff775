"""microgrid.nn: Module bookkeeping, the MLP forward pass, inits, save/load, to_torch."""

import json
import math
import random
import statistics
import subprocess
import sys

import pytest

from microgrid import nn
from microgrid.engine import Value, _topological_order


@pytest.fixture
def torch():
    return pytest.importorskip('torch', reason='torch (a dev dependency) is needed for to_torch')


def manual_forward(model, x):
    """The MLP computed by hand from its weights, with plain floats."""
    fns = {
        'relu': lambda v: max(v, 0.0),
        'tanh': math.tanh,
        'sigmoid': lambda v: 1 / (1 + math.exp(-v)),
        'leaky_relu': lambda v: v if v > 0 else 0.01 * v,
        'linear': lambda v: v,
    }
    out = list(x)
    for layer in model.layers:
        f = fns[layer.activation]
        out = [f(sum(w.data * xi for w, xi in zip(n.w, out)) + n.b.data) for n in layer.neurons]
    return out


# -- architecture ---------------------------------------------------------------


def test_micrograd_demo_architecture_has_337_parameters():
    model = nn.MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337 == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    assert model.nin == 2 and model.nouts == [16, 16, 1] and model.activation == 'relu'
    assert [layer.activation for layer in model.layers] == ['relu', 'relu', 'linear']


def test_named_parameters_are_dotted_and_unique():
    model = nn.MLP(2, [3, 1], seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names[:4] == [
        'layers.0.neurons.0.w.0',
        'layers.0.neurons.0.w.1',
        'layers.0.neurons.0.b',
        'layers.0.neurons.1.w.0',
    ]
    assert names[-1] == 'layers.1.neurons.0.b'
    assert len(set(names)) == len(names) == 13
    assert [p for _, p in model.named_parameters()] == model.parameters()


@pytest.mark.parametrize('activation', nn.ACTIVATIONS)
def test_forward_matches_hand_computation(activation):
    model = nn.MLP(3, [4, 5, 2], activation=activation, seed=1)
    x = [0.5, -1.25, 2.0]
    out = model(x)
    assert isinstance(out, list) and len(out) == 2
    want = manual_forward(model, x)
    assert [o.data for o in out] == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_one_output_gives_a_value_and_many_give_a_list():
    assert isinstance(nn.MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = nn.MLP(2, [4, 3], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    layer_out = nn.Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(layer_out, list) and len(layer_out) == 1


def test_mlp_with_a_one_unit_hidden_layer_works():
    model = nn.MLP(2, [16, 1, 1], seed=3)
    out = model([0.3, -0.7])
    assert isinstance(out, Value)
    assert out.data == pytest.approx(manual_forward(model, [0.3, -0.7])[0], rel=1e-12)
    out.backward()
    assert len(model.parameters()) == 3 * 16 + 17 + 2


def test_each_neuron_is_one_dot_node():
    model = nn.MLP(2, [3, 2], activation='tanh', seed=0)
    xs = [Value(1.0), Value(-2.0)]
    outs = model(xs)
    nodes = {id(n): n for o in outs for n in _topological_order(o)}
    ops = [n.op for n in nodes.values()]
    assert ops.count('dot') == 5  # one per neuron
    assert ops.count('tanh') == 3 and ops.count('+') == 0 and ops.count('*') == 0
    # The last layer is linear: its neurons' outputs are the dot nodes themselves.
    assert [o.op for o in outs] == ['dot', 'dot']
    # A hidden dot node's parents: its weights, its bias, and the Value inputs.
    hidden = model.layers[0].neurons[0]
    dot_node = model.layers[0](xs)[0].parents[0]
    assert set(map(id, dot_node.parents)) == {id(p) for p in [*hidden.w, hidden.b, *xs]}


def test_neuron_gradients_are_the_inputs_and_weights():
    n = nn.Neuron(3, activation='linear', seed=0)
    xs = [Value(v) for v in (1.5, -2.0, 0.25)]
    out = n(xs)
    out.backward()
    assert [w.grad for w in n.w] == [1.5, -2.0, 0.25]
    assert n.b.grad == 1.0
    assert [x.grad for x in xs] == [w.data for w in n.w]


# -- initialisation and seeds -------------------------------------------------------


def test_seed_reproduces_weights_and_leaves_the_global_generator_alone():
    random.seed(123)
    before = random.getstate()
    a = nn.MLP(2, [8, 8, 1], seed=7).state_dict()
    b = nn.MLP(2, [8, 8, 1], seed=7).state_dict()
    c = nn.MLP(2, [8, 8, 1], seed=8).state_dict()
    assert random.getstate() == before
    assert a == b and a != c


def test_he_init_has_std_sqrt_2_over_fan_in_and_zero_biases():
    layer = nn.Layer(200, 100, init='he', seed=0)
    ws = [w.data for n in layer.neurons for w in n.w]
    assert statistics.fmean(ws) == pytest.approx(0.0, abs=0.005)
    assert statistics.pstdev(ws) == pytest.approx(math.sqrt(2 / 200), rel=0.03)
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_xavier_init_is_uniform_within_the_glorot_bound():
    layer = nn.Layer(100, 50, init='xavier', seed=0)
    bound = math.sqrt(6 / (100 + 50))
    ws = [w.data for n in layer.neurons for w in n.w]
    assert max(map(abs, ws)) <= bound
    assert max(map(abs, ws)) > 0.99 * bound
    assert statistics.pvariance(ws) == pytest.approx(bound**2 / 3, rel=0.05)


def test_uniform_init_is_micrograds_scheme():
    model = nn.MLP(50, [40, 1], init='uniform', seed=0)
    ws = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert -1 <= min(ws) < -0.99 and 0.99 < max(ws) <= 1
    assert statistics.pvariance(ws) == pytest.approx(1 / 3, rel=0.05)
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


# -- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    'args, kwargs, error, words',
    [
        ((0, [1]), {}, ValueError, 'nin'),
        ((2.0, [1]), {}, TypeError, 'nin'),
        ((2, []), {}, TypeError, 'nouts'),
        ((2, 3), {}, TypeError, 'nouts'),
        ((2, [4, 0]), {}, ValueError, 'nouts[1]'),
        ((2, [4, True]), {}, TypeError, 'nouts[1]'),
        ((2, [1]), {'activation': 'gelu'}, ValueError, "'gelu'"),
        ((2, [1]), {'init': 'zeros'}, ValueError, "'zeros'"),
        ((2, [1]), {'seed': 1.5}, TypeError, 'seed'),
    ],
)
def test_bad_construction_is_refused(args, kwargs, error, words):
    with pytest.raises(error) as info:
        nn.MLP(*args, **kwargs)
    assert words in str(info.value)


def test_bad_inputs_are_refused():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match='expects 2 inputs, got 3'):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match='str'):
        model('ab')
    with pytest.raises(TypeError):
        model(5.0)
    with pytest.raises(TypeError):
        model(['a', 1.0])


# -- Module bookkeeping -----------------------------------------------------------


class Custom(nn.Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.pair = [Value(1.0), Value(-1.0)]
        self.blocks = (nn.Neuron(2, seed=0), nn.Neuron(2, seed=1))
        self.head = nn.Layer(2, 1, seed=2)
        self.shared = self.scale  # the same Value again: counted once
        self._cache = [Value(9.0)]  # private: not a parameter
        self.note = 'not a parameter'


def test_attributes_lists_and_submodules_are_registered():
    m = Custom()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        'scale',
        'pair.0',
        'pair.1',
        'blocks.0.w.0',
        'blocks.0.w.1',
        'blocks.0.b',
        'blocks.1.w.0',
        'blocks.1.w.1',
        'blocks.1.b',
        'head.neurons.0.w.0',
        'head.neurons.0.w.1',
        'head.neurons.0.b',
    ]
    assert m._cache[0] not in m.parameters()


def test_parameters_are_named_parameters_values_in_the_same_order():
    """parameters() walks without making names, taking a list of Values at once."""
    m = Custom()
    a = Value(3.0)
    m.repeats = [a, m.scale, a, Value(4.0)]  # repeats, and a Value met before: each once
    m.mixed = [Value(5.0), nn.Neuron(1, seed=3), [a, Value(6.0)]]
    want = [p for _, p in m.named_parameters()]
    assert m.parameters() == want and len(want) == len({id(p) for p in want}) == 18


def test_zero_grad_zeroes_every_parameter():
    model = nn.MLP(2, [4, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_restores_outputs():
    a = nn.MLP(2, [5, 2], activation='tanh', seed=0)
    b = nn.MLP(2, [5, 2], activation='tanh', seed=1)
    x = [0.4, -0.9]
    assert [o.data for o in a(x)] != [o.data for o in b(x)]
    state = a.state_dict()
    assert all(type(v) is float for v in state.values())
    b.load_state_dict(state)
    assert [o.data for o in a(x)] == [o.data for o in b(x)]


@pytest.mark.parametrize(
    'change, error, words',
    [
        (
            lambda d: d.pop('layers.0.neurons.1.b'),
            ValueError,
            "missing key(s) 'layers.0.neurons.1.b'",
        ),
        (lambda d: d.update(extra=1.0), ValueError, "unexpected key(s) 'extra'"),
        (
            lambda d: d.update({'layers.1.neurons.0.w.2': '0.5'}),
            TypeError,
            'layers.1.neurons.0.w.2',
        ),
        (lambda d: d.update({'layers.0.neurons.0.b': True}), TypeError, 'layers.0.neurons.0.b'),
        (lambda d: d.update({'layers.0.neurons.0.b': math.nan}), ValueError, 'not finite'),
        (lambda d: d.update({'layers.0.neurons.0.b': None}), TypeError, 'NoneType'),
    ],
)
def test_load_state_dict_names_the_fault_and_changes_nothing(change, error, words):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    bad = nn.MLP(2, [3, 1], seed=5).state_dict()
    change(bad)
    with pytest.raises(error) as info:
        model.load_state_dict(bad)
    assert words in str(info.value)
    assert model.state_dict() == before


def test_load_state_dict_wants_a_dict():
    with pytest.raises(TypeError, match='dict'):
        nn.MLP(2, [1]).load_state_dict([('layers.0.neurons.0.b', 0.0)])


# -- save and load ------------------------------------------------------------------


def test_save_load_round_trip_gives_equal_outputs(tmp_path):
    model = nn.MLP(3, [6, 4, 2], activation='leaky_relu', init='xavier', seed=4)
    path = tmp_path / 'model.json'
    nn.save(model, path)
    doc = json.loads(path.read_text())
    assert doc['nin'] == 3 and doc['nouts'] == [6, 4, 2] and doc['activation'] == 'leaky_relu'
    loaded = nn.load(path)
    assert isinstance(loaded, nn.MLP) and loaded.nouts == [6, 4, 2]
    assert loaded.state_dict() == model.state_dict()  # floats survive JSON exactly
    for x in ([0.1, 0.2, 0.3], [-3.0, 0.5, 7.25]):
        assert [o.data for o in loaded(x)] == [o.data for o in model(x)]


def _saved(tmp_path):
    path = tmp_path / 'm.json'
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    return path, json.loads(path.read_text())


def _with_raw_weight(doc, raw):
    """The saved text with one weight written as the raw JSON text given."""
    doc = json.loads(json.dumps(doc))
    doc['state']['layers.0.neurons.0.b'] = '@@'
    return json.dumps(doc).replace('"@@"', raw)


def _tampered(doc, how):
    doc = json.loads(json.dumps(doc))
    how(doc)
    return json.dumps(doc)


@pytest.mark.parametrize(
    'make_text, words',
    [
        (lambda t, d: t[: len(t) // 2], 'not valid JSON'),
        (lambda t, d: '', 'not valid JSON'),
        (lambda t, d: '[1, 2]', 'JSON object'),
        (lambda t, d: _tampered(d, lambda x: x['state'].popitem()), 'has 13 parameters'),
        (lambda t, d: _tampered(d, lambda x: x.update(nouts=[3, 2])), 'has 17 parameters'),
        (lambda t, d: _tampered(d, lambda x: x.update(nouts=[10**9, 1])), 'parameters'),
        (lambda t, d: _tampered(d, lambda x: x.update(nouts=[3, -1])), "'nouts[1]'"),
        (lambda t, d: _tampered(d, lambda x: x.update(nouts='31')), "'nouts'"),
        (lambda t, d: _tampered(d, lambda x: x.update(nin=True)), "'nin'"),
        (lambda t, d: _tampered(d, lambda x: x.update(activation='os.system')), "'activation'"),
        (lambda t, d: _tampered(d, lambda x: x.update(format='pickle')), "'format'"),
        (lambda t, d: _tampered(d, lambda x: x.update(version=2)), "'version'"),
        (lambda t, d: _tampered(d, lambda x: x.update(extra=1)), 'unexpected'),
        (lambda t, d: _tampered(d, lambda x: x.pop('activation')), 'missing'),
        (lambda t, d: _tampered(d, lambda x: x.update(state=[1, 2])), "'state'"),
        (
            lambda t, d: _tampered(d, lambda x: x['state'].update({'layers.0.neurons.0.b': 'x'})),
            'layers.0.neurons.0.b',
        ),
        (
            lambda t, d: _tampered(
                d,
                lambda x: x['state'].update(
                    {'layers.0.neurons.9.b': x['state'].pop('layers.0.neurons.0.b')}
                ),
            ),
            'layers.0.neurons.0.b',
        ),
        (lambda t, d: _with_raw_weight(d, 'NaN'), 'NaN'),
        (lambda t, d: _with_raw_weight(d, '-Infinity'), 'Infinity'),
        (lambda t, d: _with_raw_weight(d, '1e999'), 'not finite'),
        (lambda t, d: _with_raw_weight(d, '1' * 400), "'layers.0.neurons.0.b' is not finite"),
        (lambda t, d: _with_raw_weight(d, '1' * 5000), 'not valid JSON'),
        (lambda t, d: _with_raw_weight(d, '{"__class__": "os.system"}'), 'layers.0.neurons.0.b'),
        (lambda t, d: t.replace('"nin": 2', '"nin": 2, "nin": 2'), 'duplicate'),
        (lambda t, d: '[' * 100000 + ']' * 100000, 'nested'),
    ],
)
def test_load_refuses_tampered_files(tmp_path, make_text, words):
    path, doc = _saved(tmp_path)
    text = path.read_text()
    bad = tmp_path / 'bad.json'
    bad.write_text(make_text(text, doc))
    with pytest.raises(ValueError) as info:
        nn.load(bad)
    assert words in str(info.value)


def test_load_refuses_bytes_that_are_not_utf8(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_bytes(b'\xff\xfe{"nin": 2}')
    with pytest.raises(ValueError, match='not valid JSON'):
        nn.load(bad)


def test_save_refuses_other_objects_and_non_finite_weights(tmp_path):
    with pytest.raises(TypeError, match='MLP'):
        nn.save(nn.Layer(2, 2), tmp_path / 'x.json')
    model = nn.MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[1].w[0].data = math.inf
    with pytest.raises(ValueError, match='layers.0.neurons.1.w.0'):
        nn.save(model, tmp_path / 'y.json')
    assert not (tmp_path / 'y.json').exists()


# -- to_torch -----------------------------------------------------------------------


@pytest.mark.parametrize('activation', ['relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear'])
def test_to_torch_gives_equal_outputs_and_gradients(torch, activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, init='uniform', seed=2)
    net = nn.to_torch(model)
    assert isinstance(net, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    rows = [[0.5, -1.5, 2.0], [-0.3, 0.8, -2.2], [1.1, 0.0, -0.4]]
    coef = [1.0, -2.0]  # an output weighting, so both outputs carry gradient

    xs = [[Value(v) for v in row] for row in rows]
    outs = [model(x) for x in xs]
    total = sum(c * o for out in outs for c, o in zip(coef, out))
    model.zero_grad()
    total.backward()

    tx = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    tout = net(tx)
    (tout * torch.tensor(coef, dtype=torch.float64)).sum().backward()

    got = [o.data for out in outs for o in out]
    assert got == pytest.approx(tout.detach().flatten().tolist(), rel=1e-12, abs=1e-12)
    got_grads = [v.grad for x in xs for v in x]
    assert got_grads == pytest.approx(tx.grad.flatten().tolist(), rel=1e-10, abs=1e-12)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3
    for layer, lin in zip(model.layers, linears):
        want_w = [w.grad for n in layer.neurons for w in n.w]
        want_b = [n.b.grad for n in layer.neurons]
        assert lin.weight.grad.flatten().tolist() == pytest.approx(want_w, rel=1e-10, abs=1e-12)
        assert lin.bias.grad.tolist() == pytest.approx(want_b, rel=1e-10, abs=1e-12)


def test_to_torch_refuses_other_objects(torch):
    with pytest.raises(TypeError, match='MLP'):
        nn.to_torch(nn.Neuron(2))


def test_importing_nn_does_not_import_torch_or_numpy():
    code = 'import sys, microgrid.nn; print(sorted({"torch", "numpy"} & set(sys.modules)))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'


def test_save_and_load_keep_the_output_activation(tmp_path) -> None:
    model = nn.MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh', seed=3)
    path = tmp_path / 'm.json'
    nn.save(model, path)
    back = nn.load(path)
    assert back.output_activation == 'tanh'
    x = [0.5, -1.0, 2.0]
    assert back(x).data == model(x).data
    assert -1.0 < back([50.0, 50.0, 50.0]).data < 1.0  # a tanh output, not a linear one


def test_load_reads_files_without_an_output_activation_as_linear(tmp_path) -> None:
    import json

    model = nn.MLP(2, [3, 1], seed=1)
    path = tmp_path / 'm.json'
    nn.save(model, path)
    doc = json.loads(path.read_text())
    del doc['output_activation']
    path.write_text(json.dumps(doc))
    assert nn.load(path).output_activation == 'linear'
    doc['output_activation'] = 'swish'
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="'output_activation' must be one of"):
        nn.load(path)
