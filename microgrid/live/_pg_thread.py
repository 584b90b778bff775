"""The Playground's background training: train, publish a frame ``fps`` times a second,
and stop when asked, or by itself when no view is left or the kernel is interrupted.

It runs in a thread, so the kernel stays free for other cells. A kernel with no threads
(Pyodide, in JupyterLite: ``threading`` cannot start one there) runs the same loop as a
task of its event loop, which hands the browser its turn between steps.

A mixin for Playground (which gives the traits, the model, ``_train_step`` and
``_publish``); kept apart so that each file does one job.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from microgrid.live._lifecycle import catch_interrupts, pause_others

__all__ = ['NO_VIEW', 'THREADS', 'BackgroundTraining']

THREADS = sys.platform != 'emscripten'
"""Whether training gets a thread; False in Pyodide, where it is a task of the event loop."""

# views ping twice a second; none for VIEW_TIMEOUT means the tab was closed, or the kernel
# was too busy running a cell to hear them
NO_VIEW = (
    'paused: no view answered for 5 s (its tab was closed, or a long cell kept the kernel busy)'
)


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # called outside a coroutine: the loop the kernel runs on
        return asyncio.get_event_loop()


class BackgroundTraining:
    """Start, run and stop the training thread of a Playground."""

    _thread: threading.Thread | None = None
    _task: Any = None  # the asyncio task that trains where there are no threads

    def _interrupted(self: Any) -> None:
        """A kernel interrupt (from a signal handler: only sets what the thread reads)."""
        if self.running:
            self._why_stopped = 'paused by a kernel interrupt'
            self._stop.set()

    def _views_changed(self: Any) -> None:
        if self.running and self.views == 0:
            self.pause(reason='paused: its last view was closed')

    def _start(self: Any) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self._task is not None and not self._task.done():
            if not self._stop.is_set():
                return
            self._task.cancel()  # asked to stop but not yet at its next turn: replace it
        pause_others(self, 'paused: another Playground started playing (one trains at a time)')
        catch_interrupts()
        self._why_stopped = ''
        if self.notice:
            self.notice = ''
        self._stop.clear()
        if THREADS:
            self._thread = threading.Thread(
                target=self._loop, name='microgrid-playground', daemon=True
            )
            self._thread.start()
        else:
            self._task = _event_loop().create_task(self._loop_async())

    def _halt(self: Any, timeout: float = 2.0) -> None:
        """Ask the training to stop; wait for a thread (a task stops at its next turn)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _waits(self: Any) -> Iterator[float]:
        """The training loop: before each step it yields how many seconds to wait (the
        ``speed`` setting), then trains and publishes a frame when one is due. It returns
        when a frame finds no view."""
        period = 1.0 / self.fps
        next_frame = time.perf_counter() + period
        next_step = time.perf_counter()
        while True:
            yield max(0.0, next_step - time.perf_counter()) if self.speed else 0.0
            next_step = max(next_step + 1.0 / self.speed, time.perf_counter()) if self.speed else 0
            self._train_step()
            now = time.perf_counter()
            if now >= next_frame:
                if self.seen and self.views == 0:
                    self._why_stopped = NO_VIEW
                    return
                self._publish(background=True)
                # a steady beat, which never tries to catch up on missed frames
                next_frame = max(next_frame + period, now)

    def _loop(self: Any) -> None:
        """The thread: the loop, waiting on the stop event."""
        try:
            for wait in self._waits():
                if self._stop.is_set() or (wait and self._stop.wait(wait)):
                    break
            self._stopped()
        except Exception as e:  # shown in the widget; the thread must not die silently
            self._failed(e)

    async def _loop_async(self: Any) -> None:
        """The task: the loop, sleeping on the event loop (the browser's turn)."""
        try:
            for wait in self._waits():
                await asyncio.sleep(wait)
                if self._stop.is_set():
                    break
            self._stopped()
        except Exception as e:  # shown in the widget, as from the thread
            self._failed(e)

    def _stopped(self: Any) -> None:
        """The last frame; and, stopped from inside (interrupt, no view), say why."""
        self._publish(background=True)
        if self.running and self._lock_to_send(background=False):
            try:
                self.notice = self._why_stopped or 'paused'
                self.running = False
            finally:
                self._sync_lock.release()

    def _failed(self: Any, e: Exception) -> None:
        if self._lock_to_send(background=True):
            try:
                self.error = f'training stopped: {type(e).__name__}: {e}'
                self.running = False
            finally:
                self._sync_lock.release()

    def _lock_to_send(self: Any, background: bool) -> bool:
        """Take the lock on messages; the training thread gives up once asked to stop.

        The main thread may hold it while it waits for the training thread to stop (a
        change from the browser that starts over), so the thread must not wait forever.
        """
        if not background:
            return self._sync_lock.acquire(timeout=1.0)
        while not self._sync_lock.acquire(timeout=0.05):
            if self._stop.is_set():
                return False
        return True
