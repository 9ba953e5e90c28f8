"""Signals during a tuning run: SIGINT (Ctrl-C), SIGTERM (``kill``, ``timeout``) and SIGHUP (a closed terminal
or SSH session) all become an :class:`Interrupted` exception, so the run's cleanup in ``finally`` undoes what
it created. While the cleanup runs, further signals are recorded, not raised, and at most one signal ever
raises per :class:`Guard`; a cleanup cut short by that one signal runs again from the caller's ``finally``.
Signals that were ignored when the run started (``nohup`` ignores SIGHUP, a background job SIGINT) stay
ignored. Only the main thread can set handlers: elsewhere the guard does nothing and says so.
"""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """A tuning run stopped by a signal; ``exit_code`` is the shell's ``128 + signal number``."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        self.name = signal.Signals(self.signum).name
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {self.name}")


class Guard:
    """While armed, the first SIGINT/SIGTERM/SIGHUP raises :class:`Interrupted` in the main thread; later
    ones, and any that arrive inside :meth:`deferred`, are appended to :attr:`received`."""

    def __init__(self) -> None:
        self.previous: dict[int, object] = {}
        self.received: list[int] = []
        self.fired = False
        self.deferring = 0
        self.armed = False

    def _handler(self, signum, frame) -> None:
        self.received.append(signum)
        if self.fired or self.deferring:
            return
        self.fired = True
        raise Interrupted(signum)

    def arm(self) -> bool:
        """Install the handlers; False when they cannot be (not the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for s in SIGNALS:
            current = signal.getsignal(s)
            if current is signal.SIG_IGN:
                continue
            self.previous[s] = current
            signal.signal(s, self._handler)
        self.armed = True
        return True

    def disarm(self) -> None:
        while self.previous:
            s, h = self.previous.popitem()
            signal.signal(s, h)
        self.armed = False

    @contextlib.contextmanager
    def deferred(self):
        """Record signals instead of raising them (for cleanup)."""
        self.deferring += 1
        try:
            yield
        finally:
            self.deferring -= 1

    def pending_interrupt(self) -> Interrupted | None:
        """The first signal received that has not raised yet (it arrived while deferring), if any."""
        if self.received and not self.fired:
            self.fired = True
            return Interrupted(self.received[0])
        return None
