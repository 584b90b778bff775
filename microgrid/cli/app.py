"""The microgrid command line: ``microgrid demo | grad | draw | step``.

Also reachable as ``python -m microgrid``. Every error is one line on stderr and exit
status 2, never a traceback; Ctrl-C exits quietly with 130, a closed pipe with 141.
The commands themselves are in microgrid.cli.commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from microgrid.cli.commands import CLASSIC, COMMANDS, DEFAULT_DRAWING, CLIError, classic
from microgrid.cli.expr import ExprError, _error_text

__all__ = ['EXIT_BROKEN_PIPE', 'EXIT_ERROR', 'EXIT_INTERRUPTED', 'build_parser', 'main']

EXIT_ERROR = 2
"""The exit status of an error (a usage error, a bad expression): as argparse's."""
EXIT_INTERRUPTED = 130
"""The exit status after Ctrl-C: 128 + SIGINT, as shells report it."""
EXIT_BROKEN_PIPE = 141
"""The exit status when the reader of the output went away: 128 + SIGPIPE."""


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
        command = _COMMANDS.get(args.command or '', classic)
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


_COMMANDS = COMMANDS  # the tests replace a command here
