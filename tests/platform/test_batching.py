"""trackrev/common/batching.py: what request threads hand over while a batch is being handled arrives
together in the next batch; a failing batch does not stop the thread; a forked child gets its own."""

import os
import select
import threading

from trackrev.common.batching import ProcessBatcher


def test_items_that_arrive_during_a_batch_form_the_next_one():
    batches, first_started, release, all_done = [], threading.Event(), threading.Event(), threading.Event()

    def handle(batch):
        batches.append(batch)
        if len(batches) == 1:
            first_started.set()
            release.wait(timeout=5)
        if sum(map(len, batches)) == 4:
            all_done.set()

    batcher = ProcessBatcher(handle, name="test-batcher")
    batcher.submit(1)
    assert first_started.wait(timeout=5)
    for item in (2, 3, 4):
        batcher.submit(item)
    release.set()

    assert all_done.wait(timeout=5)
    assert batches == [[1], [2, 3, 4]]


def test_a_failing_batch_does_not_stop_the_thread():
    handled, failing, done = [], threading.Event(), threading.Event()

    def handle(batch):
        if batch == ["boom"]:
            failing.set()
            raise RuntimeError("boom")
        handled.extend(batch)
        done.set()

    batcher = ProcessBatcher(handle, name="test-batcher")
    batcher.submit("boom")
    assert failing.wait(timeout=5)
    batcher.submit("ok")
    assert done.wait(timeout=5)
    assert handled == ["ok"]


def test_a_forked_child_hands_items_to_its_own_thread():
    read_end, write_end = os.pipe()
    batcher = ProcessBatcher(lambda batch: os.write(write_end, f"{os.getpid()}:{batch}".encode()), name="test-fork")
    batcher.submit("parent")
    assert select.select([read_end], [], [], 5)[0]
    assert os.read(read_end, 100) == f"{os.getpid()}:['parent']".encode()

    child = os.fork()
    if child == 0:  # the child: the parent's thread did not survive the fork
        try:
            batcher.submit("child")
            threading.Event().wait(5)
        finally:
            os._exit(0)
    try:
        assert select.select([read_end], [], [], 5)[0], "the child's item was never handled"
        assert os.read(read_end, 100) == f"{child}:['child']".encode()
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
        os.close(read_end)
        os.close(write_end)


def test_drain_waits_for_everything_submitted_to_be_handled():
    handled, release = [], threading.Event()

    def handle(batch):
        release.wait(timeout=5)
        handled.extend(batch)

    batcher = ProcessBatcher(handle, name="test-drain")
    batcher.submit(1, linger=0.01)
    batcher.submit(2, linger=0.01)
    assert not batcher.drain(timeout=0.05)  # still being handled
    release.set()
    assert batcher.drain(timeout=5)
    assert handled == [1, 2]
