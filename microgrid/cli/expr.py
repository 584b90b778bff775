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
import operator
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

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

MAX_LENGTH = 50_000
"""The longest expression accepted, in characters."""
MAX_NODES = 10_000
"""The most nodes (numbers, names, operations and calls) an expression may have."""
MAX_DEPTH = 1_000
"""The deepest nesting an expression may have."""

FUNCTIONS = (
    'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 'leaky_relu', 'softplus', 'sin', 'cos', 'abs',
)  # fmt: skip
"""The functions an expression may call: the engine's unary ops."""

_BINARY: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ('+', operator.add),
    ast.Sub: ('-', operator.sub),
    ast.Mult: ('*', operator.mul),
    ast.Div: ('/', operator.truediv),
    ast.Pow: ('**', operator.pow),
}

# Operators that Python parses but expressions refuse, by the name a learner knows.
_REFUSED_OPERATORS = {
    ast.FloorDiv: '//', ast.Mod: '%', ast.MatMult: '@', ast.LShift: '<<', ast.RShift: '>>',
    ast.BitOr: '|', ast.BitXor: '^', ast.BitAnd: '&', ast.Not: 'not', ast.Invert: '~',
}  # fmt: skip

# Every other kind of Python expression, named for the error message.
_REFUSED_NODES = {
    ast.Attribute: 'attribute access',
    ast.Subscript: 'subscripts',
    ast.Slice: 'slices',
    ast.Lambda: 'lambdas',
    ast.ListComp: 'comprehensions',
    ast.SetComp: 'comprehensions',
    ast.DictComp: 'comprehensions',
    ast.GeneratorExp: 'generator expressions',
    ast.JoinedStr: 'strings',
    ast.FormattedValue: 'strings',
    ast.Compare: 'comparisons',
    ast.BoolOp: "'and' and 'or'",
    ast.IfExp: 'conditional expressions (if/else)',
    ast.NamedExpr: 'assignments (:=)',
    ast.Tuple: 'tuples (commas)',
    ast.List: 'lists',
    ast.Set: 'sets',
    ast.Dict: 'dicts',
    ast.Starred: 'starred arguments (*)',
    ast.Await: 'await expressions',
    ast.Yield: 'yield expressions',
    ast.YieldFrom: 'yield expressions',
}


class ExprError(ValueError):
    """An expression or a variable assignment that is not allowed, or cannot be computed."""


# Instructions of the compiled program, executed by a stack machine.
_CONST, _VAR, _UNARY, _BINARY_OP, _CALL = range(5)


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


def _one_line(s: str) -> str:
    return ' '.join(s.split())


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
    if not isinstance(source, str):
        raise ExprError(f"an expression must be a str, got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExprError(
            f"the expression is too long: {len(source)} characters (the limit is {MAX_LENGTH})"
        )
    source = source.strip()
    if not source:
        raise ExprError('the expression is empty')
    if _least_nodes(source) > MAX_NODES:  # before Python's parser builds a huge tree
        raise ExprError(_too_large())
    try:
        tree = _ast_parse(source)
    except SyntaxError as e:
        if 'too many nested parentheses' in str(e.msg):
            raise ExprError(_too_deep_for_python()) from None
        where = f" at column {e.offset}" if e.offset else ''
        raise ExprError(f"invalid expression: {_one_line(str(e.msg))}{where}") from None
    except RecursionError:  # deeper than _ast_parse allows: past MAX_DEPTH (see there)
        raise ExprError(_too_deep()) from None
    except MemoryError:  # the C parser's own stack
        raise ExprError(_too_deep_for_python()) from None
    except ValueError as e:  # null bytes, on Python 3.10 and 3.11
        raise ExprError(f"invalid expression: {_one_line(str(e))}") from None
    return _compile(source, tree.body)


_TOKEN = re.compile(r'(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[^\W\d]\w*(\s*=(?!=))?|(\*\*|[-+*/])')


def _least_nodes(source: str) -> int:
    """A lower bound on the nodes _compile counts, from the text alone: every number,
    name (but a keyword argument's) and operator is one node."""
    return sum(1 for m in _TOKEN.finditer(source) if m.group(1) is None)


def _ast_parse(source: str) -> ast.Expression:
    """ast.parse in 'eval' mode. A long flat chain (x+x+...+x) is a deep left-leaning
    tree, which CPython turns into Python objects recursively, within three times the
    recursion limit: retry once with room for 7,500 levels, more than a flat chain of
    MAX_NODES nodes needs (5,000) and a small C stack holds. Deeper still is past
    MAX_DEPTH, since _least_nodes() let through at most MAX_NODES nodes."""
    with warnings.catch_warnings():  # e.g. SyntaxWarning on '1(2)': we refuse it anyway
        warnings.simplefilter('ignore')
        try:
            return ast.parse(source, mode='eval')
        except RecursionError:
            limit = sys.getrecursionlimit()
            if limit >= 2500:
                raise
        try:
            sys.setrecursionlimit(2500)
            return ast.parse(source, mode='eval')
        finally:
            sys.setrecursionlimit(limit)


def _too_large() -> str:
    return f"the expression is too large: more than {MAX_NODES} nodes (the limit MAX_NODES)"


def _too_deep() -> str:
    return (
        f"the expression is nested too deeply: more than {MAX_DEPTH} levels (the limit "
        "MAX_DEPTH; brackets, calls and unary minus nest, a flat chain such as x+x+x does not)"
    )


def _too_deep_for_python() -> str:
    return (
        "the expression is nested too deeply for Python's parser, which allows about 200 "
        "nested brackets and a few thousand nested operators"
    )


def _compile(source: str, root: ast.expr) -> Expression:
    """Check every node against the whitelist and emit a postfix program, without recursion."""
    program: list[tuple[int, Any, ast.AST]] = []
    names: dict[str, None] = {}
    count = 0
    # (node, depth, instruction or None): None means the children are not pushed yet.
    stack: list[tuple[ast.expr, int, tuple[int, Any] | None]] = [(root, 1, None)]
    while stack:
        node, depth, instruction = stack.pop()
        if instruction is not None:
            program.append((*instruction, node))
            continue
        count += 1
        if count > MAX_NODES:
            raise ExprError(_too_large())
        if depth > MAX_DEPTH:
            raise ExprError(_too_deep())
        instruction, children = _check(node)
        if instruction[0] == _VAR:
            names[instruction[1]] = None
        stack.append((node, depth, instruction))
        stack.extend((child, _depth(node, child, depth), None) for child in reversed(children))
    return Expression(source, program, tuple(names))


# Operators of one precedence: a chain of them (a - b + c) is one level.
_LEVEL: dict[type, int] = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1, ast.Pow: 2}
_LEVEL.update(dict.fromkeys(_REFUSED_OPERATORS, -1))  # refused anyway, by _check


def _depth(parent: ast.expr, child: ast.expr, depth: int) -> int:
    """A child's level: the same as its parent's along a chain of binary operators of one
    precedence (the left operand, or the right one for **), one deeper otherwise."""
    if isinstance(parent, ast.BinOp) and isinstance(child, ast.BinOp):
        if _LEVEL[type(child.op)] == _LEVEL[type(parent.op)]:
            along = parent.right if isinstance(parent.op, ast.Pow) else parent.left
            if child is along:
                return depth
    return depth + 1


def _check(node: ast.expr) -> tuple[tuple[int, Any], list[ast.expr]]:
    """The instruction for an allowed node and its operands, or an ExprError naming the problem."""
    if isinstance(node, ast.Constant):
        return (_CONST, _constant(node.value)), []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExprError(f"{node.id} is a function: call it, as in {node.id}(x)")
        return (_VAR, node.id), []
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return (_UNARY, '-' if isinstance(node.op, ast.USub) else '+'), [node.operand]
        raise ExprError(f"the operator {_operator(node.op)} is not allowed")
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINARY:
            return (_BINARY_OP, _BINARY[type(node.op)]), [node.left, node.right]
        raise ExprError(f"the operator {_operator(node.op)} is not allowed (use + - * / **)")
    if isinstance(node, ast.Call):
        return _check_call(node)
    raise ExprError(_refusal(node))


def _check_call(node: ast.Call) -> tuple[tuple[int, Any], list[ast.expr]]:
    func = node.func
    if not isinstance(func, ast.Name):
        if not isinstance(func, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call)):
            raise ExprError(_refusal(func))
        raise ExprError(f"only these functions can be called: {', '.join(FUNCTIONS)}")
    name = func.id
    if name not in FUNCTIONS:
        raise ExprError(
            f"unknown function {_one_line(name)[:40]}(): the functions are {', '.join(FUNCTIONS)}"
        )
    for a in node.args:
        if isinstance(a, ast.Starred):
            raise ExprError('starred arguments (*) are not allowed')
    args = list(node.args)
    for kw in node.keywords:
        if kw.arg is None:
            raise ExprError('keyword unpacking (**) is not allowed')
        if name != 'leaky_relu' or kw.arg != 'slope':
            raise ExprError(f"{name}() has no keyword argument {kw.arg!r}")
        if len(args) != 1:
            raise ExprError('leaky_relu() takes x and slope: slope is given twice or x is missing')
        args.append(kw.value)
    if name == 'leaky_relu':
        if len(args) not in (1, 2):
            raise ExprError(f"leaky_relu() takes 1 or 2 arguments (x, slope), got {len(args)}")
    elif len(args) != 1:
        raise ExprError(f"{name}() takes exactly 1 argument, got {len(args)}")
    return (_CALL, (name, len(args))), args


def _constant(value: Any) -> float:
    if isinstance(value, (str, bytes)):
        raise ExprError('strings are not allowed')
    if isinstance(value, complex):
        raise ExprError(f"complex numbers are not allowed: {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprError(f"{value!r} is not allowed, only numbers")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ExprError('a number in the expression is too large for a float')
    return f


def _operator(op: ast.AST) -> str:
    return repr(_REFUSED_OPERATORS.get(type(op), type(op).__name__))


def _refusal(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{_one_line(node.attr)[:40]}) is not allowed"
    what = _REFUSED_NODES.get(type(node), f"{type(node).__name__} expressions")
    return f"{what} are not allowed"


def evaluate(source: str, values: Mapping[str, Any] | None = None) -> Value | float:
    """parse(source).evaluate(values): the result as a Value, or a float without variables."""
    return parse(source).evaluate(values)
