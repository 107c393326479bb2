"""Percentiles and the thread-safe recorder of the traffic driver."""

from __future__ import annotations

import threading

from example_project.lifecycle.stats import Recorder, percentile


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_percentile_ignores_input_order() -> None:
    assert percentile([9.0, 1.0, 5.0], 0.5) == 5.0


def test_recorder_counts_per_release_from_many_threads() -> None:
    recorder = Recorder([1, 2])
    start = threading.Barrier(4)

    def work(release: int) -> None:
        start.wait()
        for i in range(500):
            recorder.ok(release, float(i))

    threads = [threading.Thread(target=work, args=(r,)) for r in (1, 2, 1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = recorder.result(1.0)
    assert [r.requests for r in result.per_release] == [1000, 1000]
    assert result.errors == 0


def test_recorder_separates_failures_from_mismatches_and_keeps_a_few_messages() -> None:
    recorder = Recorder([3])
    recorder.ok(3, 1.0)
    recorder.failed(3, 2.0, "HTTP 500", mismatch=False)
    for n in range(10):
        recorder.failed(3, 3.0, f"stale {n}", mismatch=True)
    result = recorder.result(1.0)
    (only,) = result.per_release
    assert (only.requests, only.failed, only.mismatched, only.errors) == (12, 1, 10, 11)
    assert result.sample_errors[0] == "HTTP 500"
    assert len(result.sample_errors) == 5
