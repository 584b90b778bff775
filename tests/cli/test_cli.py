"""The command line: grad, step, draw, errors; in-process and as a real process."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path

import pytest
import torch

from microgrid import Value
from microgrid.cli import main

cli = import_module('microgrid.cli.app')  # the module that holds main

torch.set_default_dtype(torch.float64)

CLASSIC = ['tanh(x1*w1 + x2*w2 + b)', 'x1=2', 'x2=0', 'w1=-3', 'w2=1', 'b=6.8813735870195432']
ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    """main(argv) in-process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def table(out: str) -> dict[str, tuple[float, float]]:
    """The name/value/grad table of grad and step, as {name: (value, grad)}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == ['name', 'value', 'grad'])
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        name, value, grad = line.split()[:3]
        rows[name] = (float(value), float(grad))
    return rows


def assert_one_line_error(status, out, err, message=''):
    assert status == 2
    assert err.endswith('\n') and err.count('\n') == 1, err
    assert err.startswith('microgrid: error: ')
    assert message in err
    assert 'Traceback' not in err + out


# -- grad --------------------------------------------------------------------------


def test_grad_classic_neuron(capsys):
    status, out, err = run(capsys, 'grad', *CLASSIC)
    assert status == 0 and err == ''
    assert out.splitlines()[0] == 'tanh(x1*w1 + x2*w2 + b) = 0.7071067812'
    assert table(out) == {
        'x1': (2.0, -1.5),
        'x2': (0.0, 0.5),
        'w1': (-3.0, 1.0),
        'w2': (1.0, 0.0),
        'b': (6.881373587, 0.5),
    }


def test_grad_matches_pytorch(capsys):
    values = {'x': 0.7, 'y': -1.3, 'z': 2.2}
    expr = (
        'sigmoid(x*y) * log(z) + sqrt(z) ** x - leaky_relu(y, 0.1) / exp(-z) + abs(sin(x) - cos(y))'
    )
    status, out, _ = run(capsys, 'grad', expr, *[f"{k}={v}" for k, v in values.items()])
    assert status == 0
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    x, y, z = t['x'], t['y'], t['z']
    F = torch.nn.functional
    o = (
        torch.sigmoid(x * y) * torch.log(z)
        + torch.sqrt(z) ** x
        - F.leaky_relu(y, 0.1) / torch.exp(-z)
        + torch.abs(torch.sin(x) - torch.cos(y))
    )
    o.backward()
    assert float(out.splitlines()[0].rsplit('=', 1)[1]) == pytest.approx(o.item(), rel=1e-9)
    rows = table(out)
    for k in values:
        assert rows[k][0] == values[k]
        assert rows[k][1] == pytest.approx(t[k].grad.item(), rel=1e-9, abs=1e-12), k


def test_grad_without_variables(capsys):
    status, out, _ = run(capsys, 'grad', '2 ** 10 - 1')
    assert status == 0
    assert out == '2 ** 10 - 1 = 1023.0\n(no variables, so no gradients)\n'


def test_grad_marks_a_variable_the_expression_does_not_use(capsys):
    status, out, _ = run(capsys, 'grad', 'x * 3', 'x=2', 'w=5')
    assert status == 0
    assert table(out) == {'x': (2.0, 3.0), 'w': (5.0, 0.0)}
    assert 'w     5.0    0.0  (not in the expression)' in out


def test_grad_expression_starting_with_minus_after_double_dash(capsys):
    status, out, _ = run(capsys, 'grad', '--', '-x*y', 'x=2', 'y=3')
    assert status == 0
    assert table(out) == {'x': (2.0, -3.0), 'y': (3.0, -2.0)}


# -- errors: one line, exit 2 ------------------------------------------------------


@pytest.mark.parametrize(
    'argv, message',
    [
        (['grad', 'log(x)', 'x=0'], 'log(0.0): math domain error'),
        (['grad', 'x / y', 'x=1', 'y=0'], 'division by zero'),
        (['grad', '2 ** 2 ** 2 ** 2 ** 2'], 'math range error'),
        (['grad', 'exp(x)', 'x=1000'], 'math range error'),
        (['grad', 'x * y', 'x=1'], 'no value for y'),
        (['grad', 'x', 'x=abc'], 'x=abc: the value is not a number'),
        (['grad', 'x', 'x'], "'x' is not NAME=NUMBER"),
        (['grad', 'x', 'x=1', 'x=2'], 'variable x is given twice'),
        (['grad', 'exp', 'exp=1'], 'exp is a function'),
        (['grad', "__import__('os').system('echo pwned')"], 'attribute access (.system)'),
        (['grad', 'x.__class__', 'x=1'], 'attribute access (.__class__)'),
        (['grad', '().__class__.__bases__'], 'attribute access (.__bases__)'),
        (['grad', 'lambda: 1'], 'lambdas are not allowed'),
        (['grad', '[x for x in y]', 'y=1'], 'comprehensions are not allowed'),
        (['grad', '"text"'], 'strings are not allowed'),
        (['grad', 'x +', 'x=1'], 'invalid expression'),
        (['grad', '--', '-' * 3000 + 'x', 'x=1'], 'nested too deeply'),
        (['grad', '-' * 3000 + 'x', 'x=1'], 'unrecognized arguments: ----'),
        (['grad', 'x' * 60_000], 'too long'),
        (['grad'], 'the following arguments are required: EXPR'),
        (['grad', '-x*y', 'x=1', 'y=2'], "an expression that starts with '-' goes after '--'"),
        (['step', 'x +', 'x=1'], 'invalid expression'),
        (['draw', 'x', 'x=1', '-o', 'graph.txt'], "cannot tell the format of 'graph.txt'"),
        (['demo', '--steps', '0'], "argument --steps: '0' must be at least 1"),
        (['demo', '--steps', 'many'], "argument --steps: 'many' is not a whole number"),
        (['demo', '--seed', '1.5'], "argument --seed: '1.5' is not a whole number"),
        (['frobnicate'], "invalid choice: 'frobnicate'"),
        (['--nope'], 'unrecognized arguments: --nope'),
    ],
)
def test_errors_are_one_line_with_exit_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert_one_line_error(status, out, err, message)


def test_injection_through_the_command_line_has_no_effect(capsys, tmp_path):
    target = tmp_path / 'pwned'
    for expr in [
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w')",
        f"(lambda: __import__('os').system('touch {target}'))()",
    ]:
        status, out, err = run(capsys, 'grad', expr)
        assert_one_line_error(status, out, err)
    assert not target.exists()


def test_an_unexpected_exception_is_still_one_line(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError('something\nbroke')

    monkeypatch.setitem(cli._COMMANDS, 'grad', broken)
    monkeypatch.delenv('MICROGRID_DEBUG', raising=False)
    status, out, err = run(capsys, 'grad', 'x', 'x=1')
    assert_one_line_error(status, out, err, 'unexpected RuntimeError: something broke')
    monkeypatch.setenv('MICROGRID_DEBUG', '1')
    with pytest.raises(RuntimeError):
        main(['grad', 'x', 'x=1'])


def test_keyboard_interrupt_exits_quietly(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMANDS, 'grad', interrupted)
    status, out, err = run(capsys, 'grad', 'x', 'x=1')
    assert (status, out, err) == (130, '', '')


def test_help_and_version(capsys):
    status, out, _ = run(capsys, '--help')
    assert status == 0
    for command in ('demo', 'grad', 'draw', 'step'):
        assert command in out
    status, out, _ = run(capsys, 'grad', '--help')
    assert status == 0 and 'NAME=VALUE' in out and 'leaky_relu' in out
    status, out, _ = run(capsys, '--version')
    assert status == 0 and re.fullmatch(r'microgrid \d+\.\d+\.\d+\n', out)


def test_no_command_prints_the_classic_neuron_and_the_commands(capsys):
    status, out, err = run(capsys)
    assert status == 0 and err == ''
    grads = dict(re.findall(r'(\S+)\s+data =\s+\S+\s+grad =\s+(\S+)', out))
    assert {k: float(grads[k]) for k in ('x1', 'w1', 'x2', 'w2')} == {
        'x1': -1.5,
        'w1': 1.0,
        'x2': 0.5,
        'w2': 0.0,
    }
    assert 'microgrid grad ' in out and 'microgrid demo' in out


# -- step ----------------------------------------------------------------------------

CLASSIC_STEPS = [
    'v5.grad = 1.0  (seed: dv5/dv5)',
    'v4.grad += dv5/dv4 * v5.grad = 0.5 * 1.0 = 0.5  (v4.grad = 0.5)',
    'v3.grad += dv4/dv3 * v4.grad = 1.0 * 0.5 = 0.5  (v3.grad = 0.5)',
    'b.grad += dv4/db * v4.grad = 1.0 * 0.5 = 0.5  (b.grad = 0.5)',
    'v1.grad += dv3/dv1 * v3.grad = 1.0 * 0.5 = 0.5  (v1.grad = 0.5)',
    'v2.grad += dv3/dv2 * v3.grad = 1.0 * 0.5 = 0.5  (v2.grad = 0.5)',
    'x2.grad += dv2/dx2 * v2.grad = 1.0 * 0.5 = 0.5  (x2.grad = 0.5)',
    'w2.grad += dv2/dw2 * v2.grad = 0.0 * 0.5 = 0.0  (w2.grad = 0.0)',
    'x1.grad += dv1/dx1 * v1.grad = -3.0 * 0.5 = -1.5  (x1.grad = -1.5)',
    'w1.grad += dv1/dw1 * v1.grad = 2.0 * 0.5 = 1.0  (w1.grad = 1.0)',  # not '1'
]


def step_lines(out: str) -> list[str]:
    # in these tests the Enter a user types is not echoed, so a step follows the prompt
    prompt = r'(?:\s+\(Enter: next step, q: quit\))?'
    return [m.group(1) for m in re.finditer(rf'^{prompt}\s+\[\s*\d+/\d+\] (.*)$', out, re.M)]


def test_step_not_a_terminal_prints_every_step(capsys, monkeypatch):
    monkeypatch.setattr(sys, 'stdin', io.StringIO(''))
    status, out, err = run(capsys, 'step', *CLASSIC)
    assert status == 0 and err == ''
    assert '  v1 = x1 * w1 = -6.0\n' in out
    assert '  v4 = v3 + b = 0.881374\n' in out
    assert '  v5 = tanh(v4) = 0.707107\n' in out
    assert 'backward, 10 steps:' in out
    assert step_lines(out) == CLASSIC_STEPS
    assert table(out)['x1'] == (2.0, -1.5)
    assert 'grads so far' not in out


def test_step_names_avoid_the_variables_and_show_constants(capsys, monkeypatch):
    monkeypatch.setattr(sys, 'stdin', io.StringIO(''))
    status, out, _ = run(capsys, 'step', '(v1 - 2) ** -1 * leaky_relu(v1, 0.5)', 'v1=3')
    assert status == 0
    assert '  v2 = v1 - 2.0 = 1.0\n' in out
    assert '  v3 = v2 ** (-1.0) = 1.0\n' in out
    assert '  v4 = leaky_relu(v1, 0.5) = 3.0\n' in out
    assert '  v5 = v3 * v4 = 3.0\n' in out
    # d/dv1 [(v1-2)^-1 * v1] = -(v1-2)^-2 * v1 + (v1-2)^-1 = -3 + 1
    assert table(out) == {'v1': (3.0, -2.0)}


def test_step_with_output_redirected_does_not_wait(capsys, monkeypatch):
    monkeypatch.setattr(sys, 'stdin', FakeTerminal(''))  # a terminal, but nobody sees stdout
    status, out, _ = run(capsys, 'step', *CLASSIC)
    assert status == 0
    assert step_lines(out) == CLASSIC_STEPS and 'Enter' not in out


def test_step_of_a_single_variable(capsys, monkeypatch):
    monkeypatch.setattr(sys, 'stdin', io.StringIO(''))
    status, out, _ = run(capsys, 'step', 'x', 'x=4')
    assert status == 0
    assert 'backward, 1 step:' in out
    assert step_lines(out) == ['x.grad = 1.0  (seed: dx/dx)']


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch, capsys):
    """stdin and stdout both say they are a terminal; stdin reads the given keys."""

    def keys(text: str) -> None:
        monkeypatch.setattr(sys, 'stdin', FakeTerminal(text))
        monkeypatch.setattr(sys.stdout, 'isatty', lambda: True)

    return keys


def test_step_interactive_enter_shows_the_next_step_and_q_quits(capsys, terminal):
    terminal('\n\nq\n')
    status, out, _ = run(capsys, 'step', *CLASSIC)
    assert status == 0
    assert step_lines(out) == CLASSIC_STEPS[:3]
    assert out.count('(Enter: next step, q: quit)') == 3
    sofar = re.findall(r'grads so far: (.*)', out)
    assert sofar[0] == 'v5=1.0 v4=0.0 v3=0.0 v2=0.0 v1=0.0 x1=0.0 x2=0.0 w1=0.0 w2=0.0 b=0.0'
    assert sofar[2] == 'v5=1.0 v4=0.5 v3=0.5 v2=0.0 v1=0.0 x1=0.0 x2=0.0 w1=0.0 w2=0.0 b=0.0'
    assert 'stopped after 3 of 10 steps' in out
    assert 'name  value' not in out  # quit before the end: no final table


def test_step_interactive_to_the_end(capsys, terminal):
    terminal('\n' * 20)
    status, out, _ = run(capsys, 'step', *CLASSIC)
    assert status == 0
    assert step_lines(out) == CLASSIC_STEPS
    assert out.count('(Enter: next step, q: quit)') == 9  # none after the last step
    assert re.findall(r'grads so far: (.*)', out)[-1].endswith('x1=-1.5 x2=0.5 w1=1.0 w2=0.0 b=0.5')
    assert table(out)['w1'] == (-3.0, 1.0)


def test_step_interactive_end_of_input_stops(capsys, terminal):
    terminal('\n')
    status, out, _ = run(capsys, 'step', *CLASSIC)
    assert status == 0
    assert step_lines(out) == CLASSIC_STEPS[:2]
    assert 'stopped after 2 of 10 steps' in out


def test_step_interactive_shows_only_variables_for_big_graphs(capsys, terminal):
    terminal('q\n')
    status, out, _ = run(capsys, 'step', '+'.join(['x*y'] * 8), 'x=1', 'y=2')
    assert status == 0
    assert re.findall(r'grads so far: (.*)', out) == ['x=0.0 y=0.0']


# -- draw ------------------------------------------------------------------------------

SVG = '{http://www.w3.org/2000/svg}'


def svg_texts(path: Path) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()  # the SVG must parse
    assert root.tag == f'{SVG}svg'
    return [t.text for t in root.iter(f'{SVG}text') if t.text]


def test_draw_svg_with_local_grads(capsys, tmp_path):
    out_file = tmp_path / 'neuron.svg'
    status, out, err = run(capsys, 'draw', *CLASSIC, '-o', str(out_file), '--local-grads')
    assert status == 0 and err == '' and out == f'wrote {out_file}\n'
    texts = svg_texts(out_file)
    for name in ('x1', 'x2', 'w1', 'w2', 'b', 'v1', 'v5', 'tanh', '*', '+'):
        assert name in texts
    assert 'grad -1.5' in texts and 'data 0.707107' in texts  # after backward
    # the local derivatives on the edges: d(x1*w1)/dx1 = w1 = -3, d tanh = 1 - 0.5 = 0.5
    assert {'-3.0', '2.0', '0.5'} <= set(texts)


def test_draw_svg_without_local_grads_has_no_edge_labels(capsys, tmp_path):
    out_file = tmp_path / 'neuron.svg'
    assert run(capsys, 'draw', *CLASSIC, '-o', str(out_file))[0] == 0
    texts = svg_texts(out_file)
    assert '-3.0' not in texts and 'grad -1.5' in texts


def test_draw_png(capsys, tmp_path):
    from PIL import Image

    shapes = {}
    for rankdir in ('LR', 'TB'):
        out_file = tmp_path / f'neuron-{rankdir}.PNG'  # the suffix is not case-sensitive
        assert run(capsys, 'draw', *CLASSIC, '-o', str(out_file), '--rankdir', rankdir)[0] == 0
        with Image.open(out_file) as im:
            assert im.format == 'PNG'
            shapes[rankdir] = im.width / im.height
    assert shapes['LR'] > 3 * shapes['TB']  # left to right is wide, top to bottom is not


def test_draw_dot(capsys, tmp_path):
    out_file = tmp_path / 'g.dot'
    assert run(capsys, 'draw', 'x * 2 + y', 'x=1.5', 'y=-1', '-o', str(out_file))[0] == 0
    source = out_file.read_text()
    assert source.startswith('digraph')
    assert '{ x | data 1.5 | grad 2.0 }' in source
    assert '{ y | data -1.0 | grad 1.0 }' in source
    assert '{ v2 | data 2.0 | grad 1.0 }' in source
    assert source.count('->') == 5  # x -> *, * -> v1, v1 -> +, y -> +, + -> v2: 2 is no node


@pytest.mark.parametrize(
    'extra, message',
    [
        (['-o', 'graph.jpg'], "suffix '.jpg': use .svg, .png or .dot"),
        (['-o', 'graph'], "suffix '.': use .svg, .png or .dot"),
        (['-o', '/no/such/folder/g.svg'], 'cannot write /no/such/folder/g.svg'),
        (['-o', 'g.svg', '--max-nodes', '3'], 'more than 3 nodes'),
        (['-o', 'g.svg', '--rankdir', 'XY'], "argument --rankdir: invalid choice: 'XY'"),
    ],
)
def test_draw_errors(capsys, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, 'draw', 'x * y + 1', 'x=1', 'y=2', *extra)
    assert_one_line_error(status, out, err, message)
    assert list(tmp_path.iterdir()) == []


def test_draw_without_a_renderer_says_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv('MICROGRID_DOT', str(tmp_path / 'no-such-program'))
    status, out, err = run(capsys, 'draw', 'x', 'x=1', '-o', str(tmp_path / 'g.svg'))
    assert_one_line_error(status, out, err, 'is not an executable program')
    # .dot needs no renderer
    status, out, _ = run(capsys, 'draw', 'x', 'x=1', '-o', str(tmp_path / 'g.dot'))
    assert status == 0


# -- as a real process: no traceback, ever -------------------------------------------


def process(*argv, **kw):
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    env.pop('MICROGRID_DEBUG', None)
    return subprocess.run(
        [sys.executable, '-m', 'microgrid', *argv],
        capture_output=True,
        text=True,
        cwd=kw.pop('cwd', ROOT),
        env=env,
        timeout=60,
        **kw,
    )


def test_process_grad():
    p = process('grad', *CLASSIC, stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and p.stderr == ''
    assert table(p.stdout)['x1'] == (2.0, -1.5)


def test_process_draw(tmp_path):
    p = process('draw', *CLASSIC, '-o', 'n.svg', '--local-grads', cwd=tmp_path)
    assert p.returncode == 0 and p.stderr == ''
    assert 'grad -1.5' in svg_texts(tmp_path / 'n.svg')


@pytest.mark.parametrize(
    'argv',
    [
        ['grad', 'log(x)', 'x=0'],
        ['grad', "__import__('os').system('echo pwned')"],
        ['grad', '(' * 300 + 'x' + ')' * 300, 'x=1'],
        ['grad', '--', '-' * 20_000 + 'x', 'x=1'],
        ['grad', '+'.join(['x'] * 20_000), 'x=1'],
        ['step', 'x**x**x**x**x', 'x=10'],
        ['nope'],
    ],
    ids=['math', 'injection', 'parens', 'unary', 'sum', 'overflow', 'usage'],
)
def test_process_errors_have_no_traceback(argv):
    p = process(*argv, stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert p.stderr.count('\n') == 1 and p.stderr.startswith('microgrid: error: '), p.stderr
    assert 'Traceback' not in p.stderr and 'pwned' not in p.stdout


def test_process_broken_pipe_exits_quietly():
    # a long step listing into a reader that stops after one line
    expr = '+'.join(['(' + '+'.join(['x*x'] * 400) + ')'] * 5)  # 4000 steps, 1000 deep at most
    argv = [sys.executable, '-m', 'microgrid', 'step', expr, 'x=1']
    with subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    ) as p:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.readline()
        p.stdout.close()
        err = p.stderr.read()
        status = p.wait(timeout=60)
    assert err == b''
    assert status == cli.EXIT_BROKEN_PIPE


pty = pytest.importorskip('pty', reason='pseudo-terminals need a Unix system')
PROMPT = b'(Enter: next step, q: quit)'


def on_terminal(argv, keys, interrupt=False):
    """Run microgrid with stdin and stdout on a pseudo-terminal, typing ``keys`` one line
    per prompt (or sending SIGINT at the first prompt); return (status, output, stderr)."""
    import select

    master, slave = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, '-m', 'microgrid', *argv],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(slave)
    seen, typed = b'', 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if seen.count(PROMPT) > typed:
                if interrupt:
                    p.send_signal(signal.SIGINT)
                    interrupt = False
                elif typed < len(keys):
                    os.write(master, keys[typed].encode())
                typed += 1
            if p.poll() is not None and not ready:
                break
        _, err = p.communicate(timeout=60)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    return p.returncode, seen.decode().replace('\r\n', '\n'), err.decode()


def test_process_step_on_a_terminal():
    """Interactive step on a real pseudo-terminal: Enter, Enter, q."""
    status, out, err = on_terminal(['step', *CLASSIC], ['\n', '\n', 'q\n'])
    assert status == 0 and err == ''
    assert step_lines(out) == CLASSIC_STEPS[:3]
    assert 'grads so far: v5=1.0 v4=0.5 v3=0.5 v2=0.0 v1=0.0' in out
    assert 'stopped after 3 of 10 steps' in out


def test_process_ctrl_c_while_waiting_exits_quietly():
    status, out, err = on_terminal(['step', *CLASSIC], [], interrupt=True)
    assert err == '' and 'Traceback' not in out
    assert status == cli.EXIT_INTERRUPTED
    assert step_lines(out) == CLASSIC_STEPS[:1]


# -- every example --help prints runs as written --------------------------------------


def help_examples(capsys) -> list[str]:
    """The commands listed under Example(s): in --help and in every subcommand's --help."""
    found: list[str] = []
    for argv in (['--help'], *([c, '--help'] for c in ('demo', 'grad', 'draw', 'step'))):
        status, out, _ = run(capsys, *argv)
        assert status == 0
        block = out.split('Example', 1)[1].split('\n', 1)[1]  # the lines after 'Example(s):'
        for line in block.splitlines():
            if line.startswith('  microgrid '):
                found.append(line.strip())
    return list(dict.fromkeys(found))


def test_every_help_example_runs_as_written(capsys, tmp_path, monkeypatch):
    import shlex

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, 'stdin', io.StringIO(''))
    examples = help_examples(capsys)
    assert len(examples) >= 8 and cli.CLASSIC in examples
    assert "microgrid draw 'x*y + x' x=2 y=3" in examples  # draw without -o
    for example in examples:
        argv = shlex.split(example)
        assert argv[0] == 'microgrid'
        status, out, err = run(capsys, *argv[1:])
        assert status == 0 and 'error' not in err, (example, err[-300:])  # demo's bar is on stderr
    # what the examples wrote, each a real file of its kind
    assert (tmp_path / 'graph.svg').read_bytes().lstrip().startswith(b'<?xml')
    assert (tmp_path / 'neuron.svg').read_bytes().lstrip().startswith(b'<?xml')
    assert (tmp_path / 'neuron.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert (tmp_path / 'pictures' / 'neuron_backprop.html').exists()
    assert (tmp_path / 'microgrid-demo' / 'training.gif').exists()


def test_draw_without_output_writes_graph_svg_here(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, 'draw', 'x*y', 'x=2', 'y=3')
    assert (status, err) == (0, '')
    assert out == 'wrote graph.svg  (choose another file with -o FILE)\n'
    texts = svg_texts(tmp_path / 'graph.svg')
    assert {'x', 'y', 'data 6.0', 'grad 3.0', 'grad 2.0'} <= set(texts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['graph.svg']  # nothing stray


def test_readme_and_make_demo_say_how_to_run_the_command():
    makefile = (ROOT / 'Makefile').read_text()
    recipe = makefile.split('\ndemo:', 1)[1].split('\n\n', 1)[0]
    assert '$(BIN)/microgrid --help' in recipe and '$(BIN)/activate' in recipe
    assert recipe.index('microgrid demo') < recipe.index('@echo')  # printed at the end
    readme = (ROOT / 'README.md').read_text()
    section = readme.split('## The command line', 1)[1].split('\n## ', 1)[0]
    assert '.venv/bin/microgrid' in section and '. .venv/bin/activate' in section
    assert 'without `-o` writes `graph.svg`' in section


# -- the CLI: linear in NAME=VALUE arguments, flat chains, errors that name the limit ----


def _run_cli(argv, capsys):
    rc = main(argv)
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
    from microgrid.cli.expr import MAX_DEPTH, MAX_NODES, ExprError, evaluate

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
    def overflow(*args, **kwargs):
        raise OverflowError(34, 'Numerical result out of range')

    monkeypatch.setattr(Value, 'tanh', overflow)
    rc, out, err = _run_cli(['grad', 'tanh(x)', 'x=1'], capsys)
    assert rc == 2
    assert "(34, 'Numerical result out of range')" not in err
    assert 'math range error: the result is too large (Numerical result out of range)' in err
    assert 'Traceback' not in err and '(in tanh(x))' in err
    monkeypatch.setitem(cli._COMMANDS, 'grad', overflow)
    rc, out, err = _run_cli(['grad', 'x', 'x=1'], capsys)
    assert rc == 2 and 'Traceback' not in err
    assert "(34, 'Numerical" not in err and 'math range error' in err
