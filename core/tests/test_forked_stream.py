"""core.bulk.forked_stream and parts: the import's work spread over forked processes."""

import os
import threading

import pytest

from core import bulk


def test_with_other_threads_running_everything_runs_here():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert {pid for pid in bulk.forked_stream(lambda item: os.getpid(), [0, 1, 2])} == {os.getpid()}
    finally:
        stop.set()
        thread.join()


def test_stream_yields_in_order_from_the_children_while_the_caller_works():
    def where(item):
        return item * 10, os.getpid()

    seen = []
    for value, pid in bulk.forked_stream(where, list(range(6))):
        seen.append((value, pid))
    assert [value for value, _pid in seen] == [0, 10, 20, 30, 40, 50]
    pids = [pid for _value, pid in seen]
    assert os.getpid() not in pids
    workers = min(os.cpu_count(), 6)
    assert len(set(pids)) == workers and pids[:workers] == pids[workers:2 * workers]  # child k: items k, k+n…
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_stream_raises_a_childs_error_after_the_results_before_it():
    def fail_on_three(item):
        if item == 3:
            raise KeyError("row 3")
        return item

    got = []
    with pytest.raises(RuntimeError, match="KeyError"):
        for value in bulk.forked_stream(fail_on_three, [0, 1, 2, 3, 4]):
            got.append(value)
    assert got == [0, 1, 2]
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_stream_left_early_leaves_no_child():
    stream = bulk.forked_stream(lambda item: item, list(range(50)))
    assert next(stream) == 0
    stream.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_parts_of_a_size():
    assert bulk.parts(0, size=10) == [range(0)]
    assert bulk.parts(bulk.PARALLEL_MIN_ITEMS - 1, size=10) == [range(bulk.PARALLEL_MIN_ITEMS - 1)]
    cut = bulk.parts(25_000, size=10_000)
    assert [len(p) for p in cut] == [10_000, 10_000, 5_000] and [n for p in cut for n in p] == list(range(25_000))
