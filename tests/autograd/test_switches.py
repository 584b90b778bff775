"""Switches per thread (issue 12), and the engine file kept a one-sitting read."""

from __future__ import annotations

import ast
import math
import sys
import threading
import time
from pathlib import Path

import pytest

import microgrid
from microgrid import engine
from microgrid.autograd.modes import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from microgrid.engine import Value

ENGINE = Path(microgrid.__file__).parent / 'engine.py'


# -- the engine file ---------------------------------------------------------------------


def test_engine_file_is_at_most_400_lines() -> None:
    lines = ENGINE.read_text().count('\n')
    assert lines <= 400, f"engine.py has {lines} lines; the lesson must stay <= 400"


@pytest.mark.parametrize(
    'path',
    [ENGINE, *(ENGINE.with_name(f'_{name}.py') for name in ('numbers', 'dot', 'micrograd'))],
    ids=lambda p: p.name,
)
def test_engine_imports_only_the_standard_library(path) -> None:
    """engine.py imports the standard library and its own _numbers.py, _dot.py and
    _micrograd.py, which import only the standard library; and (at the top level) nothing
    else of microgrid."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:  # top-level imports; lazy ones inside methods load machinery
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name} makes a relative import"
            module = node.module or ''
            names |= {f"{module}.{a.name}" if module == 'microgrid' else module for a in node.names}
    allowed = {'microgrid._numbers', 'microgrid._dot', 'microgrid._micrograd'}
    allowed = allowed if path == ENGINE else set()
    not_stdlib = {
        n
        for n in names - allowed
        if n.split('.')[0] not in sys.stdlib_module_names and n != '__future__'
    }
    assert not not_stdlib, f"{path.name} imports {sorted(not_stdlib)}"


# -- threads -----------------------------------------------------------------------------


def _grad_loop(n: int, results: list, stop: threading.Event | None = None) -> None:
    """Build and backpropagate a small graph n times; record every wrong gradient."""
    for i in range(n):
        a, b = Value(2.0 + i % 3), Value(-3.0)
        out = (a * b + a).tanh() * 2 + a * a
        out.backward()
        t = math.tanh(a.data * b.data + a.data)
        want_a = 2 * (1 - t * t) * (b.data + 1) + 2 * a.data
        if not math.isclose(a.grad, want_a, rel_tol=1e-12) or not out.op:
            results.append((i, a.grad, want_a))


def _other_thread_holds(
    switch_factory, seconds: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with switch_factory():
            entered.set()
            release.wait(seconds)

    t = threading.Thread(target=hold)
    t.start()
    assert entered.wait(5)
    return t, release


@pytest.mark.parametrize('switch', [no_grad, detect_anomaly], ids=['no_grad', 'detect_anomaly'])
def test_a_switch_in_one_thread_leaves_another_threads_gradients_right(switch) -> None:
    holder, release = _other_thread_holds(switch)
    wrong: list = []
    start = time.perf_counter()
    try:
        worker = threading.Thread(target=_grad_loop, args=(10_000, wrong))
        worker.start()
        worker.join()
    finally:
        release.set()
        holder.join()
    assert engine._hooks == 0
    assert wrong == [], f"{len(wrong)} wrong gradients, first {wrong[:3]}"
    assert time.perf_counter() - start < 60


def test_a_no_grad_thread_records_nothing_while_another_records() -> None:
    out: dict = {}

    def quiet() -> None:
        with no_grad():
            time.sleep(0.05)
            out['quiet'] = Value(1.0) * Value(2.0)

    t = threading.Thread(target=quiet)
    t.start()
    loud = Value(1.0) * Value(2.0)
    t.join()
    assert loud.op == '*' and len(loud.parents) == 2
    assert out['quiet'].op == '' and out['quiet'].parents == ()


def test_a_trace_in_one_thread_does_not_record_another_threads_ops() -> None:
    from microgrid import tracing

    seen: list = []
    started, done = threading.Event(), threading.Event()

    def other() -> None:
        started.wait(5)
        for _ in range(1000):
            Value(1.0) + Value(2.0)
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with tracing.trace(lambda node, operands: seen.append(node.op)):
        started.set()
        done.wait(5)
        x = Value(3.0) * 2
    t.join()
    assert seen == ['*'], seen
    assert x.op == '*'


def test_compile_traced_in_a_thread_while_another_builds_graphs() -> None:
    f = microgrid.compile(lambda a, b: (a * b + a).tanh())
    stop = threading.Event()
    wrong: list = []

    def busy() -> None:
        while not stop.is_set():
            _grad_loop(50, wrong)

    t = threading.Thread(target=busy)
    t.start()
    try:
        for i in range(20):
            a, b = Value(0.5 + i), Value(-0.25)
            y = f(a, b)
            y.backward()
            t_ = math.tanh(a.data * b.data + a.data)
            assert math.isclose(a.grad, (1 - t_ * t_) * (b.data + 1), rel_tol=1e-12)
    finally:
        stop.set()
        t.join()
    assert f.traces == 1
    assert wrong == []


# -- order of exits, decorators, set_grad_enabled ----------------------------------------


def test_out_of_order_exits_restore_the_state_before() -> None:
    a, b = no_grad(), no_grad()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert not is_grad_enabled()  # b is still open
    b.__exit__(None, None, None)
    assert is_grad_enabled()
    assert (Value(1.0) * Value(2.0)).op == '*'
    assert engine._hooks == 0


def test_out_of_order_exits_of_mixed_switches() -> None:
    a, b = no_grad(), enable_grad()
    a.__enter__()
    b.__enter__()
    assert is_grad_enabled()
    a.__exit__(None, None, None)
    assert is_grad_enabled()
    b.__exit__(None, None, None)
    assert is_grad_enabled()
    c, d = enable_grad(), no_grad()
    c.__enter__()
    d.__enter__()
    c.__exit__(None, None, None)
    assert not is_grad_enabled()  # d, the newest, still holds
    d.__exit__(None, None, None)
    assert is_grad_enabled() and engine._hooks == 0


def test_no_grad_and_detect_anomaly_as_decorators() -> None:
    @no_grad()
    def f(x):
        return x * 2

    @no_grad
    def g(x):
        return x * 3

    @detect_anomaly()
    def h(x):
        return x.log()

    x = Value(2.0)
    assert f(x).op == '' and f(x).data == 4.0
    assert g(x).op == '' and g(x).data == 6.0
    assert (x * 2).op == '*'
    with pytest.raises(ValueError, match='log'):
        h(Value(-1.0))
    with pytest.raises(FloatingPointError):
        h(Value(0.0) * Value(float('inf')))
    assert is_grad_enabled() and engine._hooks == 0


def test_a_decorated_function_can_recurse() -> None:
    @no_grad()
    def down(x, n):
        return x if n == 0 else down(x * 1, n - 1)

    assert down(Value(1.0), 5).op == ''
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call_and_as_a_context() -> None:
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled()
        assert (Value(1.0) * 2).op == ''
        with set_grad_enabled(True):
            assert (Value(1.0) * 2).op == '*'
        assert not is_grad_enabled()
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled() and engine._hooks == 0
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(TypeError, match='bool'):
        set_grad_enabled('no')


def test_enable_grad_inside_no_grad() -> None:
    with no_grad():
        assert (Value(1.0) * 2).op == ''
        with enable_grad():
            y = Value(1.0) * 2
            assert y.op == '*'
        assert (Value(1.0) * 2).op == ''
    assert is_grad_enabled()


def test_set_grad_enabled_plain_inside_no_grad_lasts_until_its_exit() -> None:
    with no_grad():
        set_grad_enabled(True)
        assert (Value(1.0) * 2).op == '*'
    assert is_grad_enabled() and engine._hooks == 0


def test_repeated_plain_calls_do_not_pile_up() -> None:
    from microgrid import switches

    try:
        for _ in range(1000):
            set_grad_enabled(False)
            set_grad_enabled(True)
        assert switches._state.grad.entries == []
    finally:
        set_grad_enabled(True)


def test_old_imports_of_the_switches_still_work() -> None:
    # microgrid.switches is the alias of microgrid.autograd.modes; the engine no longer
    # holds the switches (nothing is patched into it)
    from microgrid.switches import detect_anomaly as da
    from microgrid.switches import no_grad as ng

    assert ng is no_grad and da is detect_anomaly
    assert microgrid.no_grad is no_grad and microgrid.enable_grad is enable_grad
