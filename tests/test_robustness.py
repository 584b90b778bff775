"""The player's entry points and the CLI on big or hostile inputs: checked at the door,
linear in their arguments, and traceback-free."""

import pytest

from microgrid.engine import Value

NAN, INF = float('nan'), float('inf')


# -- the player's entry points check their arguments at the door -------------------------


def _small_graph():
    a, b = Value(2.0, 'a'), Value(-3.0, 'b')
    return a * b + a


@pytest.mark.parametrize(
    'call, error, words',
    [
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop='a'),
            TypeError,
            'loop must be an int',
        ),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=-1),
            ValueError,
            'loop must be an int in',
        ),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', loop=True), TypeError, 'loop'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', duration='9'), TypeError, 'duration'),
        (
            lambda p, L, t: p.backprop_gif(L, t / 'x.gif', last_duration=1.5),
            TypeError,
            'last_duration',
        ),
        (lambda p, L, t: p.backprop_gif(L, 3), TypeError, 'path must be a str or os.PathLike'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', scale='2'), TypeError, 'scale'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir=1), TypeError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', rankdir='XY'), ValueError, 'rankdir'),
        (lambda p, L, t: p.backprop_gif(L, t / 'x.gif', max_nodes='5'), TypeError, 'max_nodes'),
        (lambda p, L, t: p.backprop_gif('L', t / 'x.gif'), TypeError, 'needs a Value'),
        (lambda p, L, t: p.backprop_frames(L, 7), TypeError, 'folder must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, format=None), TypeError, 'format must be a str'),
        (lambda p, L, t: p.backprop_frames(L, t, names=[1]), TypeError, 'names must be a mapping'),
        (lambda p, L, t: p.backprop_player(L, path=5), TypeError, 'path must be a str'),
        (lambda p, L, t: p.backprop_player(L, interval='fast'), TypeError, 'interval'),
        (
            lambda p, L, t: p.backprop_player(L, show_local_grads='no'),
            TypeError,
            'show_local_grads',
        ),
        (lambda p, L, t: p.backprop_player(L, max_nodes=0), ValueError, 'max_nodes'),
    ],
)
def test_player_entry_points_check_argument_types_at_the_door(
    call, error, words, tmp_path, monkeypatch
):
    from microgrid import player

    def no_work(*args, **kwargs):
        raise AssertionError('work started before the arguments were checked')

    monkeypatch.setattr(player, '_scene', no_work)
    with pytest.raises(error, match=words):
        call(player, _small_graph(), tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the CLI: linear in NAME=VALUE arguments, flat chains, errors that name the limit ----


def _run_cli(argv, capsys):
    from microgrid import cli

    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_handles_50k_assignments_in_linear_time(capsys):
    import time

    n = 50_000
    argv = ['grad', 'x0 * x1 + x49999'] + [f'x{i}={i % 7}' for i in range(n)]
    start = time.process_time()  # CPU time of this process: other jobs do not inflate it
    rc, out, err = _run_cli(argv, capsys)
    spent = time.process_time() - start
    assert rc == 0, err
    assert float(out.splitlines()[0].split(' = ')[1]) == 5.0  # 0 * 1 + (49999 % 7 = 5)
    rows = [line.split() for line in out.splitlines()[3:]]
    assert len(rows) == n
    assert [rows[0][0], *map(float, rows[0][1:3])] == ['x0', 0.0, 1.0]
    assert [rows[1][0], *map(float, rows[1][1:3])] == ['x1', 1.0, 0.0]
    assert rows[5][-4:] == ['(not', 'in', 'the', 'expression)']
    # quadratic handling took ~10 s of CPU at this size; linear takes well under 1 s
    assert spent < 5.0, spent


def test_a_flat_chain_reaches_the_node_limit_not_the_depth_limit(capsys):
    from microgrid.expr import MAX_DEPTH, MAX_NODES, ExprError, evaluate

    for op, n, want in [('+', 1001, 1001.0), ('+', 5000, 5000.0), ('*', 3000, 1.0)]:
        assert evaluate(op.join(['x'] * n), {'x': 1.0}).data == want
    assert evaluate(' - '.join(['x'] * 2000), {'x': 1.0}).data == -1998.0
    with pytest.raises(ExprError, match=f'more than {MAX_NODES} nodes \\(the limit MAX_NODES\\)'):
        evaluate('+'.join(['x'] * 5001), {'x': 1.0})
    with pytest.raises(ExprError, match=f'more than {MAX_DEPTH} levels \\(the limit MAX_DEPTH'):
        evaluate('-' * 1500 + 'x', {'x': 1.0})
    with pytest.raises(ExprError, match="nested too deeply for Python's parser"):
        evaluate('(' * 300 + 'x' + ')' * 300, {'x': 1.0})
    rc, out, err = _run_cli(['grad', '+'.join(['x'] * 1001), 'x=2'], capsys)
    assert rc == 0 and out.splitlines()[-1].split()[0] == 'x'
    assert [float(t) for t in out.splitlines()[-1].split()[1:]] == [2.0, 1001.0]


def test_cli_gives_the_finite_power_and_never_the_raw_errno_tuple(capsys, monkeypatch):
    rc, out, err = _run_cli(['grad', 'x**-1', 'x=1e-300'], capsys)
    assert rc == 0, err
    assert 'x**-1 = 1e+300' in out and '-inf' in out
    # whatever raises a bare (errno, text) OverflowError, the CLI names it in words
    from microgrid import cli

    def overflow(*args, **kwargs):
        raise OverflowError(34, 'Numerical result out of range')

    monkeypatch.setattr(cli.Value, 'tanh', overflow)
    rc, out, err = _run_cli(['grad', 'tanh(x)', 'x=1'], capsys)
    assert rc == 2
    assert "(34, 'Numerical result out of range')" not in err
    assert 'math range error: the result is too large (Numerical result out of range)' in err
    assert 'Traceback' not in err and '(in tanh(x))' in err
    monkeypatch.setitem(cli._COMMANDS, 'grad', overflow)
    rc, out, err = _run_cli(['grad', 'x', 'x=1'], capsys)
    assert rc == 2 and 'Traceback' not in err
    assert "(34, 'Numerical" not in err and 'math range error' in err
