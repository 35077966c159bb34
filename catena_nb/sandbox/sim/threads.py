"""The daemon threads of the worker and the webhook sender: started once, stopped once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


class ThreadGroup:
    """Threads that start together and stop together; ``start`` and ``stop`` are idempotent and thread-safe.

    Args:
        targets: ``(name, loop)`` per thread.
    """

    def __init__(self, targets: Sequence[tuple[str, Callable[[], None]]]) -> None:
        self._targets = targets
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.started = False
        self.stopping = False  # the loops return once they see it (and are woken)

    def start(self) -> None:
        """Start every thread, unless they were started before."""
        with self._lock:
            if self.started:
                return
            self.started = True
        self._threads = [
            threading.Thread(target=loop, name=name, daemon=True) for name, loop in self._targets
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, wake: Callable[[], None], timeout: float) -> bool:
        """Set ``stopping``, call ``wake`` so that the loops see it, and join them.

        Returns:
            False if the threads never started or were stopped before (``wake`` is not called then).
        """
        with self._lock:
            if not self.started or self.stopping:
                return False
            self.stopping = True
        wake()
        for thread in self._threads:
            thread.join(timeout)
        return True
