"""Guards for microgrid.compile: notice when what a trace assumed no longer holds.

A trace bakes in WHICH Values fn reads (and the numbers it reads from globals). Before
each replay, compile asks ``guards.hold()``: are the globals and closure variables fn
reads still bound to the same objects, do the lists, tuples, dicts and Modules
reached through them still hold the same objects, and do the numpy arrays among them
still hold the same bytes? If not, it traces again. docs/compile.md lists what is
watched and what is not.
"""

from __future__ import annotations

import collections
import functools
import itertools
import sys
import types
from typing import Any

from microgrid.engine import Value

__all__ = ['ARRAY_GUARD_BUDGET', 'GUARD_BUDGET', 'Guards', 'guards_for']

GUARD_BUDGET = 10_000  # container elements snapshotted per trace; past it, not guarded
"""Container elements snapshotted per trace; containers past this budget are not guarded."""
ARRAY_GUARD_BUDGET = 1_000_000
"""numpy array elements compared per call (about 0.2 ms per million); past it, not guarded."""
_GUARD_DEPTH = 3  # how deep into the functions fn calls (found in its globals/cells)
_MISSING = object()


class Guards:
    """What a trace assumed about fn's surroundings, checked in a few microseconds."""

    __slots__ = ('names', 'cells', 'views', 'lens', 'items', 'arrays', 'complete')

    def __init__(self) -> None:
        self.names: list[tuple[dict, str, Any]] = []  # (globals, name, object)
        self.cells: list[tuple[Any, Any]] = []  # (closure cell, object)
        # The lists, and the values() views of the dicts and Modules' vars: live, so
        # their lengths and their items in a row can be compared with what they were.
        self.views: list[Any] = []
        self.lens: list[int] = []
        self.items: list[Any] = []
        # numpy arrays fn reaches, with their bytes: an array changed in place (W[0] = 1,
        # X -= X.mean(0)) holds other numbers than the trace baked in
        self.arrays: list[tuple[Any, bytes]] = []
        self.complete = True  # False when the budget ran out (see GUARD_BUDGET)

    def add_view(self, view: Any) -> None:
        self.views.append(view)
        self.lens.append(len(view))
        self.items.extend(view)

    def hold(self) -> bool:
        """Whether everything the trace read is still what it was."""
        for d, name, obj in self.names:
            if d.get(name, _MISSING) is not obj:
                return False
        for cell, obj in self.cells:
            try:
                if cell.cell_contents is not obj:
                    return False
            except ValueError:  # the cell was emptied (del)
                return False
        for array, snapshot in self.arrays:
            if array.tobytes() != snapshot:
                return False
        views = self.views
        if not views:
            return True
        # In C: list equality tests identity first, and Values compare by identity; an
        # item replaced by an equal number needs no new trace either.
        try:
            return list(map(len, views)) == self.lens and (
                list(itertools.chain.from_iterable(views)) == self.items
            )
        except Exception:  # an item whose == raises (a numpy array): call it changed
            return False


def guards_for(fn: Any) -> Guards:
    """The guards of fn: the globals and closure cells it (and the Python functions it
    reaches through them) reads, and the containers and Modules reachable from those."""
    guards = Guards()
    roots: list = []
    seen_fns: set[int] = set()

    def visit_function(f: Any, depth: int) -> None:
        if id(f) in seen_fns or depth > _GUARD_DEPTH:
            return
        seen_fns.add(id(f))
        module = getattr(f, '__module__', None) or ''
        if module.startswith('microgrid.') or not hasattr(f, '__code__'):  # our own code
            return
        g = f.__globals__
        for name in sorted(_names_read(f.__code__)):
            obj = g.get(name, _MISSING)
            if obj is not _MISSING and not isinstance(obj, types.ModuleType):
                guards.names.append((g, name, obj))
                found(obj, depth)
        for cell in f.__closure__ or ():
            try:
                obj = cell.cell_contents
            except ValueError:
                continue
            guards.cells.append((cell, obj))
            found(obj, depth)
        defaults = (f.__defaults__ or ()) + tuple((f.__kwdefaults__ or {}).values())
        for obj in defaults:
            found(obj, depth)

    def found(obj: Any, depth: int) -> None:
        if isinstance(obj, types.FunctionType):
            visit_function(obj, depth + 1)
        elif isinstance(obj, types.MethodType):
            visit_function(obj.__func__, depth + 1)
            owner = obj.__self__
            roots.append(owner)
            if depth < 0 and type(getattr(owner, '__dict__', None)) is dict:
                roots.append(vars(owner))  # compile(obj.method): obj's attributes too
        else:
            roots.append(obj)

    if isinstance(fn, functools.partial):
        roots.extend(fn.args)
        roots.extend(fn.keywords.values())
        fn = fn.func
    found(fn, -1)
    _guard_containers(roots, guards)
    return guards


def _names_read(code: types.CodeType) -> set[str]:
    """The global (and attribute) names a code object and the code nested in it use."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names_read(c)
    return names


def _guard_containers(roots: list, guards: Guards) -> None:
    """Snapshot the lists, dicts and Modules reachable from roots (breadth first, within
    GUARD_BUDGET elements): a parameter list that grows, or a Value replaced in a Module,
    makes the guards fail."""
    nn = sys.modules.get('microgrid.nn')  # no Module can exist before nn is imported
    module_type = nn.Module if nn is not None else ()
    numpy = sys.modules.get('numpy')  # nor an array before numpy is imported
    array_type = numpy.ndarray if numpy is not None else ()
    budget = GUARD_BUDGET
    array_budget = ARRAY_GUARD_BUDGET
    seen: set[int] = set()
    queue = collections.deque(roots)
    while queue:
        obj = queue.popleft()
        t = type(obj)
        if t is Value or id(obj) in seen:
            continue
        if t is list or t is tuple:
            items: Any = obj
        elif t is dict:
            items = list(obj.values())
        elif isinstance(obj, module_type):
            obj = vars(obj)
            items = list(obj.values())
        elif isinstance(obj, array_type):
            seen.add(id(obj))
            if obj.dtype.hasobject or obj.size > array_budget:
                guards.complete = False  # too large to compare on every call
            else:
                array_budget -= obj.size
                guards.arrays.append((obj, obj.tobytes()))
            continue
        else:
            continue  # numbers, strings, other objects: their identity is guarded
        seen.add(id(obj))
        if len(items) > budget:
            guards.complete = False
            continue
        budget -= len(items) + 1  # the container itself costs a length check
        if type(obj) is list:
            guards.add_view(obj)
        elif type(obj) is dict:
            guards.add_view(obj.values())
        queue.extend(x for x in items if type(x) is not Value and not isinstance(x, _ATOMS))


_ATOMS = (int, float, str, bytes, bool, type(None))
