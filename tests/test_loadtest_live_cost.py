"""The live metrics' per-request path: HDR counts by inline arithmetic, identical to hdrh's own.

bench_loadtest.py measures the cost (CPU per request with the live status and endpoint on and off, and the
snapshots' own CPU counted in the process); these tests pin that the cheap path records exactly what hdrh's
``record_value`` records.
"""

from __future__ import annotations

import numpy as np

from motcua.loadtest.live import LiveSnapshot, LiveWatch
from motcua.loadtest.percentiles import HDR_HIGHEST_US, HdrSet, fast_recorder, hdr_summary, new_histogram


def test_fast_recorder_counts_exactly_as_hdrh_records():
    rng = np.random.default_rng(5)
    values_ms = [*rng.lognormal(3, 2, 20_000).tolist(), 0.0, 0.0004, 0.001, 0.0015, 1.0, 2047.999, 2048.0,
                 HDR_HIGHEST_US / 1000, HDR_HIGHEST_US / 100, 10**9]
    slow, fast = new_histogram(), new_histogram()
    record = fast_recorder(fast)
    for ms in values_ms:
        slow.record_value(min(HDR_HIGHEST_US, max(1, round(ms * 1000))))
        record(ms)
    assert list(fast.counts) == list(slow.counts)
    assert (fast.total_count, fast.min_value, fast.max_value) == (slow.total_count, slow.min_value, slow.max_value)
    assert hdr_summary(fast) == hdr_summary(slow)


def test_record_request_fills_the_histogram_named_by_type_and_route_and_survives_a_reset():
    hdrs = HdrSet()
    for ms in (1.0, 2.0, 3.0):
        hdrs.record_request("GET", "/dossiers/[code]", ms)
    hdrs.record("GET /dossiers/[code]", 4.0)
    assert hdrs.summary()["GET /dossiers/[code]"]["count"] == 4
    encoded = hdrs.encode()
    hdrs.reset()
    hdrs.record_request("GET", "/dossiers/[code]", 5.0)  # a fresh histogram after the worker's report
    assert hdrs.summary()["GET /dossiers/[code]"]["count"] == 1
    hdrs.merge_encoded(encoded)
    assert hdrs.summary()["GET /dossiers/[code]"]["count"] == 5


def test_the_live_watch_writes_the_last_snapshot_and_counts_what_watching_cost(tmp_path):
    snap = LiveSnapshot(elapsed_s=60.0, duration_s=60, arrivals_started=10, arrivals_dropped=0, http_requests=30,
                        http_failures=0, requests_per_s=0.5, journeys_finished=10, journeys_failed=0, callbacks=8,
                        callback_ms={"0.95": 800.0}, lost_callbacks=0, late_callbacks=0, finished=True)
    watch = LiveWatch(lambda: snap)
    watch.spent(0.25)
    watch.spent(0.5)
    assert watch.cpu_s == 0.75
    watch.stop(tmp_path)  # never started: no timer to stop, the run's last snapshot is still written
    assert LiveSnapshot.read(tmp_path) == snap
    watch.stop(None)  # --motcua-live 0: nothing written
