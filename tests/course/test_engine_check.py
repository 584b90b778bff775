"""microgrid.check_engine: right engines pass, each classic bug is caught and named.

The student classes below are written the two ways a course writes them: closures in
``_backward`` (the lecture's way) and stored local derivatives (microgrid's way). Each
buggy class differs from a right one in one line.
"""

from __future__ import annotations

import math
import re

import microgrid
from microgrid import check_engine


class ClosureValue:
    """The lecture's way: every op sets a _backward closure; backward sorts topologically."""

    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        out = ClosureValue(self.data**k, (self,), f'**{k}')

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def tanh(self):
        t = math.tanh(self.data)
        out = ClosureValue(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = ClosureValue(math.exp(self.data), (self,), 'exp')

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)

        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


class LocalValue:
    """microgrid's way: each node stores its parents and local derivatives; + * tanh only."""

    def __init__(self, data, parents=(), locals_=()):
        self.data = data
        self.grad = 0.0
        self.parents = parents
        self.locals = locals_

    def __add__(self, other):
        return type(self)(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        return type(self)(self.data * other.data, (self, other), (other.data, self.data))

    def tanh(self):
        t = math.tanh(self.data)
        return type(self)(t, (self,), (1 - t * t,))

    def order(self):
        seen, out = set(), []

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v.parents:
                    visit(p)
                out.append(v)

        visit(self)
        return out

    def backward(self):
        self.grad = 1.0
        for v in reversed(self.order()):
            for p, local in zip(v.parents, v.locals):
                p.grad += local * v.grad


class AssignBug(LocalValue):
    """`=` instead of `+=`."""

    def backward(self):
        self.grad = 1.0
        for v in reversed(self.order()):
            for p, local in zip(v.parents, v.locals):
                p.grad = local * v.grad  # the bug


class RecursiveBug(ClosureValue):
    """A recursive backward without the topological sort."""

    def __init__(self, data, _children=(), _op=''):
        super().__init__(data, _children, _op)

    def __add__(self, other):
        out = RecursiveBug(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        out = RecursiveBug(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = RecursiveBug(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    # only + * tanh: hide the inherited ops the bug class does not rebuild
    __pow__ = __neg__ = __sub__ = __truediv__ = exp = None  # type: ignore[assignment]

    def backward(self, _root=True):
        if _root:
            self.grad = 1.0
        self._backward()
        for child in self._prev:
            child.backward(_root=False)


class TanhBug(LocalValue):
    """tanh's derivative written as 1 - tanh(x) instead of 1 - tanh(x)**2."""

    def tanh(self):
        t = math.tanh(self.data)
        return TanhBug(t, (self,), (1 - t,))  # the bug


def test_a_lecture_style_engine_passes_and_lists_its_ops(capsys):
    result = check_engine(ClosureValue)
    assert result and result.ok
    assert result.ops == ('a + b', 'a * b', 'a - b', 'a / b', '-a', 'a ** 2', 'a ** 3',
                          'tanh(a)', 'exp(a)')  # fmt: skip
    assert result.expressions == 30
    assert capsys.readouterr().out.startswith('✓ check_engine: ClosureValue agrees')


def test_an_engine_of_local_derivatives_with_three_ops_is_not_failed_for_missing_ones():
    result = check_engine(LocalValue, verbose=False)
    assert result.ok, result.message
    assert result.ops == ('a + b', 'a * b', 'tanh(a)')


def test_microgrid_itself_passes():
    assert check_engine(microgrid.Value, verbose=False)


def test_assignment_instead_of_accumulation_is_caught_by_a_plus_a(capsys):
    result = check_engine(AssignBug)
    assert not result
    out = capsys.readouterr().out
    assert out.startswith('✗ check_engine: AssignBug is wrong (first wrong op: a + b).\n  a + a')
    assert 'a + a at a=1.5: a.grad should be 2, your backward gives 1' in out
    assert '(+=), not overwrite it (=)' in out


def test_a_recursive_backward_without_the_sort_is_caught_on_the_two_depth_graph():
    result = check_engine(RecursiveBug, verbose=False)
    assert not result.ok
    assert 'reverse topological order' in result.message
    # n0 = x0 + x1; n1 = n0 * x2; n2 = n0 + n1 with x2 = 2: x1.grad = 1 + x2 = 3. Visiting
    # n0 before all of its gradient arrived, then again, gives 4 or 6 (set order).
    assert 'n0 = x0 + x1; n1 = n0 * x2; n2 = n0 + n1; backward from n2.\n' in result.message
    assert re.search(
        r'x1\.grad should be 3, yours is [46]\. It gets its gradient from n0', result.message
    )


def test_a_wrong_tanh_derivative_is_named():
    result = check_engine(TanhBug, verbose=False)
    assert not result
    assert result.first_wrong_op == 'tanh(a)'
    expected = 1 - math.tanh(0.7) ** 2
    assert f'd out/d a should be {expected:.6g} (d/da = 1 - tanh(a)**2)' in result.message
    assert f'your backward gives {1 - math.tanh(0.7):.6g}' in result.message


def test_a_wrong_forward_pass_is_named():
    class ExpBug(LocalValue):
        def exp(self):
            return ExpBug(math.exp(self.data) + 1, (self,), (math.exp(self.data),))

    result = check_engine(ExpBug, verbose=False)
    assert not result and result.first_wrong_op == 'exp(a)'
    assert 'the forward pass of exp(a) is wrong' in result.message


def test_a_class_that_raises_is_a_reported_failure_not_a_crash():
    class Raises(LocalValue):
        def backward(self):
            raise RuntimeError('not written yet')

    result = check_engine(Raises, verbose=False)
    assert not result
    assert 'raised RuntimeError: not written yet' in result.message

    class NoInit:
        def __init__(self):
            pass

        def __add__(self, other):
            return self

        def backward(self):
            pass

    result = check_engine(NoInit, verbose=False)
    assert not result and 'NoInit(1.5) raised TypeError' in result.message


def test_a_class_without_ops_or_backward_fails_with_a_reason():
    class Empty:
        pass

    assert 'defines none of the ops' in check_engine(Empty, verbose=False).message

    class NoBackward:
        def __init__(self, data):
            self.data = data

        def __add__(self, other):
            return NoBackward(self.data + other.data)

    assert 'has no backward() method' in check_engine(NoBackward, verbose=False).message


def test_grads_that_are_not_numbers_are_reported():
    class NoneGrad(LocalValue):
        def backward(self):
            for p in self.parents:
                p.grad = None

    result = check_engine(NoneGrad, verbose=False)
    assert not result and 'should be a number, got NoneType' in result.message
