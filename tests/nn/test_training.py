"""The whole loop: the issue's acceptance runs, and fit() against the loop it packs up.

Each run is sized to take a few seconds on the scalar engine; longer runs live in the
notebooks and benchmarks.
"""

import math

import pytest

from microgrid import data, losses, nn, optim, training
from microgrid.engine import Value

# -- acceptance -------------------------------------------------------------------------


def test_micrograds_demo_reaches_full_training_accuracy():
    # micrograd's demo, written as the plain explicit loop: MLP(2, [16, 16, 1]) with
    # relu and micrograd's U(-1, 1) init, 100 two-moons points, hinge loss + 1e-4 * L2,
    # 100 SGD steps with lr = 1.0 - 0.9 * k / 100.
    X, y = data.make_moons(100, noise=0.1, seed=1)
    y = [2 * label - 1 for label in y]  # hinge labels are -1 / +1
    model = nn.MLP(2, [16, 16, 1], activation='relu', init='uniform', seed=1)
    params = model.parameters()
    opt = optim.SGD(params, lr=1.0)
    accuracies = []
    for k in range(100):
        opt.lr = 1.0 - 0.9 * k / 100
        scores = [model(x) for x in X]
        loss = losses.hinge(scores, y) + 1e-4 * losses.l2(params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        accuracies.append(sum((s.data > 0) == (t > 0) for s, t in zip(scores, y)) / len(y))
    assert accuracies[-1] == 1.0
    assert accuracies[0] < 0.9  # it had to learn it
    assert training.accuracy(model, X, y, 'hinge') == 1.0  # and the final weights keep it
    assert loss.data < 0.05


def test_tanh_mlp_learns_xor_with_adam_and_bce():
    X, y = data.make_xor(4, noise=0.0)  # the truth table
    model = nn.MLP(2, [8, 1], activation='tanh', init='xavier', seed=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    history = training.fit(model, X, y, loss='bce', optimizer=opt, epochs=150, progress=False)
    probs = [1 / (1 + math.exp(-model(x).data)) for x in X]
    assert [round(p) for p in probs] == [0, 1, 1, 0]
    assert all(abs(p - t) < 0.1 for p, t in zip(probs, y))
    assert history['accuracy'][-1] == 1.0 and history['loss'][-1] < 0.05
    assert history['loss'][0] > 0.5  # from chance level, about log 2


def test_spiral_with_cross_entropy_reaches_95_percent():
    X, y = data.make_spiral(3, 40, seed=0)
    model = nn.MLP(2, [16, 16, 3], seed=0)
    opt = optim.Adam(model.parameters(), lr=0.03)
    history = training.fit(
        model, X, y, loss='cross_entropy', optimizer=opt, epochs=25, batch_size=8, seed=0,
        progress=False,
    )  # fmt: skip
    assert training.accuracy(model, X, y, 'cross_entropy') >= 0.95
    assert history['accuracy'][0] < 0.7


@pytest.fixture(scope='module')
def digits():
    X, y = data.make_digits(100, seed=0)
    return data.train_test_split(X, y, test_size=0.25, seed=0)


def test_digits_mlp_reaches_95_percent_on_the_test_set(digits):
    X_train, X_test, y_train, y_test = digits
    model = nn.MLP(64, [10, 10], activation='tanh', init='xavier', seed=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    training.fit(
        model, X_train, y_train, loss='cross_entropy', optimizer=opt, epochs=4, batch_size=8,
        seed=0, progress=False,
    )  # fmt: skip
    assert len(X_test) == 250
    assert training.accuracy(model, X_test, y_test, 'cross_entropy') >= 0.95


def test_five_versus_rest_reaches_98_percent_on_the_test_set(digits):
    X_train, X_test, y_train, y_test = digits
    is5_train = [int(d == 5) for d in y_train]
    is5_test = [int(d == 5) for d in y_test]
    model = nn.MLP(64, [8, 1], activation='tanh', init='xavier', seed=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    training.fit(
        model, X_train, is5_train, loss='bce', optimizer=opt, epochs=4, batch_size=8, seed=0,
        progress=False,
    )  # fmt: skip
    # Saying "not a 5" every time would score 90%; 98% needs the 5s found.
    assert sum(is5_test) >= 20
    assert training.accuracy(model, X_test, is5_test, 'bce') >= 0.98
    found = sum(model(x).data > 0 for x, t in zip(X_test, is5_test) if t)
    assert found / sum(is5_test) >= 0.9


# -- fit is the explicit loop ----------------------------------------------------------------


def explicit_loop(model, X, y, opt, sched, epochs, size, seed, l2):
    """The loop fit() documents, written out."""
    import random

    rng = random.Random(seed)
    hist = {'loss': [], 'accuracy': []}
    labels = [2 * t - 1 for t in y]
    for _ in range(epochs):
        total, right = 0.0, 0
        for Xb, yb in data.batches(X, labels, size, shuffle=size < len(X), seed=rng):
            scores = [model(x) for x in Xb]
            loss = losses.hinge(scores, yb) + l2 * losses.l2(model.parameters())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.data * len(Xb)
            right += sum((s.data > 0) == (t > 0) for s, t in zip(scores, yb))
        hist['loss'].append(total / len(X))
        hist['accuracy'].append(right / len(X))
        sched.step()
    return hist


@pytest.mark.parametrize('batch_size', [None, 7])
def test_fit_gives_exactly_the_explicit_loops_history(batch_size):
    X, y = data.make_moons(30, seed=2)

    def setup():
        model = nn.MLP(2, [6, 1], seed=3)
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
        return model, opt, optim.StepLR(opt, step_size=2, gamma=0.5)

    m1, o1, s1 = setup()
    got = training.fit(
        m1, X, y, 'hinge', o1, epochs=5, batch_size=batch_size, scheduler=s1, l2=1e-3,
        seed=9, progress=False,
    )  # fmt: skip
    m2, o2, s2 = setup()
    want = explicit_loop(m2, X, y, o2, s2, 5, batch_size or len(X), 9, 1e-3)
    assert got == want
    assert m1.state_dict() == m2.state_dict()
    assert o1.lr == 0.5 * 0.5**2  # the schedule stepped once per epoch


def test_fit_with_mse_fits_a_line_and_has_no_accuracy():
    X = [[x / 10] for x in range(-10, 11)]
    y = [2.0 * x[0] + 1.0 for x in X]
    model = nn.MLP(1, [1], seed=0)  # one linear neuron
    history = training.fit(
        model, X, y, loss='mse', optimizer=optim.SGD(model.parameters(), lr=0.3), epochs=200,
        progress=False,
    )  # fmt: skip
    assert set(history) == {'loss'} and len(history['loss']) == 200
    neuron = model.layers[0].neurons[0]
    assert neuron.w[0].data == pytest.approx(2.0, abs=1e-6)
    assert neuron.b.data == pytest.approx(1.0, abs=1e-6)


def test_fit_accepts_a_callable_loss():
    X, y = data.make_blobs(20, centers=[[-2.0, 0.0], [2.0, 0.0]], cluster_std=0.3, seed=0)

    def my_loss(outputs, labels):
        return losses.mse(outputs, [2.0 * t - 1.0 for t in labels])

    model = nn.MLP(2, [1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = training.fit(model, X, y, loss=my_loss, optimizer=opt, epochs=20, progress=False)
    assert set(history) == {'loss'}
    assert history['loss'][-1] < 0.25 * history['loss'][0]
    with pytest.raises(TypeError, match='not a Value'):
        training.fit(model, X, y, loss=lambda o, t: 1.0, optimizer=opt, progress=False)


def test_fit_is_reproducible_with_a_seed():
    X, y = data.make_moons(24, seed=0)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [5, 1], seed=1)
        runs.append(training.fit(model, X, y, epochs=3, batch_size=5, seed=4, progress=False))
    assert runs[0] == runs[1]
    model = nn.MLP(2, [5, 1], seed=1)
    assert training.fit(model, X, y, epochs=3, batch_size=5, seed=5, progress=False) != runs[0]


def test_callback_runs_after_each_epoch_with_the_history_so_far():
    X, y = data.make_moons(10, seed=0)
    seen = []
    training.fit(
        nn.MLP(2, [3, 1], seed=0), X, y, epochs=4, progress=False,
        callback=lambda epoch, h: seen.append((epoch, len(h['loss']), len(h['accuracy']))),
    )  # fmt: skip
    assert seen == [(0, 1, 1), (1, 2, 2), (2, 3, 3), (3, 4, 4)]


def test_progress_bar_shows_loss_and_accuracy(capsys):
    X, y = data.make_moons(10, seed=0)
    history = training.fit(nn.MLP(2, [3, 1], seed=0), X, y, epochs=3, progress=True)
    err = capsys.readouterr().err
    assert '3/3' in err
    assert f"loss={history['loss'][-1]:.4g}" in err
    assert f"acc={history['accuracy'][-1]:.3f}" in err


def test_progress_false_prints_nothing(capsys):
    X, y = data.make_moons(10, seed=0)
    training.fit(nn.MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=False)
    out = capsys.readouterr()
    assert out.out == '' and out.err == ''


def test_fit_is_exported_at_the_top_level():
    import microgrid

    assert microgrid.fit is training.fit


# -- accuracy ---------------------------------------------------------------------------------


class Fixed:
    """A stand-in model that returns given outputs, one per call."""

    def __init__(self, outputs):
        self.outputs = iter(outputs)

    def __call__(self, x):
        return next(self.outputs)

    def parameters(self):
        return []


def test_accuracy_reads_outputs_as_each_loss_does():
    X = [[0.0]] * 4
    scores = [Value(0.5), Value(-0.2), Value(2.0), Value(-1.0)]
    assert training.accuracy(Fixed(scores), X, [1, 0, 0, 0], 'hinge') == 0.75
    assert training.accuracy(Fixed(scores), X, [1, -1, 1, -1], 'hinge') == 1.0
    assert training.accuracy(Fixed(scores), X, [1, 1, 1, 1], 'bce') == 0.5
    logits = [[Value(0.1), Value(0.9)], [Value(2.0), Value(-1.0)], [0.0, 0.0, 1.0], [3.0, 1.0]]
    assert training.accuracy(Fixed(logits), X, [1, 1, 2, 0], 'cross_entropy') == 0.75


def test_accuracy_refuses_losses_without_classes():
    with pytest.raises(ValueError, match='accuracy applies to'):
        training.accuracy(nn.MLP(1, [1]), [[0.0]], [0.0], 'mse')


# -- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    'kwargs, error, words',
    [
        ({'loss': 'l1'}, ValueError, "'l1'"),
        ({'loss': 3}, TypeError, 'loss'),
        ({'epochs': -1}, ValueError, 'epochs'),
        ({'batch_size': 0}, ValueError, 'batch_size'),
        ({'l2': -0.1}, ValueError, 'l2'),
        ({'optimizer': 'adam'}, TypeError, 'optimizer'),
        ({'callback': 5}, TypeError, 'callback'),
        ({'y': [0, 1, 2, 0]}, ValueError, 'hinge needs labels'),
        ({'y': [0, 1, 2, 0], 'loss': 'bce'}, ValueError, 'bce needs labels 0 or 1'),
        ({'y': [0, 1]}, ValueError, 'X has 4 samples but y has 2'),
    ],
)
def test_fit_refuses_bad_arguments(kwargs, error, words):
    args = {'X': [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], 'y': [0, 1, 1, 0]}
    args.update(kwargs)
    model = nn.MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(error) as info:
        training.fit(model, progress=False, **args)
    assert words in str(info.value)
    assert model.state_dict() == before


def test_fit_refuses_a_schedule_of_another_optimizer():
    model = nn.MLP(2, [2, 1], seed=0)
    other = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match='different optimizer'):
        training.fit(
            model, [[0.0, 0.0]], [1], optimizer=optim.SGD(model.parameters(), lr=0.1),
            scheduler=optim.StepLR(other, 1), progress=False,
        )  # fmt: skip
