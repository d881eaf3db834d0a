"""Verdicts on a machine so loaded that the OS keeps the loop thread waiting for a CPU."""
from __future__ import annotations

from detector.runtime.events import BLOCKING, CPU, STARVED
from detector.runtime.sampling import Sample
from detector.runtime.verdict import decide


def _in_callback(count: int):
    code = _in_callback.__code__
    return [Sample(((code, 0),), 1, (None, code, 1), "Task-1") for _ in range(count)]


def test_a_working_loop_thread_that_the_machine_gives_little_cpu_is_cpu_bound():
    # Runnable throughout, 4 % of the time on a CPU, in runs of 3 ms: working, however
    # little CPU a loaded machine gave it.
    verdict, _ = decide(_in_callback(8), cpu=0.04, runnable=0.95, duration=0.4, threshold=0.1,
                        run_length=0.003)
    assert verdict == CPU


def test_a_loop_thread_that_only_wakes_up_to_ask_for_the_gil_is_not_working():
    # Runnable (queued) most of the time, but on a CPU for microseconds at a time.
    verdict, _ = decide(_in_callback(8), cpu=0.002, runnable=0.95, duration=0.4, threshold=0.1,
                        run_length=0.00002)
    assert verdict in (BLOCKING, STARVED)
    verdict, _ = decide(_in_callback(8), cpu=0.04, runnable=0.95, duration=0.4, threshold=0.1,
                        run_length=0.00002)
    assert verdict in (BLOCKING, STARVED)
