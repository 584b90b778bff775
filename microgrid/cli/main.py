"""The microgrid command line: ``microgrid demo | grad | draw | step``.

Also reachable as ``python -m microgrid``. Every error is one line on stderr and exit
status 2, never a traceback; Ctrl-C exits quietly with 130, a closed pipe with 141.
Expressions are parsed safely by microgrid.expr (never eval'd).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from microgrid.cli.expr import ExprError, Expression, _error_text, parse, parse_assignments
from microgrid.engine import Value
from microgrid.text import fmt as format_number  # the one number format of every instrument
from microgrid.text import step_text

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


class CLIError(Exception):
    """A usage error, reported as one line on stderr with exit status 2."""


def classic_neuron() -> Value:
    """o = tanh(x1*w1 + x2*w2 + b), the neuron every backprop lesson starts with."""
    x1, x2 = Value(2.0, 'x1'), Value(0.0, 'x2')
    w1, w2 = Value(-3.0, 'w1'), Value(1.0, 'w2')
    b = Value(6.8813735870195432, 'b')
    x1w1 = x1 * w1
    x1w1.label = 'x1*w1'
    x2w2 = x2 * w2
    x2w2.label = 'x2*w2'
    n = x1w1 + x2w2 + b
    n.label = 'n'
    o = n.tanh()
    o.label = 'o'
    return o


# The classic neuron as a command, for the help text and the hint.
CLASSIC = "microgrid grad 'tanh(x1*w1 + x2*w2 + b)' x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432"
DEFAULT_DRAWING = 'graph.svg'
GRAD_DIGITS = 10  # grad is a calculator: more digits than the teaching instruments' 6

# The examples each --help prints; tests/cli/test_cli.py runs every one as written.
EXAMPLES = {
    'top': [
        CLASSIC,
        "microgrid step 'x*y + x' x=2 y=3",
        "microgrid draw 'tanh(x1*w1 + x2*w2 + b)' x1=2 x2=0 w1=-3 w2=1 b=0.88 -o neuron.svg",
        'microgrid demo',
    ],
    'grad': [CLASSIC, "microgrid grad -- '-x*y' x=2 y=3"],
    'step': [CLASSIC.replace(' grad ', ' step ')],
    'draw': [
        "microgrid draw 'x*y + x' x=2 y=3",
        "microgrid draw 'tanh(x1*w1 + x2*w2 + b)' x1=2 x2=0 w1=-3 w2=1 b=0.88"
        ' -o neuron.png --local-grads',
    ],
    'demo': ['microgrid demo', 'microgrid demo --out pictures --steps 5 --seed 1'],
}


def _examples(command: str) -> str:
    lines = EXAMPLES[command]
    head = 'Example:' if len(lines) == 1 else 'Examples:'
    return head + '\n' + ''.join(f"  {line}\n" for line in lines)


# -----------------------------------------------------------------------------
# Argument parsing
# -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) raised as CLIError."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")


def _usage_hint(message: str, argv: Sequence[str]) -> str:
    """Explain the usual cause of an argparse complaint: an expression such as '-x*y'."""
    options = {'-h', '--help', '--version', '-o', '--output', '--local-grads', '--rankdir'}
    options |= {'--max-nodes'}
    options |= {'--out', '--steps', '--seed', '--'}
    dashed = [a for a in argv if a.startswith('-') and a.split('=')[0] not in options]
    if dashed and ('unrecognized arguments' in message or 'required' in message):
        return (
            f"{message.split(' (see ')[0]} (an expression that starts with '-' goes after"
            f" '--', as in: microgrid grad -- {dashed[0][:20]} ...)"
        )
    return message


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return n


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


EXPRESSION_HELP = """\
EXPR uses numbers, variables, + - * / ** (unary -), parentheses and the functions
exp log sqrt tanh sigmoid relu leaky_relu softplus sin cos abs; give every variable
a value as NAME=VALUE. Quote EXPR for your shell. An EXPR that starts with '-' goes
after '--'.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the whole command line."""
    from microgrid import __version__

    parser = _Parser(
        prog='microgrid',
        description='microgrid: scalar autodiff for learning backpropagation.',
        epilog='Examples:\n' + ''.join(f"  {line}\n" for line in EXAMPLES['top']),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--version', action='version', version=f"microgrid {__version__}")
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')

    demo = sub.add_parser(
        'demo',
        help='train the classic network on two moons and write pictures of it',
        description='Train MLP(2, [16, 16, 1]) on two moons (hinge loss, SGD), then write '
        'a neuron graph (SVG), its backprop player (HTML), the training animation (GIF) '
        'and the loss curve (PNG).',
        epilog=_examples('demo'),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument('--out', default='microgrid-demo', metavar='DIR', help='output folder')
    demo.add_argument(
        '--steps', type=_positive_int, default=100, metavar='N', help='training steps'
    )
    demo.add_argument('--seed', type=_int, default=1337, metavar='S', help='random seed')

    def expression_command(name: str, help: str, more: str = '') -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=f"{help[0].upper()}{help[1:]}.{more}\n\n{EXPRESSION_HELP}",
            epilog=_examples(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument('expr', metavar='EXPR', help='the expression')
        p.add_argument(
            'values', nargs='*', default=[], metavar='NAME=VALUE', help='a value per variable'
        )
        return p

    expression_command('grad', 'evaluate EXPR, run backward and print every gradient')
    draw = expression_command(
        'draw',
        'draw the graph of EXPR to an .svg, .png or .dot file',
        f'\nWithout -o it writes {DEFAULT_DRAWING} in the current folder.',
    )
    draw.add_argument(
        '-o',
        '--output',
        default=DEFAULT_DRAWING,
        metavar='FILE',
        help=f'.svg, .png or .dot (default: {DEFAULT_DRAWING})',
    )
    draw.add_argument(
        '--local-grads', action='store_true', help='write local derivatives on the edges'
    )
    draw.add_argument(
        '--rankdir', choices=('LR', 'TB'), default='LR', help='left-right or top-bottom'
    )
    draw.add_argument(
        '--max-nodes', type=_positive_int, default=500, metavar='N', help='refuse larger graphs'
    )
    expression_command(
        'step',
        'walk through backward one chain-rule step at a time',
        ' In a terminal, Enter shows the\nnext step and the grads so far, q quits; with input'
        ' or output redirected,\nevery step is printed at once.',
    )
    return parser


# -----------------------------------------------------------------------------
# main
# -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error) and never raises."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else 0
        except CLIError as e:
            return _fail(_usage_hint(str(e), argv))
        command = _COMMANDS.get(args.command or '', _classic)
        return command(args)
    except (CLIError, ExprError) as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as e:  # a bug: still one line, unless MICROGRID_DEBUG asks for more
        if os.environ.get('MICROGRID_DEBUG'):
            raise
        return _fail(
            f"unexpected {type(e).__name__}: {_error_text(e)} (set MICROGRID_DEBUG=1 for details)"
        )


def _fail(message: str) -> int:
    try:
        message = ' '.join(message.split())
        if len(message) > 500:  # e.g. argparse quoting a huge argument
            message = message[:497] + '...'
        print(f"microgrid: error: {message}", file=sys.stderr)
    except (OSError, ValueError):
        pass
    return EXIT_ERROR


def _silence_stdout() -> None:
    """After a closed pipe, send what is left to /dev/null so exit prints no warning."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. under pytest)
        pass


def _classic(args: argparse.Namespace) -> int:
    """No command: the classic neuron after backward, and what to try next."""
    o = classic_neuron()
    o.backward()
    from microgrid.engine import _topological_order

    seen: list[Value] = []
    for node in _topological_order(o):
        seen.extend(node.parents)
        seen.append(node)
    print("o = tanh(x1*w1 + x2*w2 + b), after o.backward():")
    for v in dict.fromkeys(seen):
        data, grad = format_number(v.data), format_number(v.grad)
        print(f"  {v.label or v.op:>8}  data = {data:>8}   grad = {grad:>8}")
    print()
    print("Commands: demo, grad, draw, step (microgrid COMMAND --help). For example:")
    print(f"  {CLASSIC}")
    print("  microgrid demo")
    return 0


# -----------------------------------------------------------------------------
# Expressions with values: shared by grad, draw and step
# -----------------------------------------------------------------------------


class _Evaluated:
    """An expression evaluated on the command line's values, its nodes named v1, v2, ..."""

    def __init__(self, source: str, assignments: list[str]) -> None:
        self.expression: Expression = parse(source)
        values = parse_assignments(assignments)
        self.leaves = {name: Value(v, label=name) for name, v in values.items()}
        used = set(self.expression.names)  # sets: linear time for any number of NAME=VALUE
        self.unused = {n for n in values if n not in used}
        trace: list[tuple[Value, str, list[Any]]] = []
        result = self.expression.evaluate(self.leaves, trace=trace)
        self.root = result if type(result) is Value else Value(result, label='out')
        # Name the interior nodes in the order they were computed, avoiding variable names.
        self.forward: list[tuple[Value, str]] = []
        taken, k = set(values), 0
        for node, op, operands in trace:
            k += 1
            while f"v{k}" in taken:
                k += 1
            node.label = f"v{k}"
            self.forward.append((node, _describe(op, operands)))

    def table(self, digits: int = 6) -> list[str]:
        """Each variable's value and gradient, aligned."""
        rows = [('name', 'value', 'grad')]
        for name, leaf in self.leaves.items():
            note = '  (not in the expression)' if name in self.unused else ''
            value, grad = format_number(leaf.data, digits), format_number(leaf.grad, digits)
            rows.append((name, value, grad + note))
        return _align(rows)


def _describe(op: str, operands: list[Any]) -> str:
    """'v1 * x', 'tanh(v2)', '-v3': one operation with its operands' names."""
    shown = [_operand(o) for o in operands]
    if op in ('+', '-', '*', '/', '**'):
        return f"{shown[0]} {op} {shown[1]}"
    if op == 'neg':
        return f"-{shown[0]}"
    return f"{op}({', '.join(shown)})"


def _operand(o: Any) -> str:
    if type(o) is Value:
        return o.label
    text = format_number(o)
    return f"({text})" if text.startswith('-') else text


def _align(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ['  '.join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]).rstrip() for r in rows]


def _grad(args: argparse.Namespace) -> int:
    """grad: the value, then each variable's value and gradient."""
    e = _Evaluated(args.expr, args.values)
    e.root.backward()
    print(f"{e.expression.source} = {format_number(e.root.data, GRAD_DIGITS)}")
    if e.leaves:
        print()
        print('\n'.join(e.table(GRAD_DIGITS)))
    else:
        print('(no variables, so no gradients)')
    return 0


# -----------------------------------------------------------------------------
# step
# -----------------------------------------------------------------------------


def _step(args: argparse.Namespace) -> int:
    """step: the forward pass, then backward one chain-rule step at a time."""
    e = _Evaluated(args.expr, args.values)
    # Wait for Enter only if someone sees the prompt: stdin and stdout both terminals.
    interactive = _is_tty(sys.stdin) and _is_tty(sys.stdout)
    out = sys.stdout
    if e.forward:
        print('forward:')
        for node, text in e.forward:
            print(f"  {node.label} = {text} = {format_number(node.data)}")
    else:
        print(f"forward: no operations, the output is {e.root.label}")
    total = _count_edges(e.root) + 1  # the seed, then one step per edge
    counted = f"{total} step{'s' if total > 1 else ''}"
    if interactive:
        print(f"backward, {counted}: press Enter for the next one, q then Enter to quit")
    else:
        print(f"backward, {counted}:")
    # the nodes whose grads to show: the output side first, then the variables
    shown = [node for node, _ in reversed(e.forward)] + list(e.leaves.values())
    if len(shown) > 12:
        shown = list(e.leaves.values())
    width = len(str(total))
    for i, step in enumerate(e.root.backward_steps(), 1):
        print(f"  [{i:>{width}}/{total}] {step_text(step)}")
        if interactive:
            grads = ' '.join(f"{v.label}={format_number(v.grad)}" for v in shown)
            print(f"  {'':>{2 * width + 3}}grads so far: {grads}")
            if i < total and not _wait(out):
                print(f"stopped after {i} of {total} steps")
                return 0
    print()
    print('\n'.join(e.table()) if e.leaves else '(no variables, so no gradients)')
    return 0


def _count_edges(root: Value) -> int:
    from microgrid.engine import _topological_order

    return sum(len(node.parents) for node in _topological_order(root))


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _wait(out: TextIO) -> bool:
    """Wait for Enter (True: go on) or q / end of input (False: stop)."""
    out.write('  (Enter: next step, q: quit) ')
    out.flush()
    line = sys.stdin.readline()
    if not line:  # end of input (Ctrl-D)
        out.write('\n')
        return False
    return line.strip().lower() not in ('q', 'quit', 'exit')


# -----------------------------------------------------------------------------
# draw and demo
# -----------------------------------------------------------------------------


DRAW_FORMATS = ('svg', 'png', 'dot')


def _draw(args: argparse.Namespace) -> int:
    """draw: the graph of the expression after backward, to .svg, .png or .dot."""
    path = args.output
    fmt = os.path.splitext(path)[1].lower().lstrip('.')
    if fmt not in DRAW_FORMATS:
        raise CLIError(
            f"cannot tell the format of {path!r} from its suffix {'.' + fmt!r}:"
            " use .svg, .png or .dot"
        )
    e = _Evaluated(args.expr, args.values)
    e.root.backward()
    from microgrid.viz.draw import GraphTooLargeError, RendererNotFoundError, draw

    try:
        graph = draw(
            e.root,
            rankdir=args.rankdir,
            show_local_grads=args.local_grads,
            max_nodes=args.max_nodes,
        )
        data = graph.source.encode('utf-8') if fmt == 'dot' else graph.pipe(format=fmt)
    except GraphTooLargeError:
        raise CLIError(
            f"the graph has more than {args.max_nodes} nodes, too many to draw legibly;"
            " draw a smaller expression or raise --max-nodes"
        ) from None
    except (RendererNotFoundError, RuntimeError, TimeoutError) as err:
        raise CLIError(str(err)) from None
    _write(path, data)
    print(
        f"wrote {path}"
        + ('  (choose another file with -o FILE)' if path == DEFAULT_DRAWING else '')
    )
    return 0


def _write(path: str, data: bytes) -> None:
    try:
        with open(path, 'wb') as f:
            f.write(data)
    except OSError as err:
        raise CLIError(f"cannot write {path}: {err.strerror or err}") from None


def _demo(args: argparse.Namespace) -> int:
    """demo: train the classic network and write its pictures (see microgrid.demo)."""
    from microgrid.cli.demo import run_demo
    from microgrid.viz.draw import RendererNotFoundError

    try:
        run_demo(args.out, steps=args.steps, seed=args.seed)
    except OSError as err:
        where = f" {err.filename}" if err.filename else f" into {args.out}"
        raise CLIError(f"cannot write{where}: {err.strerror or err}") from None
    except RendererNotFoundError as err:
        raise CLIError(str(err)) from None
    return 0


_COMMANDS = {'grad': _grad, 'step': _step, 'draw': _draw, 'demo': _demo}
