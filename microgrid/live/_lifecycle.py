"""The Playground never trains unseen: one trains per kernel, and a kernel interrupt stops it.

``register(pg)`` keeps a weak list of the kernel's Playgrounds; ``pause_others(pg)``
pauses every other one (a new Playground, or one that starts playing). ``catch_interrupts()``
puts a SIGINT handler in front of the current one: it asks every training thread to stop,
then does what the handler before it did (raise KeyboardInterrupt, or nothing when the
kernel is idle and ignores SIGINT). In ipykernel, which swaps the handler around each
message it handles, the handler is kept in front on both sides of the swap.
"""

from __future__ import annotations

import signal
import threading
import weakref
from typing import Any

__all__ = ['catch_interrupts', 'pause_others', 'register']

_ALL: weakref.WeakSet[Any] = weakref.WeakSet()


def register(widget: Any) -> None:
    """Remember a Playground (weakly), so the others can be paused when it plays."""
    _ALL.add(widget)


def pause_others(widget: Any, reason: str) -> None:
    """Pause every Playground of this kernel but ``widget``; one trains at a time."""
    for other in list(_ALL):
        if other is not widget and other.running:
            other.pause(reason=reason)


class _Chain:
    """A SIGINT handler: stop every training thread, then run the handler it replaced."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, signum: int, frame: Any) -> Any:
        for widget in list(_ALL):
            widget._interrupted()  # only sets an event: safe inside a signal handler
        previous = self.previous
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:
            raise KeyboardInterrupt
        return None  # SIG_IGN: an idle kernel ignores the interrupt; training still stops


def _in_front(handler: Any) -> Any:
    return handler if isinstance(handler, _Chain) else _Chain(handler)


def catch_interrupts() -> bool:
    """Put the stopping handler in front of SIGINT's (main thread only); True if it is."""
    if threading.current_thread() is not threading.main_thread():
        return isinstance(signal.getsignal(signal.SIGINT), _Chain)
    signal.signal(signal.SIGINT, _in_front(signal.getsignal(signal.SIGINT)))
    kernel = _kernel()
    if kernel is not None and not getattr(kernel, '_microgrid_interrupts', False):
        if hasattr(kernel, 'saved_sigint_handler'):  # restored when this message is done
            kernel.saved_sigint_handler = _in_front(kernel.saved_sigint_handler)
        before = kernel.pre_handler_hook

        def pre_handler_hook() -> None:
            before()  # installs default_int_handler while a cell or message runs
            signal.signal(signal.SIGINT, _in_front(signal.getsignal(signal.SIGINT)))

        kernel.pre_handler_hook = pre_handler_hook
        kernel._microgrid_interrupts = True
    return True


def _kernel() -> Any:
    """The running ipykernel, if there is one."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets brings IPython
        return None
    shell = get_ipython()
    kernel = getattr(shell, 'kernel', None)
    return kernel if hasattr(kernel, 'pre_handler_hook') else None
