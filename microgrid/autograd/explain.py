"""explain(): a gradient written out as the chain rule computes it.

d(root)/d(x) is the sum, over every path from root down to x, of the product of the
local derivatives along the path. explain() lists those paths with their numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from microgrid.engine import Value, topological_order
from microgrid.text import display_name
from microgrid.text import fmt as _fmt

__all__ = ['Path', 'explain', 'paths']

Path = list[tuple[Value, Value, float]]
"""One path from the root down to x: (node, parent, d node / d parent) for each edge."""


def explain(x: Value, root: Value, max_paths: int = 20) -> str:
    """Derive d(root)/d(x) as a sum over paths of products of local derivatives."""
    if not isinstance(x, Value) or not isinstance(root, Value):
        raise TypeError('explain(x, root) takes two Values')
    if max_paths < 1:
        raise ValueError(f'max_paths must be at least 1, got {max_paths}')
    r, v = display_name(root), display_name(x)
    head = f'd{r}/d{v}'
    if x is root:
        return f'{head} = 1.0  (the seed: {r} with respect to itself)'
    count, total = _count_and_total(x, root)
    if count.get(root, 0) == 0:
        return f'{head} = 0.0  ({v} is not used in computing {r})'
    n_paths = count[root]
    shown = list(itertools.islice(paths(x, root), max_paths))
    if n_paths == 1:
        lines = [f'{head} = {_product(shown[0])}']
    else:
        lines = [f'{head} = the sum over {n_paths} paths of the local derivatives multiplied:']
        width = len(str(len(shown)))
        for i, path in enumerate(shown, 1):
            lines.append(f'  path {i:>{width}}: {_product(path)}')
        values = [_path_value(p) for p in shown]
        if n_paths > len(shown):
            rest, more = total[root] - sum(values), n_paths - len(shown)
            lines.append(f'  ... and {more} more paths, which add up to {_fmt(rest)}')
            terms = _terms(values[:5]) + ' + ...'
        else:
            terms = _terms(values)
        lines.append(f'{head} = {terms} = {_fmt(total[root])}')
    if x.grad and not math.isclose(x.grad, total[root], rel_tol=1e-9, abs_tol=1e-12):
        # Only when a backward() has run and the grad differs: it has accumulated.
        lines.append(
            f'  (note: {v}.grad holds {_fmt(x.grad)}, not {_fmt(total[root])}; one backward() '
            f'from zeroed grads gives {_fmt(total[root])}, and a leaf adds up the gradients of '
            'every backward() until it is zeroed)'
        )
    return '\n'.join(lines)


def paths(x: Value, root: Value) -> Iterator[Path]:
    """Every path of edges from root down to x, depth first, without recursion."""
    count, _ = _count_and_total(x, root)
    if count.get(root, 0) == 0 or x is root:
        return
    path: Path = []
    stack = [iter(_edges_towards(root, count))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            if path:
                path.pop()
            continue
        path.append(step)
        parent = step[1]
        if parent is x:
            yield list(path)
            path.pop()
        else:
            stack.append(iter(_edges_towards(parent, count)))


def _edges_towards(node: Value, count: dict) -> list[tuple[Value, Value, float]]:
    e = node._edges
    return [(node, e[i], e[i + 1]) for i in range(0, len(e), 2) if count.get(e[i], 0)]


def _count_and_total(x: Value, root: Value) -> tuple[dict, dict]:
    """For each node: how many paths lead down to x, and the sum of their products."""
    count: dict = {x: 1}
    total: dict = {x: 1.0}
    for node in topological_order(root):  # parents before children
        if node is x:
            continue
        e = node._edges
        n, t = 0, 0.0
        for i in range(0, len(e), 2):
            p = e[i]
            if p in count:
                n += count[p]
                t += e[i + 1] * total[p]
        if n:
            count[node], total[node] = n, t
    return count, total


def _terms(values: list[float]) -> str:
    text = _fmt(values[0])
    for v in values[1:]:
        text += f' - {_fmt(-v)}' if v < 0 else f' + {_fmt(v)}'
    return text


def _product(path: Path) -> str:
    names = ' * '.join(f'd{display_name(n)}/d{display_name(p)}' for n, p, _ in path)
    numbers = ''.join(f'({_fmt(g)})' for _, _, g in path)
    return f'{names} = {numbers} = {_fmt(_path_value(path))}'


def _path_value(path: Path) -> float:
    value = 1.0
    for _, _, g in path:
        value *= g
    return value
