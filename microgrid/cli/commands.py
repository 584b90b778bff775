"""The commands of the command line: grad, step, draw, demo, and no command at all.

Each takes the parsed arguments and returns the exit status; a usage error is a CLIError
(microgrid.cli.app prints it as one line). Expressions are parsed safely by
microgrid.cli.expr (never eval'd); numbers are written by microgrid.text.fmt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from microgrid.cli.expr import Expression, parse, parse_assignments
from microgrid.engine import Value
from microgrid.text import fmt as format_number  # the one number format of every instrument
from microgrid.text import step_text

__all__ = ['CLASSIC', 'COMMANDS', 'CLIError', 'classic', 'classic_neuron']


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


CLASSIC = "microgrid grad 'tanh(x1*w1 + x2*w2 + b)' x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432"
"""The classic neuron as a command, for the help text and the hint."""
DEFAULT_DRAWING = 'graph.svg'
GRAD_DIGITS = 10  # grad is a calculator: more digits than the teaching instruments' 6


def classic(args: argparse.Namespace) -> int:
    """No command: the classic neuron after backward, and what to try next."""
    o = classic_neuron()
    o.backward()
    from microgrid.engine import topological_order

    seen: list[Value] = []
    for node in topological_order(o):
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
    from microgrid.engine import topological_order

    return sum(len(node.parents) for node in topological_order(root))


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


COMMANDS = {'grad': _grad, 'step': _step, 'draw': _draw, 'demo': _demo}
"""The command named on the command line -> the function that runs it."""
