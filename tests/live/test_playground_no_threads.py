"""The Playground where there are no threads (Pyodide, the course in a browser): it trains
as a task of the event loop, which gives the rest of the loop (the browser) its turn
between steps, and it stops and restarts as the thread does.

Pyodide's numpy comes from its CDN, which the offline browser test cannot reach, so the
task is tested here, in CPython, with threads switched off (``_pg_thread.THREADS``).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

live = pytest.importorskip('microgrid.live', reason='anywidget is in the dev extra')
from microgrid.live import Playground, _pg_thread  # noqa: E402


def weights(p: Playground) -> list[float]:
    return [v.data for v in p.model.parameters()]


async def until(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


def test_without_threads_it_trains_as_a_task_and_stops_and_restarts(monkeypatch) -> None:
    monkeypatch.setattr(_pg_thread, 'THREADS', False)

    async def scenario() -> None:
        p = Playground('moons', n_points=60, hidden=[4], fps=20, seed=3)
        frame = p.frame
        p.play()
        assert p._thread is None and p._task is not None
        assert not [t for t in threading.enumerate() if t.name == 'microgrid-playground']
        turns = 0  # what else the loop runs while it trains: the browser, in Pyodide

        async def other() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        beside = asyncio.get_running_loop().create_task(other())
        assert await until(lambda: p.steps > 5 and p.frame > frame)
        assert turns > p.steps // 2  # the loop was not held while it trained
        p.pause()
        assert not p.running
        assert await until(p._task.done, 1.0)
        steps = p.steps
        await asyncio.sleep(0.1)
        assert p.steps == steps  # paused stays paused

        # the same steps as step(n) on a fresh Playground with the same seed
        fresh = Playground('moons', n_points=60, hidden=[4], fps=20, seed=3)
        fresh.step(steps)
        assert weights(fresh) == weights(p)
        fresh.close()

        # play again at once: the stopping task is replaced, and training goes on
        p.play()
        p.pause()
        p.play()
        assert await until(lambda: p.steps > steps + 3)
        first = p._task
        p.close()
        assert not p.running
        assert await until(first.done, 1.0)
        beside.cancel()

    asyncio.run(scenario())


def test_without_threads_an_error_in_training_is_shown_in_the_widget(monkeypatch) -> None:
    monkeypatch.setattr(_pg_thread, 'THREADS', False)

    async def scenario() -> None:
        p = Playground('moons', n_points=60, hidden=[4], fps=20)

        def broken() -> float:
            raise ZeroDivisionError('a test')

        p._train_step = broken
        p.play()
        assert await until(lambda: not p.running)
        assert p.error == 'training stopped: ZeroDivisionError: a test'
        p.close()

    asyncio.run(scenario())
