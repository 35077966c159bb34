"""The thread group of the worker and the webhook sender: started once, stopped once, joined."""

from __future__ import annotations

import functools
import threading

from catena_nb.sandbox.sim.threads import ThreadGroup


def test_threads_start_once_and_stop_once():
    """A second start starts nothing; stop wakes the loops once and joins them; a second stop does nothing."""
    stop = threading.Event()
    runs: list[str] = []
    lock = threading.Lock()

    def loop(name: str) -> None:
        with lock:
            runs.append(name)
        stop.wait(10)

    group = ThreadGroup([(f"t{i}", functools.partial(loop, f"t{i}")) for i in range(3)])
    group.start()
    group.start()
    wakes: list[int] = []

    def wake() -> None:
        wakes.append(1)
        stop.set()

    assert group.stop(wake, timeout=10)
    assert not group.stop(wake, timeout=10)
    assert sorted(runs) == ["t0", "t1", "t2"]
    assert wakes == [1]
    assert group.stopping


def test_stop_before_start_wakes_nothing():
    """Stopping a group that never started returns False without calling wake."""
    group = ThreadGroup([("never", lambda: None)])
    woken: list[int] = []
    assert not group.stop(lambda: woken.append(1), timeout=1)
    assert woken == []
    assert not group.started
