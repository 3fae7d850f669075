"""Percentiles that are not rounded into buckets.

Locust rounds response times into buckets (10 ms steps between 100 ms and 1 s, 100 ms steps up to
10 s) before it takes percentiles. An SLO such as "callback p95 ≤ 1,500 ms" needs better, so the
harness keeps, beside Locust's statistics:

- exact samples for callbacks and whole journeys (one float per payment: affordable), percentiles by
  nearest rank — the workbench's one percentile rule, `motcua.safety.nearest_rank` (why: see there);
- HDR histograms (3 significant digits, 1 µs to 1 h) for HTTP requests, which can number millions;
  they are merged across Locust workers by their compressed encoding. A request is recorded on the hot path
  of every Locust process, so `HdrSet.record_request` finds its histogram by two dictionary lookups (no key
  string built) and counts the value with `fast_recorder`'s inline bucket arithmetic: one Python call instead
  of hdrh's six (≈1 µs instead of ≈5 µs), the same counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from hdrh.histogram import HdrHistogram

from motcua.safety import nearest_rank

HDR_LOWEST_US = 1
HDR_HIGHEST_US = 3_600_000_000  # one hour
HDR_DIGITS = 3
QUANTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def exact_summary(values: Iterable[float], quantiles: Sequence[float] = QUANTILES) -> dict[str, float | int]:
    """count, mean, max and the percentiles of `values` (milliseconds), exactly."""
    data = sorted(values)
    out: dict[str, float | int] = {"count": len(data)}
    if not data:
        return out
    out["mean"] = sum(data) / len(data)
    for q in quantiles:
        out[_key(q)] = nearest_rank(data, q)
    out["max"] = data[-1]
    return out


def _key(q: float) -> str:
    return f"p{q:g}".replace(".", "_")


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HDR_LOWEST_US, HDR_HIGHEST_US, HDR_DIGITS)


def fast_recorder(hist: HdrHistogram) -> Callable[[float], None]:
    """Record milliseconds into `hist` as ``hist.record_value`` would (clamped to 1 µs … 1 h), in one call.

    hdrh finds a value's slot through five method calls (its ``_clz`` formats the value with ``bin``); the
    slot is ``((bucket + 1) << half_magnitude) + (us >> (bucket + unit_magnitude)) − half_count`` with
    ``bucket = (us | sub_bucket_mask).bit_length() − unit_magnitude − half_magnitude − 1``
    (tests/test_loadtest_live_cost.py checks it against ``record_value``).
    """
    counts = hist.counts
    unit = hist.unit_magnitude
    mask = hist.sub_bucket_mask
    half_magnitude = hist.sub_bucket_half_count_magnitude
    half_count = hist.sub_bucket_half_count
    offset = unit + half_magnitude + 1

    def record(ms: float) -> None:
        us = round(ms * 1000)
        if us < HDR_LOWEST_US:
            us = HDR_LOWEST_US
        elif us > HDR_HIGHEST_US:
            us = HDR_HIGHEST_US
        bucket = (us | mask).bit_length() - offset
        counts[((bucket + 1) << half_magnitude) + (us >> (bucket + unit)) - half_count] += 1
        hist.total_count += 1
        if us < hist.min_value:
            hist.min_value = us
        if us > hist.max_value:
            hist.max_value = us

    return record


class HdrSet:
    """HDR histograms by name (milliseconds in, microseconds inside)."""

    def __init__(self) -> None:
        self.histograms: dict[str, HdrHistogram] = {}
        self._recorders: dict[str, dict[str, Callable[[float], None]]] = {}  # request type → name → recorder

    def _histogram(self, name: str) -> HdrHistogram:
        hist = self.histograms.get(name)
        if hist is None:
            hist = self.histograms[name] = new_histogram()
        return hist

    def record(self, name: str, ms: float) -> None:
        self._histogram(name).record_value(min(HDR_HIGHEST_US, max(HDR_LOWEST_US, round(ms * 1000))))

    def record_request(self, request_type: str, name: str, ms: float) -> None:
        """One HTTP sample into the histogram ``"<request_type> <name>"`` (the harness's per-request path)."""
        by_name = self._recorders.get(request_type)
        if by_name is None:
            by_name = self._recorders[request_type] = {}
        record = by_name.get(name)
        if record is None:
            record = by_name[name] = fast_recorder(self._histogram(f"{request_type} {name}"))
        record(ms)

    def encode(self) -> dict[str, str]:
        """Compressed, base64 histograms (what a worker sends its master)."""
        return {name: hist.encode().decode("ascii") for name, hist in self.histograms.items()}

    def merge_encoded(self, encoded: Mapping[str, str]) -> None:
        for name, text in encoded.items():
            other = HdrHistogram.decode(text.encode("ascii"))
            hist = self.histograms.get(name)
            if hist is None:
                hist = self.histograms[name] = new_histogram()
            hist.add(other)

    def reset(self) -> None:
        self.histograms.clear()
        self._recorders.clear()

    def summary(self, quantiles: Sequence[float] = QUANTILES) -> dict[str, dict[str, float | int]]:
        return {name: hdr_summary(hist, quantiles) for name, hist in sorted(self.histograms.items())}


def hdr_summary(hist: HdrHistogram, quantiles: Sequence[float] = QUANTILES) -> dict[str, float | int]:
    """count, mean, max and percentiles (milliseconds) of an HDR histogram."""
    count = hist.get_total_count()
    out: dict[str, float | int] = {"count": count}
    if not count:
        return out
    out["mean"] = hist.get_mean_value() / 1000
    for q in quantiles:
        out[_key(q)] = hdr_nearest_rank(hist, q) / 1000
    out["max"] = hist.get_max_value() / 1000
    return out


def hdr_nearest_rank(hist: HdrHistogram, q: float) -> int:
    """The q-th percentile of an HDR histogram by the same nearest-rank rule as `motcua.safety.nearest_rank`.

    (hdrh's own ``get_value_at_percentile`` rounds the rank half up, so for 60 samples its p99 is the 59th
    value, not the 60th: HTTP and callback percentiles in one summary must not use two definitions.)
    """
    target = max(1, math.ceil(q / 100.0 * hist.get_total_count()))
    seen = 0
    for item in hist.get_recorded_iterator():
        seen += item.count_at_value_iterated_to
        if seen >= target:
            return hist.get_highest_equivalent_value(item.value_iterated_to)
    return hist.get_max_value()
