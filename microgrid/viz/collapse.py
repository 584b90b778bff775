"""A neuron drawn as one box: which Values of a graph each neuron's box holds.

``draw(root, collapse=model)`` and ``Stepper(root, names=model, collapse=True)`` draw each
neuron of a Module as ONE box, labelled with the neuron's name (``L0.n3``: the name its
parameters share, ``layers.0.neurons.3``, shortened as ``names=model`` shortens them), its
output's data and grad, and how many parameters it folds in.

A neuron here is a module that holds Values itself (a Neuron's ``w`` and ``b``). Its box
holds, for each time it was called:
- the nodes that take one of its parameters (the weighted sum: one ``dot``),
- the nodes that only join such nodes (``w0*x0 + w1*x1`` written out, as micrograd does),
- and its activation (``relu``, ``tanh``, ...: the module's ``activation``, or ``relu`` for
  micrograd's ``nonlin=True``), applied once to the sum.
Its parameters are folded into the box when nothing outside the neuron uses them. Every
other Value (inputs, the loss) is drawn as usual; edges between boxes keep their direction.

Element ids stay those of the full drawing, so a step maps onto the collapsed one: a box is
``v<i>`` of its output Value, an edge into a box is ``e<i>_<k>`` of the edge it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from microgrid.engine import Value
from microgrid.text import short_name

__all__ = [
    'Box',
    'Collapse',
    'Neurons',
    'collapse_possible',
    'neuron_names',
    'neuron_units',
    'resolve_collapse',
]

_ACTIVATION_OPS = ('relu', 'tanh', 'sigmoid', 'leaky_relu')


class Box(NamedTuple):
    """One neuron's box: its name, the Value it outputs, the nodes and parameters inside."""

    name: str
    full_name: str
    output: Value
    members: list[Value]  # the non-leaf Values inside, in topological order (output last)
    parameters: list[Value]  # the parameters folded into it


class _Unit(NamedTuple):
    name: str  # dotted, as in named_parameters(): 'layers.0.neurons.3'
    parameters: list[Value]
    activation: str | None  # the op its output applies to the sum, if any


def _activation_of(module: Any) -> str | None:
    act = getattr(module, 'activation', None)
    if isinstance(act, str):
        return act if act in _ACTIVATION_OPS else None
    return 'relu' if getattr(module, 'nonlin', None) is True else None


def _is_module(x: Any) -> bool:
    return callable(getattr(x, 'named_parameters', None))


def _held_values(item: Any, out: list[Value]) -> None:
    if type(item) is Value:
        out.append(item)
    elif isinstance(item, (list, tuple)):
        for x in item:
            _held_values(x, out)


def neuron_units(model: Any) -> list[_Unit]:
    """Every module of ``model`` that holds parameters itself, with its dotted name."""
    units: list[_Unit] = []
    seen: set[int] = set()

    def walk(obj: Any, name: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        own: list[Value] = []
        for attr, item in vars(obj).items():
            if attr.startswith('_'):
                continue
            _held_values(item, own)
            if isinstance(item, (list, tuple)):
                for i, sub in enumerate(item):
                    if _is_module(sub):
                        walk(sub, f"{name}{attr}.{i}.")
            elif _is_module(item):
                walk(item, f"{name}{attr}.")
        if own:
            units.append(_Unit(name.rstrip('.') or type(obj).__name__, own, _activation_of(obj)))

    walk(model, '')
    return units


class Neurons(NamedTuple):
    """A Module's neurons, ready to collapse (what ``collapse=model`` resolves to)."""

    units: list[_Unit]

    def on(self, copies: Mapping[Value, Value]) -> Neurons:
        """The same neurons on a copy of the graph (``copies``: original -> copy)."""
        units = []
        for u in self.units:
            units.append(u._replace(parameters=[copies[p] for p in u.parameters if p in copies]))
        return Neurons(units)


def _unit_names(units: list[_Unit]) -> list[str]:
    """Short names (L0.n3) unless two would clash; then the full dotted names."""
    short = [short_name(u.name) for u in units]
    return short if len(set(short)) == len(short) else [u.name for u in units]


def _neuron_nodes(
    order: list[Value], units: list[_Unit], unit_of_param: dict[Value, int]
) -> tuple[dict[Value, int], list[tuple[Value, Value]]]:
    """{non-leaf Value: its neuron}: what takes its parameters, joins those, activates them;
    and the edges that join two such Values into one call of the neuron.

    Two parts of one call use different parameters (``w0*x0`` and ``w1*x1``); a part that
    uses the same parameters again starts another call (``m(a) + m(b)``, ``n(n(x))``)."""
    unit_of: dict[Value, int] = {}
    uses: dict[Value, frozenset[Value]] = {}  # the neuron's parameters each part uses
    links: list[tuple[Value, Value]] = []
    activated: set[Value] = set()
    for v in order:
        if not v.parents:
            continue
        found = {unit_of_param[p] for p in v.parents if p in unit_of_param}
        if len(found) == 1:  # takes the neuron's parameters (and inputs from anywhere)
            u = found.pop()
            own = frozenset(p for p in v.parents if unit_of_param.get(p) == u)
        elif len(v.parents) >= 2 and len(inside := {unit_of.get(p) for p in v.parents}) == 1:
            if None in inside:
                continue
            u, own = unit_of[v.parents[0]], frozenset()  # joins parts of one neuron
        elif len(v.parents) == 1 and v.parents[0] in unit_of:  # the activation, once
            p = v.parents[0]
            if p in activated or v.op != units[unit_of[p]].activation:
                continue
            u, own = unit_of[p], frozenset()
            activated.add(v)
        else:
            continue
        parts = [p for p in dict.fromkeys(v.parents) if unit_of.get(p) == u]
        if not own and len(parts) >= 2 and not _disjoint([uses[p] for p in parts]):
            continue  # joins two calls of the neuron: not a part of either
        unit_of[v] = u
        used = set(own)
        for p in parts:
            if not uses[p] & own:
                links.append((v, p))
                used |= uses[p]
        uses[v] = frozenset(used)
    return unit_of, links


def _disjoint(sets: list[frozenset[Value]]) -> bool:
    seen: set[Value] = set()
    for s in sets:
        if seen & s:
            return False
        seen |= s
    return True


def _calls(
    order: list[Value], unit_of: dict[Value, int], links: list[tuple[Value, Value]]
) -> list[list[Value]]:
    """One group per call of a neuron: its parts joined by links, in topological order."""
    group = {v: v for v in unit_of}  # part -> a representative, merged along links

    def find(v: Value) -> Value:
        while group[v] is not v:
            group[v] = group[group[v]]
            v = group[v]
        return v

    for v, p in links:
        a, b = find(v), find(p)
        if a is not b:
            group[a] = b
    members: dict[Value, list[Value]] = {}
    for v in order:
        if v in unit_of:
            members.setdefault(find(v), []).append(v)
    position = {v: i for i, v in enumerate(order)}
    return sorted(members.values(), key=lambda m: position[m[-1]])


class Collapse:
    """The boxes of one graph (``order``: its Values, parents first) for a Module's neurons."""

    def __init__(self, order: list[Value], neurons: Neurons) -> None:
        units = neurons.units
        unit_of_param: dict[Value, int] = {}
        for u, unit in enumerate(units):
            for p in unit.parameters:
                unit_of_param.setdefault(p, u)
        unit_of, links = _neuron_nodes(order, units, unit_of_param)
        names = _unit_names(units)
        calls: dict[int, int] = {}
        self.boxes: list[Box] = []
        self.box_of: dict[Value, Box] = {}
        for inside in _calls(order, unit_of, links):
            u = unit_of[inside[0]]
            calls[u] = calls.get(u, 0) + 1
            suffix = '' if calls[u] == 1 else f"#{calls[u]}"
            params = list(
                dict.fromkeys(p for v in inside for p in v.parents if unit_of_param.get(p) == u)
            )
            box = Box(names[u] + suffix, units[u].name, inside[-1], inside, params)
            self.boxes.append(box)
            for v in inside:
                self.box_of[v] = box
        # a parameter is folded when only its own neuron's boxes use it
        children: dict[Value, list[Value]] = {}
        for v in order:
            for p in v.parents:
                children.setdefault(p, []).append(v)
        self.folded: set[Value] = {
            p
            for p, u in unit_of_param.items()
            if p in children and all(unit_of.get(c) == u for c in children[p])
        }

    def drawn(self, v: Value) -> Value | None:
        """The Value whose drawing stands for v: its box's output, v itself, or None (folded)."""
        if v in self.folded:
            return None
        box = self.box_of.get(v)
        return box.output if box is not None else v

    def is_box(self, v: Value) -> bool:
        """True if v is drawn as a box (it is the output of a neuron's box)."""
        box = self.box_of.get(v)
        return box is not None and box.output is v

    def hidden(self, v: Value) -> bool:
        """True if v is not drawn on its own (inside a box, or a folded parameter)."""
        return self.drawn(v) is not v

    def edge(self, node: Value, parent: Value) -> tuple[Value, Value] | None:
        """The drawn (source, target) of the edge parent -> node, or None inside a box."""
        source, target = self.drawn(parent), self.drawn(node)
        if source is None or source is target:
            return None
        assert target is not None
        return source, target

    def fields(self, box: Box) -> list[str]:
        """The box's record fields but its grad: name, what it holds, its output's data."""
        ops = ' → '.join(dict.fromkeys(v.op for v in box.members))
        n = len(box.parameters)
        held = f"{ops}, {n} parameter{'s' if n != 1 else ''}"
        return [box.name, held]


def neuron_names(order: list[Value], names: Any) -> dict[Value, str]:
    """With ``names=model``: each neuron's output named as the neuron (``L1.n3``), its other
    parts after it (``L1.n3.dot``), so captions name what the drawing shows, boxes or not."""
    if not _is_module(names):
        return {}
    out: dict[Value, str] = {}
    for box in Collapse(order, Neurons(neuron_units(names))).boxes:
        for k, v in enumerate(box.members[:-1]):
            out[v] = f"{box.name}.{v.op if v.op.isidentifier() else f'part{k}'}"
        out[box.output] = box.name
    return out


def collapse_possible(names: Any) -> bool:
    """True if ``names`` is a Module, so its neurons can be drawn as boxes."""
    return _is_module(names)


def resolve_collapse(collapse: Any, names: Any) -> Neurons | None:
    """The neurons to collapse: of ``collapse=model``, or ``collapse=True`` with ``names=model``.

    None when nothing is collapsed (``collapse`` None or False)."""
    if collapse is None or collapse is False:
        return None
    if isinstance(collapse, Neurons):
        return collapse
    if collapse is True:
        if _is_module(names):
            return Neurons(neuron_units(names))
        raise TypeError(
            "collapse=True draws each neuron of names=model as one box: pass names=model "
            f"(a Module), or collapse=model; names is {type(names).__name__}"
        )
    if _is_module(collapse):
        return Neurons(neuron_units(collapse))
    raise TypeError(
        "collapse must be a Module such as an MLP (its neurons become boxes), True (with "
        f"names=model) or False, got {type(collapse).__name__}"
    )
