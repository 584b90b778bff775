"""The Playground never trains unseen, and every widget knows whether its views are open.

Each way of leaving a Playground stops its training thread: a new Playground, another one
playing, close(), the last view going away (a goodbye, or pings that stop), and a kernel
interrupt (SIGINT in this process, and a real ipykernel's interrupt, idle or busy).
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time

import pytest

live = pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid import Value  # noqa: E402
from microgrid.live import (  # noqa: E402
    Explorer,
    Playground,
    Stepper,
    _base,
)


def trainers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == 'microgrid-playground' and t.is_alive()]


def wait_for(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def playing(**kw) -> Playground:
    p = Playground('moons', n_points=60, hidden=[4], fps=20, **kw)
    p.play()
    assert wait_for(lambda: p.steps > 2)
    return p


def test_a_new_playground_pauses_the_one_training():
    old = playing()
    new = Playground('xor', n_points=60, hidden=[4])
    assert not old.running and old._thread is not None and not old._thread.is_alive()
    assert 'a new Playground was made' in old.notice
    steps = old.steps
    time.sleep(0.2)
    assert old.steps == steps  # it stays paused
    new.close()
    old.close()


def test_one_playground_trains_per_kernel():
    a = Playground('moons', n_points=60, hidden=[4])
    b = Playground('moons', n_points=60, hidden=[4])
    a.play()
    assert wait_for(lambda: a.steps > 0)
    b.play()
    assert wait_for(lambda: not a.running) and b.running
    assert 'another Playground started playing' in a.notice
    assert len(trainers()) == 1
    b.close()
    a.close()
    assert trainers() == []


def test_close_stops_the_thread():
    p = playing()
    thread = p._thread
    p.close()
    assert not p.running and not thread.is_alive()


def test_the_last_view_saying_goodbye_pauses_it():
    p = playing()
    p._heartbeat(p, {'event': 'ping', 'view': 'a'}, [])
    p._heartbeat(p, {'event': 'ping', 'view': 'b'}, [])
    assert p.views == 2 and p.seen
    p._heartbeat(p, {'event': 'bye', 'view': 'a'}, [])
    assert p.running  # one view is still open
    p._heartbeat(p, {'event': 'bye', 'view': 'b'}, [])
    assert not p.running and p.views == 0
    assert p.notice == 'paused: its last view was closed'
    assert not p._thread.is_alive()
    p.close()


def test_views_that_stop_pinging_pause_it(monkeypatch):
    monkeypatch.setattr(_base, 'VIEW_TIMEOUT', 0.3)
    p = Playground('moons', n_points=60, hidden=[4], fps=20)
    p._heartbeat(p, {'event': 'ping', 'view': 'tab'}, [])  # then the tab is closed
    p.play()
    assert wait_for(lambda: not p.running, 5.0)
    assert p.notice.startswith('paused: no view answered for 5 s')
    assert wait_for(lambda: not p._thread.is_alive())
    p.close()


def test_without_any_view_ever_python_can_still_play():
    p = playing()  # a script or a test: no browser at all
    time.sleep(0.3)
    assert p.running and not p.seen
    p.close()


def test_a_sigint_stops_training_and_still_interrupts(monkeypatch):
    p = playing()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1.0)
    assert wait_for(lambda: not p.running)
    assert p.notice == 'paused by a kernel interrupt'
    assert not p._thread.is_alive()
    p.close()


def test_the_heartbeat_answers_each_ping(monkeypatch):
    a = Value(2.0, 'a')
    for w in (Stepper(a * a), Explorer(lambda a: a, a=1.0)):
        sent = []
        monkeypatch.setattr(w, 'send', lambda content, buffers=None: sent.append(content))
        w._heartbeat(w, {'event': 'ping', 'view': 'v'}, [])
        assert sent == [{'event': 'pong'}] and w.views == 1


def test_a_saved_notebook_says_to_run_the_cell_again():
    data = Explorer(lambda a: a, a=1.0)._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert 'application/vnd.jupyter.widget-view+json' in data
    assert 'Run this cell again' in data['text/html']
    assert 'run this cell again' in data['text/plain']


KERNEL_CODE = textwrap.dedent(
    """
    import time, threading
    from microgrid.live import Playground
    pg = Playground('moons', n_points=60, hidden=[4], fps=20)
    pg.play()
    time.sleep(0.5)
    """
)


@pytest.mark.slow
def test_a_real_kernel_interrupt_stops_training_idle_and_busy():
    jupyter_client = pytest.importorskip('jupyter_client')
    km = jupyter_client.KernelManager(kernel_name='python3')
    env = {**os.environ, 'PYTHONPATH': str(_base.HERE.parents[1])}
    km.start_kernel(env=env)
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)

        def run(code: str) -> str:
            out = []
            msg_id = kc.execute(code)
            while True:
                msg = kc.get_iopub_msg(timeout=30)
                if msg['parent_header'].get('msg_id') != msg_id:
                    continue
                if msg['msg_type'] == 'stream':
                    out.append(msg['content']['text'])
                if msg['msg_type'] == 'error':
                    out.append(msg['content']['ename'])
                if msg['msg_type'] == 'status' and msg['content']['execution_state'] == 'idle':
                    return ''.join(out)

        run(f'import sys; sys.path.insert(0, {str(_base.HERE.parents[1])!r})')
        run(KERNEL_CODE)
        assert run('print(pg.running, pg.steps > 0)').strip() == 'True True'
        km.interrupt_kernel()  # the kernel is idle: the cell ran, the thread trains
        time.sleep(1.0)
        state = 'print(pg.running, repr(pg.notice), pg._thread.is_alive())'
        assert run(state).strip() == "False 'paused by a kernel interrupt' False"
        run('pg.play(); time.sleep(0.3)')
        msg_id = kc.execute('time.sleep(20)')  # busy: a cell runs while it trains
        time.sleep(1.0)
        km.interrupt_kernel()
        while True:
            msg = kc.get_iopub_msg(timeout=30)
            if msg['parent_header'].get('msg_id') == msg_id and msg['msg_type'] == 'error':
                assert msg['content']['ename'] == 'KeyboardInterrupt'
            mine = msg['parent_header'].get('msg_id') == msg_id
            if mine and msg['msg_type'] == 'status' and msg['content']['execution_state'] == 'idle':
                break
        assert run(state).strip() == "False 'paused by a kernel interrupt' False"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == '__main__':  # pragma: no cover
    sys.exit(pytest.main([__file__, '-q']))
