"""Safe arithmetic expressions for the command line: parsed with ``ast``, never eval'd.

    >>> from microgrid.cli.expr import parse
    >>> e = parse('tanh(x * w + b)')
    >>> e.names
    ('x', 'w', 'b')
    >>> e.evaluate({'x': 2.0, 'w': -3.0, 'b': 6.5})     # doctest: +ELLIPSIS
    Value(data=0.46..., grad=0, op='tanh')

What an expression may contain (anything else is refused with an ExprError naming it):

- numbers (``2``, ``0.5``, ``1e-3``) and variable names;
- ``+ - * / **`` and unary ``-`` and ``+``; parentheses;
- calls of the engine's functions: exp log sqrt tanh sigmoid relu leaky_relu softplus
  sin cos abs. Each takes one argument; ``leaky_relu(x, slope)`` (or ``slope=...``) two.

Names: a name that is called must be one of those functions, and every other name is a
variable. So a variable cannot be named like a function (``exp=2`` is refused, and a bare
``exp`` is an error), and nothing else has a meaning: there are no built-in constants.

Numbers in the expression are constants, not nodes of the graph, as in the engine; an
operation on constants only is computed at once (with the engine's rules and errors).

Limits, checked before any work that could recurse or grow: MAX_LENGTH characters,
MAX_NODES nodes (numbers, names, operations and calls) and MAX_DEPTH levels of nesting.
A flat chain of operators of one precedence (``x + x - ... + x``, ``a * b / c``,
``2 ** 2 ** 2``) is one level, however long: it is bounded by MAX_NODES. Brackets,
calls and unary minus nest. Checking and evaluation use explicit stacks, so no input
can exhaust the interpreter's recursion limit; Python's own parser has a limit too
(200 nested brackets). Each error says which limit was hit.
"""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
from collections.abc import Mapping
from numbers import Real
from typing import Any

from microgrid.cli.syntax import (
    _BINARY_OP,
    _CONST,
    _UNARY,
    _VAR,
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    ExprError,
    _one_line,
    compile_source,
)
from microgrid.engine import Value

__all__ = [
    'FUNCTIONS',
    'MAX_DEPTH',
    'MAX_LENGTH',
    'MAX_NODES',
    'ExprError',
    'Expression',
    'evaluate',
    'parse',
    'parse_assignment',
    'parse_assignments',
]


class Expression:
    """A parsed, checked expression: evaluate it as often as you like with different values."""

    def __init__(
        self, source: str, program: list[tuple[int, Any, ast.AST]], names: tuple[str, ...]
    ) -> None:
        self.source = source
        self.names = names  # the variables, in order of first appearance
        self._program = program

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        trace: list[tuple[Value, str, list[Any]]] | None = None,
    ) -> Value | float:
        """The expression's result: a Value if it uses a variable, else a float.

        ``values`` maps each variable name to a number (which becomes a leaf Value
        labelled with the name) or to a Value (used as it is). Names the expression
        does not use are ignored. With ``trace``, a list, each graph node made is
        appended as (node, op, operands): op is '+', '-', '*', '/', '**', 'neg' or a
        function name, operands are Values and float constants.
        """
        env = self._environment(values or {})
        stack: list[Any] = []
        for kind, arg, node in self._program:
            if kind == _CONST:
                stack.append(arg)
                continue
            if kind == _VAR:
                stack.append(env[arg])
                continue
            n = 1 if kind == _UNARY else 2 if kind == _BINARY_OP else arg[1]
            operands = stack[-n:]
            del stack[-n:]
            try:
                op, result = _apply(kind, arg, operands)
            except (ArithmeticError, ValueError, TypeError) as e:
                raise ExprError(f"{_error_text(e)} (in {self._segment(node)})") from None
            data = result.data if type(result) is Value else result
            if not math.isfinite(data):  # the operands are finite, so this overflowed
                raise ExprError(
                    f"math range error: {self._segment(node)} is too large to compute"
                    f" (gives {data!r})"
                )
            if trace is not None and type(result) is Value and op:
                trace.append((result, op, operands))
            stack.append(result)
        return stack[0]

    def _environment(self, values: Mapping[str, Any]) -> dict[str, Value]:
        env: dict[str, Value] = {}
        for name, v in values.items():
            key = _check_name(name)
            if key in env:
                raise ExprError(f"variable {key} is given twice")
            if isinstance(v, Value):
                if not math.isfinite(v.data):
                    raise ExprError(f"{key}={v.data!r}: a variable must be a finite number")
                env[key] = v
            else:
                env[key] = Value(_check_number(v, key), label=key)
        missing = [n for n in self.names if n not in env]
        if missing:
            given = ' '.join(f"{n}=NUMBER" for n in missing)
            raise ExprError(f"no value for {', '.join(missing)}: give it as {given}")
        return env

    def _segment(self, node: ast.AST) -> str:
        """The source text of a node (offsets count UTF-8 bytes), shortened for messages."""
        lines = self.source.encode('utf-8').splitlines()
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if first == last:
            text = lines[first][start:end]
        else:
            text = b' '.join([lines[first][start:], *lines[first + 1 : last], lines[last][:end]])
        s = _one_line(text.decode('utf-8', 'replace'))
        return s if len(s) <= 60 else s[:57] + '...'


def _apply(kind: int, arg: Any, operands: list[Any]) -> tuple[str, Any]:
    """One operation through the engine; on constants only, the result is a float."""
    if kind == _UNARY:
        (x,) = operands
        if arg == '+':
            return '', x
        return 'neg', (-x if type(x) is Value else (-Value(x)).data)
    if kind == _BINARY_OP:
        symbol, fn = arg
        a, b = operands
        if type(a) is Value or type(b) is Value:
            return symbol, fn(a, b)
        return symbol, fn(Value(a), b).data
    name = arg[0]
    x = operands[0]
    if name == 'leaky_relu':
        slope = operands[1] if len(operands) == 2 else 0.01
        if type(x) is Value:
            return name, x.leaky_relu(slope)
        if type(slope) is Value:  # a constant x: x if x > 0, else slope * x
            return ('', x) if x > 0 else ('*', slope * x)
        return name, Value(x).leaky_relu(slope).data
    v = x if type(x) is Value else Value(x)
    result = abs(v) if name == 'abs' else getattr(v, name)()
    return name, (result if type(x) is Value else result.data)


def _error_text(e: BaseException) -> str:
    """An error's message on one line; never a raw (errno, text) tuple such as
    "(34, 'Numerical result out of range')", which names neither the op nor the cause."""
    args = e.args
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        if isinstance(e, OverflowError) or args[0] == 34:  # ERANGE
            return f"math range error: the result is too large ({args[1]})"
        return f"{type(e).__name__}: {args[1]}"
    return _one_line(str(e))


def _check_name(name: Any) -> str:
    """A variable name, normalized as Python normalizes identifiers (NFKC)."""
    if not isinstance(name, str):
        raise ExprError(f"a variable name must be a str, got {type(name).__name__}")
    key = unicodedata.normalize('NFKC', name)
    if not key.isidentifier() or keyword.iskeyword(key):
        raise ExprError(f"{_one_line(name)[:40]!r} is not a valid variable name")
    if key in FUNCTIONS:
        raise ExprError(f"{key} is a function, so it cannot be a variable name")
    return key


def _check_number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise ExprError(f"{name}: a variable must be a number, got {type(v).__name__}")
    try:
        f = float(v)
    except (OverflowError, ValueError, TypeError):
        raise ExprError(f"{name}: the value is too large for a float") from None
    if not math.isfinite(f):
        raise ExprError(f"{name}={f!r}: a variable must be a finite number")
    return f


def parse_assignment(text: str) -> tuple[str, float]:
    """'x=2.5' -> ('x', 2.5), with a clear ExprError for anything else."""
    if not isinstance(text, str):
        raise ExprError(f"an assignment must be a str, got {type(text).__name__}")
    name, sep, value = text.partition('=')
    shown = _one_line(text)[:60]
    if not sep:
        raise ExprError(f"{shown!r} is not NAME=NUMBER (a variable needs a value)")
    key = _check_name(name.strip())
    try:
        f = float(value.strip())
    except ValueError:
        raise ExprError(f"{key}={_one_line(value)[:40]}: the value is not a number") from None
    if not math.isfinite(f):
        raise ExprError(f"{key}={value.strip()}: a variable must be a finite number")
    return key, f


def parse_assignments(texts: list[str]) -> dict[str, float]:
    """['x=1', 'y=2'] -> {'x': 1.0, 'y': 2.0}, in the order given; a repeated name is an error."""
    out: dict[str, float] = {}
    for text in texts:
        name, value = parse_assignment(text)
        if name in out:
            raise ExprError(f"variable {name} is given twice")
        out[name] = value
    return out


def parse(source: str) -> Expression:
    """Parse and check an expression (see the module docstring), raising ExprError."""
    return Expression(*compile_source(source))


def evaluate(source: str, values: Mapping[str, Any] | None = None) -> Value | float:
    """parse(source).evaluate(values): the result as a Value, or a float without variables."""
    return parse(source).evaluate(values)
