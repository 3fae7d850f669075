"""The harness's own rows (JOURNEY, CALLBACK, ARRIVAL) in Locust's statistics, kept out of its "Aggregated" row.

The harness keeps every journey and callback exactly (``harness.json``); Locust's table, CSV and web page
show a ``JOURNEY``, ``CALLBACK`` and ``ARRIVAL`` row each too. They are not HTTP requests: a journey is
several requests, a callback none of this process's, so they stay out of Locust's total (its
"Aggregated" row, its req/s and failure charts), which then counts the HTTP requests alone, as Locust
users read it. `log_outside_total` logs one sample into its own entry and Locust's error table only
(what `RequestStats.log_request`/`log_error` do, without the total); no ``request`` event is fired.

Journeys come in batches: logging each on the generator's hot path costs about as much as the engine's
own work per arrival. `JourneyBatch` collects ``(name, finished_at, ms, error)`` and, once per interval,
merges each name's batch into Locust's entry with `StatsEntry.extend` (what a Locust master does with its
workers' reports). Nothing is rounded differently: the response times go through Locust's own
`bucket_response_time`, and requests and failures are counted in the second each journey *finished*, as
Locust would have counted them. The row lags by at most one interval.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from locust import stats as locust_stats
from locust.stats import StatsEntry, StatsError

FLUSH_S = 1.0


class JourneyBatch:
    """Finished journeys not yet in Locust's statistics (of one request type, e.g. ``JOURNEY``)."""

    def __init__(self, request_type: str) -> None:
        self.request_type = request_type
        self.pending: list[tuple[str, float, float, Exception | None]] = []

    def add(self, name: str, finished_at: float, ms: float, error: Exception | None) -> None:
        self.pending.append((name, finished_at, ms, error))

    def flush(self, stats: Any) -> int:
        """Merge the pending journeys into ``stats`` (Locust's `RequestStats`); how many were merged."""
        pending, self.pending = self.pending, []
        by_name: dict[str, list[tuple[str, float, float, Exception | None]]] = {}
        for row in pending:
            by_name.setdefault(row[0], []).append(row)
        for name, rows in by_name.items():
            batch = self._entry(stats, name, rows)
            stats.entries[(name, self.request_type)].extend(batch)  # not stats.total: see the module docstring
        return len(pending)

    def _entry(self, stats: Any, name: str, rows: list[tuple[str, float, float, Exception | None]]) -> StatsEntry:
        batch = StatsEntry(stats, name, self.request_type)
        finished = [row[1] for row in rows]
        latencies: list[Any] = [row[2] for row in rows]  # float ms, as Locust's request event passes them
        batch.start_time = min(finished)
        batch.last_request_timestamp = max(finished)
        batch.num_requests = len(rows)
        batch.total_response_time = sum(latencies)
        batch.min_response_time = min(latencies)
        batch.max_response_time = max(latencies)
        # looked up at each flush, so a run that replaces Locust's bucketing (its documented hook) is honoured
        batch.response_times.update(Counter(map(locust_stats.bucket_response_time, latencies)))
        batch.num_reqs_per_sec.update(Counter(int(t) for t in finished))
        for _name, finished_at, _ms, error in rows:
            if error is not None:
                batch.num_failures += 1
                batch.num_fail_per_sec[int(finished_at)] += 1
                log_error_row(stats, self.request_type, name, error)
        return batch


def log_outside_total(stats: Any, request_type: str, name: str, ms: float, error: Exception | None) -> None:
    """One harness sample into its own row of Locust's statistics (`RequestStats`), not into "Aggregated"."""
    entry = stats.entries[(name, request_type)]
    entry.log(ms, 0)
    if error is not None:
        entry.log_error(error)
        log_error_row(stats, request_type, name, error)


def log_error_row(stats: Any, request_type: str, name: str, error: Exception) -> None:
    """The failure in Locust's error table, as `RequestStats.log_error` would record it."""
    key = StatsError.create_key(request_type, name, error)
    entry = stats.errors.get(key)
    if entry is None:
        entry = stats.errors[key] = StatsError(request_type, name, error)
    entry.occurred()
