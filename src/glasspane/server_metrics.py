"""glasspane's own metrics: ``GET /metrics`` (Prometheus) and ``GET /api/v1/status``.

Not to be confused with the metrics the SDKs send (``query/metrics``): these
describe the server itself. Recording is one call, cheap, from any thread:

- :func:`count_request` — an ingest answer, by endpoint and status class
  (``ingest.metering`` calls it for every ingest request);
- :func:`count_batch` — a batch accepted: its items by data category and its
  outcomes (dropped items) by reason. Counted where the batch is built, not in
  the store writer, so the work is spread over the ingest processes instead
  of landing on the one writer thread;
- :func:`observe_commit`, :func:`count_commit_failure`, :func:`set_queue_depth`
  — the store writer; :func:`count_stored` — the writer for a request's own
  batch, the journal feeder for the requests a round merged.

**Several processes.** When ingest runs in worker processes, each process
counts what it sees and the one serving ``/metrics`` adds them up: that is
prometheus-client's multiprocess mode, where each process keeps its values in
memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR``. The process that starts
the others calls :func:`prepare_multiprocess` first (the children inherit the
variable), and :func:`mark_process_dead` when one ends, so its gauges stop
counting while its counters stay in the totals (counters never go down).
Without the variable (one process; the in-process tests) values live in this
process's memory.

Reading: :func:`render` for ``/metrics``, :func:`totals` for the rates in
``server_status``. Two values are read when scraped rather than recorded, so
they cost nothing between scrapes: the journal's lag (from the source given to
:func:`register_lag_source`) and the store's size on disk (passed by the
caller, who knows the store).

This module imports nothing of glasspane but ``domain``: every layer may record.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from glasspane.domain import Batch

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Sentry's data categories that may appear as labels; any other (an item type
#: made up by a client) is counted as ``unknown``, so labels cannot multiply.
DATA_CATEGORIES = frozenset(
    {
        "error",
        "transaction",
        "span",
        "log_item",
        "trace_metric",
        "statsd",
        "session",
        "monitor",
        "profile",
        "profile_chunk",
        "attachment",
        "replay",
        "feedback",
        "user_report_v2",
        "internal",
        "envelope",
        "unknown",
    }
)

#: A lone DuckDB commit takes ~15 ms; a group of 2,000 envelopes, seconds.
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GROUP_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

#: Lag source: () -> (bytes, seconds) not yet fed into the store.
LagSource = Callable[[], tuple[float, float]]


class _Children:
    """A labelled metric's children, kept: ``labels()`` costs three increments.

    Label values are few (endpoints, status classes, known categories, reasons
    named in the code), so the dict stays small."""

    def __init__(self, metric: Counter) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Counter] = {}

    def __call__(self, *values: str) -> Counter:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


class _Metrics:
    """The recorded metrics; rebuilt when the process switches to multiprocess mode."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry
        self.requests = Counter(
            "glasspane_ingest_requests",
            "Ingest requests answered, by endpoint (envelope, store, otlp) and status class",
            ["endpoint", "status"],
            registry=r,
        )
        self.items = Counter(
            "glasspane_ingest_items",
            "Items accepted, by data category (span counts every span, segments included)",
            ["category"],
            registry=r,
        )
        self.outcomes = Counter(
            "glasspane_ingest_outcomes",
            "Items dropped (outcomes), by reason and data category",
            ["reason", "category"],
            registry=r,
        )
        self.stored = Counter(
            "glasspane_store_envelopes", "Envelopes (write batches) committed", registry=r
        )
        self.commit_seconds = Histogram(
            "glasspane_store_commit_seconds",
            "Time to write and commit one group",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.group_size = Histogram(
            "glasspane_store_commit_group_size",
            "Writes (envelopes and tasks) per commit",
            buckets=GROUP_BUCKETS,
            registry=r,
        )
        self.commit_failures = Counter(
            "glasspane_store_commit_failures",
            "Groups whose commit failed (their writes are retried one by one)",
            registry=r,
        )
        self.queue_depth = Gauge(
            "glasspane_store_queue_depth",
            "Writes waiting for the store writer",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.request = _Children(self.requests)
        self.item = _Children(self.items)
        self.outcome = _Children(self.outcomes)


def _single_process_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)  # this process's CPU and memory
    return registry


_registry: CollectorRegistry | None = None
_metrics: _Metrics
_lag_source: LagSource = lambda: (0.0, 0.0)  # noqa: E731 - no journal: nothing lags


def _build() -> None:
    """The metrics for the current mode: registered here, or only in the shared files."""
    global _registry, _metrics
    # ``*_created`` series double the text and no dashboard reads them (the
    # multiprocess mode has none anyway, so both modes answer alike).
    disable_created_metrics()
    folder = multiprocess_directory()
    if folder is not None:  # set from outside: the files go there from the first metric on
        folder.mkdir(parents=True, exist_ok=True)
    _registry = None if folder else _single_process_registry()
    _metrics = _Metrics(_registry)


def multiprocess_directory() -> Path | None:
    """Where the processes' values are shared, or None in single-process mode."""
    folder = os.environ.get(MULTIPROC_ENV)
    return Path(folder) if folder else None


# -- recording ----------------------------------------------------------------
def count_request(endpoint: str, status: int) -> None:
    """One ingest answer; ``endpoint`` is envelope, store or otlp."""
    _metrics.request(endpoint, f"{status // 100}xx").inc()


def count_batch(batch: Batch) -> None:
    """A batch accepted: its items by data category, its outcomes by reason."""
    metrics = _metrics
    for category, quantity in batch_categories(batch):
        if quantity:
            metrics.item(category).inc(quantity)
    for outcome in batch.outcomes:
        category = outcome.category if outcome.category in DATA_CATEGORIES else "unknown"
        metrics.outcome(outcome.reason, category).inc(outcome.quantity)


def batch_categories(batch: Batch) -> Iterator[tuple[str, int]]:
    """(Sentry data category, items) of what a batch stores, zeros included."""
    yield "transaction", sum(1 for span in batch.spans if span.is_segment)
    yield "span", len(batch.spans)
    yield "error", len(batch.errors)
    yield "log_item", len(batch.logs)
    yield "trace_metric", len(batch.metrics)
    yield "replay", len(batch.replay_events) + len(batch.replay_recordings)
    yield "session", len(batch.sessions) + len(batch.session_aggregates)
    yield "monitor", len(batch.check_ins)
    yield "feedback", len(batch.feedback)
    yield "profile", len(batch.profiles)


def observe_commit(seconds: float, writes: int) -> None:
    """A group committed: how long it took, how many writes it held."""
    _metrics.commit_seconds.observe(seconds)
    _metrics.group_size.observe(writes)


def count_stored(envelopes: int) -> None:
    """Envelopes (requests' batches) now in the store."""
    if envelopes:
        _metrics.stored.inc(envelopes)


def count_commit_failure() -> None:
    _metrics.commit_failures.inc()


def set_queue_depth(depth: int) -> None:
    """Writes waiting in this process's store writer (summed over live processes)."""
    _metrics.queue_depth.set(depth)


def register_lag_source(source: LagSource | None) -> None:
    """Where the journal's lag is read when scraped: ``source()`` returns (bytes,
    seconds) accepted but not yet fed into the store. Register it in the process
    serving ``/metrics``; None goes back to no lag."""
    global _lag_source
    _lag_source = source or (lambda: (0.0, 0.0))


def journal_lag() -> tuple[float, float]:
    """(bytes, seconds) accepted but not yet in the store, from the registered source."""
    return _lag_source()


# -- several processes -------------------------------------------------------
def prepare_multiprocess(directory: Path) -> None:
    """Count across processes from now on, sharing values through ``directory``.

    Call it in the process that serves ``/metrics``, before it starts any
    process that records (they inherit ``PROMETHEUS_MULTIPROC_DIR``). Values of
    an earlier run are deleted: counters restart at zero, as after any restart.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    # prometheus-client picks in-memory or shared values when it is imported,
    # which was long before `glasspane serve` knew it would start workers.
    values.ValueClass = values.MultiProcessValue()
    _build()


def mark_process_dead(pid: int) -> None:
    """A recording process ended: its gauges (queue depth) stop counting."""
    folder = multiprocess_directory()
    if folder is not None:
        multiprocess.mark_process_dead(pid, str(folder))


# -- reading -------------------------------------------------------------------
def _recorded() -> CollectorRegistry:
    folder = multiprocess_directory()
    if folder is None:
        assert _registry is not None
        return _registry
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(folder))
    return registry


def render(disk_bytes: int | None) -> tuple[bytes, str]:
    """The exposition text (every process's values) and its content type."""
    scraped = CollectorRegistry()
    scraped.register(_ScrapedNow(disk_bytes))
    return generate_latest(_recorded()) + generate_latest(scraped), CONTENT_TYPE_LATEST


class _ScrapedNow:
    """Values read at scrape time rather than recorded."""

    def __init__(self, disk_bytes: int | None) -> None:
        self.disk_bytes = disk_bytes

    def collect(self) -> Iterable[Metric]:
        lag_bytes, lag_seconds = journal_lag()
        yield GaugeMetricFamily(
            "glasspane_journal_lag_bytes", "Accepted bytes not yet in the store", value=lag_bytes
        )
        yield GaugeMetricFamily(
            "glasspane_journal_lag_seconds",
            "Age of the oldest accepted data not yet in the store",
            value=lag_seconds,
        )
        if self.disk_bytes is not None:
            yield GaugeMetricFamily(
                "glasspane_store_disk_bytes", "Store size on disk", value=self.disk_bytes
            )


@dataclass(frozen=True)
class Totals:
    """Running totals over every process."""

    accepted: float = 0.0  # ingest requests answered 2xx
    stored: float = 0.0  # envelopes committed
    queue_depth: float = 0.0


def totals() -> Totals:
    """The totals now, added up over every process in multiprocess mode."""
    accepted = stored = depth = 0.0
    for family in _recorded().collect():
        for sample in family.samples:
            if sample.name == "glasspane_ingest_requests_total":
                if sample.labels.get("status") == "2xx":
                    accepted += sample.value
            elif sample.name == "glasspane_store_envelopes_total":
                stored += sample.value
            elif sample.name == "glasspane_store_queue_depth":
                depth += sample.value
    return Totals(accepted, stored, depth)


_build()
