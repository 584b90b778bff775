"""Kernels: the nodes of one level and one op, computed together with a few numpy calls.

A group reads its operands from the slot array ``v`` (gathered by index, or as a slice
when they are consecutive), writes its results to its own consecutive slots, and saves
what backward needs. Backward adds each contribution into the gradient slots ``g`` of
the operands that need one (a Target knows which, and how to add fastest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from microgrid.compiler.rules import BINARY_OPS, ENGINE_RULES, NUMPY_RULES, UNARY_OPS

__all__ = ['make_group']


# -----------------------------------------------------------------------------
# Where contributions go: a precomputed way to add an array into the gradient slots.
# -----------------------------------------------------------------------------


class _Target:
    """Adds contributions c (laid out as the index array idx) into g[idx], skipping the
    slots that need no gradient (constants, inputs, nodes with no parameter below)."""

    __slots__ = ('keep', 'index', 'how')

    def __init__(self, idx: Any, wanted: Any) -> None:
        idx = np.asarray(idx, dtype=np.intp).ravel()
        mask = wanted[idx]
        self.keep = None if mask.all() else np.flatnonzero(mask)
        index = idx[mask]
        self.index: Any = index
        if index.size == 0:
            self.how = 'none'
        elif index.size > 1 and (np.diff(index) == 1).all():
            self.how = 'slice'
            self.index = slice(int(index[0]), int(index[-1]) + 1)
        elif np.unique(index).size == index.size:
            self.how = 'unique'
        else:
            self.how = 'repeated'

    @property
    def needed(self) -> bool:
        return self.how != 'none'

    def add(self, g: Any, c: Any) -> None:
        how = self.how
        if how == 'none':
            return
        if self.keep is not None:
            c = c.ravel()[self.keep]
        elif c.ndim != 1:
            c = c.ravel()
        if how == 'repeated':
            np.add.at(g, self.index, c)
        else:
            g[self.index] += c


def _operand(idx: Any) -> Any:
    """How to read operands: a slice when the slots are consecutive, else the index array."""
    idx = np.asarray(idx, dtype=np.intp)
    if idx.size > 1 and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    if idx.size == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    return idx


# -----------------------------------------------------------------------------
# Groups: nodes of one level and one op, computed together.
# -----------------------------------------------------------------------------


class _Unary:
    def __init__(self, op: str, s: int, e: int, a: Any, wanted: Any) -> None:
        self.op, self.s, self.e = op, s, e
        self.rule = NUMPY_RULES[op]
        self.a = _operand(a)
        self.target = _Target(a, wanted)

    def forward(self, v: Any, saved: list) -> None:
        out, d = self.rule(v[self.a])
        v[self.s : self.e] = out
        saved.append(d)

    def backward(self, g: Any, d: Any) -> None:
        if self.target.needed:
            self.target.add(g, d * g[self.s : self.e])


class _Binary:
    def __init__(self, op: str, s: int, e: int, a: Any, b: Any, wanted: Any) -> None:
        self.op, self.s, self.e = op, s, e
        self.rule = NUMPY_RULES[op]
        self.a, self.b = _operand(a), _operand(b)
        self.ta, self.tb = _Target(a, wanted), _Target(b, wanted)

    def forward(self, v: Any, saved: list) -> None:
        out, da, db = self.rule(v[self.a], v[self.b])
        v[self.s : self.e] = out
        saved.append((da, db))

    def backward(self, g: Any, d: Any) -> None:
        up = g[self.s : self.e]
        da, db = d
        if self.ta.needed:
            self.ta.add(g, up if type(da) is float and da == 1.0 else da * up)
        if self.tb.needed:
            self.tb.add(g, up if type(db) is float and db == 1.0 else db * up)


class _Scalar:
    """One unary or binary node, on Python floats with the engine's own rule (numpy's
    cost for a one-element array is larger than the work)."""

    def __init__(self, op: str, s: int, operands: list[int], wanted: Any) -> None:
        self.op, self.s, self.e = op, s, s + 1
        self.rule = ENGINE_RULES[op]
        self.operands = [i for i in operands]
        self.wanted = [bool(wanted[i]) for i in operands]

    def forward(self, v: Any, saved: list) -> None:
        out, *d = self.rule(*[v.item(i) for i in self.operands])
        v[self.s] = out
        saved.append(d)

    def backward(self, g: Any, d: Any) -> None:
        up = g.item(self.s)
        for i, want, local in zip(self.operands, self.wanted, d):
            if want:
                g[i] += local * up


class _Sum:
    """Sums of any lengths as one segmented reduction (np.add.reduceat)."""

    def __init__(self, s: int, e: int, operands: list[list[int]], wanted: Any) -> None:
        self.op, self.s, self.e = 'sum', s, e
        self.counts = np.array([len(o) for o in operands], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1])).astype(np.intp)
        flat = [i for o in operands for i in o]
        self.idx = _operand(flat)
        self.target = _Target(flat, wanted)

    def forward(self, v: Any, saved: list) -> None:
        v[self.s : self.e] = NUMPY_RULES['sum'](v[self.idx], self.starts)
        saved.append(None)

    def backward(self, g: Any, d: Any) -> None:
        if self.target.needed:
            up = g[self.s : self.e]
            self.target.add(g, up.repeat(self.counts))


class _Dot:
    """Dot products of any lengths: gathered products and a segmented reduction."""

    def __init__(self, s: int, e: int, ws: list[list[int]], xs: list[list[int]], wanted: Any):
        self.op, self.s, self.e = 'dot', s, e
        self.counts = np.array([len(w) for w in ws], dtype=np.intp)
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1])).astype(np.intp)
        wf = [i for w in ws for i in w]
        xf = [i for x in xs for i in x]
        self.w, self.x = _operand(wf), _operand(xf)
        self.tw, self.tx = _Target(wf, wanted), _Target(xf, wanted)

    def forward(self, v: Any, saved: list) -> None:
        w, x = v[self.w], v[self.x]
        v[self.s : self.e] = NUMPY_RULES['dot'](w, x, self.starts)
        saved.append((w, x))

    def backward(self, g: Any, d: Any) -> None:
        w, x = d
        up = g[self.s : self.e].repeat(self.counts)
        if self.tw.needed:
            self.tw.add(g, x * up)
        if self.tx.needed:
            self.tx.add(g, w * up)


class _MatrixDot:
    """Dot products w_r . x_c for every pair of R weight rows and C input rows (a layer's
    neurons over a batch): one matrix product X @ W.T, laid out row by row."""

    def __init__(self, s: int, e: int, w_rows: Any, x_rows: Any, wanted: Any) -> None:
        self.op, self.s, self.e = 'dot', s, e
        self.W, self.X = w_rows, x_rows  # (R, k) and (C, k) slot indices
        self.shape = (x_rows.shape[0], w_rows.shape[0])
        self.tw, self.tx = _Target(w_rows, wanted), _Target(x_rows, wanted)

    def forward(self, v: Any, saved: list) -> None:
        W, X = v[self.W], v[self.X]
        with np.errstate(over='ignore', invalid='ignore'):  # inf and NaN as eager: no warning
            v[self.s : self.e] = (X @ W.T).ravel()
        saved.append((W, X))

    def backward(self, g: Any, d: Any) -> None:
        W, X = d
        up = g[self.s : self.e].reshape(self.shape)
        if self.tw.needed:
            self.tw.add(g, up.T @ X)
        if self.tx.needed:
            self.tx.add(g, up @ W)


def make_group(op: str, members: list, start: int, slot: Callable, wanted: Any) -> tuple:
    """The group object for members (nodes of one level and op) placed from slot start,
    and the members in the order the group lays them out."""
    if len(members) == 1 and op in ENGINE_RULES:
        r = members[0]
        return _Scalar(op, start, [slot(x) for x in r[2]], wanted), members
    if op in UNARY_OPS:
        members = sorted(members, key=lambda r: slot(r[2][0]))  # operands often consecutive
        a = [slot(r[2][0]) for r in members]
        return _Unary(op, start, start + len(members), a, wanted), members
    if op in BINARY_OPS:
        members = sorted(members, key=lambda r: (slot(r[2][0]), slot(r[2][1])))
        a = [slot(r[2][0]) for r in members]
        b = [slot(r[2][1]) for r in members]
        return _Binary(op, start, start + len(members), a, b, wanted), members
    if op == 'sum':
        operands = [[slot(x) for x in r[2]] for r in members]
        return _Sum(start, start + len(members), operands, wanted), members
    ws = np.array([[slot(w) for w in r[2][0]] for r in members], dtype=np.intp)
    xs = np.array([[slot(x) for x in r[2][1]] for r in members], dtype=np.intp)
    matrix = _as_matrix(ws, xs)
    if matrix is not None:
        w_rows, x_rows, layout = matrix
        members = [members[j] for j in layout]
        return _MatrixDot(start, start + len(members), w_rows, x_rows, wanted), members
    return _Dot(start, start + len(members), ws.tolist(), xs.tolist(), wanted), members


def _as_matrix(ws: Any, xs: Any) -> Any:
    """If the dot products are every pair of R distinct weight rows and C distinct input
    rows (a layer's neurons over a batch), (W rows, X rows, member order), else None."""
    n = ws.shape[0]
    if n < 2:
        return (ws, xs, [0]) if n == 1 else None
    w_rows, wi = np.unique(ws, axis=0, return_inverse=True)
    x_rows, xi = np.unique(xs, axis=0, return_inverse=True)
    wi, xi = wi.ravel(), xi.ravel()
    r, c = w_rows.shape[0], x_rows.shape[0]
    if r * c != n or np.unique(xi * r + wi).size != n:
        return None
    layout = np.argsort(xi * r + wi, kind='stable')  # row by row: input c, neuron r
    return w_rows, x_rows, layout.tolist()
