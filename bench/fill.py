"""Fill a glasspane data directory with generated spans, fast, for query benchmarks.

Not through HTTP and not through the store's writer: the data directory is
opened once with :class:`glasspane.instance.Instance` (so the migrations run and
the projects exist), then DuckDB generates the rows itself, in batches of
``INSERT INTO spans BY NAME SELECT ... FROM range(...)``. Every value comes from
``hash(index, salt, seed)``, so a fill is repeatable and needs no Python per row.

The shape of the data:

* 10 services (one project each) x 30 transaction names; a trace crosses 5
  services (5 segments), each segment has 9 child spans: 10 spans per
  transaction, 50 per trace;
* traces spread evenly over the 23 hours before the fill, rows in time order
  (as group-committed ingest writes them);
* per transaction name a lognormal duration (its own median, sigma 0.6), a
  failure rate (0.5-3 %, a few names 10-15 %) and 0.5 % ``cancelled``;
* the head service's sample rate on the whole trace (frontend 10 %, the API
  gateway 25 %, the rest 100 %); 20,000 users with browser, OS and country;
* half of the failing transactions carry an error event (4 issues per service).

``--store chdb`` fills the ClickHouse store instead (chDB, ClickHouse's engine
in this process, in ``DIR/clickhouse``; serve it with ``--store
chdb://DIR/clickhouse``): the rows are generated into a DuckDB file as above,
then every table is copied over in Arrow batches, so both stores hold the same
rows. Only the issue ids differ: ClickHouse's are a hash of project and
fingerprint (``clickhouse/store.py``), so ``errors.issue_id`` is mapped on the
way. ``--from DIR`` copies an existing DuckDB fill instead of generating one.

    .venv/bin/python bench/fill.py --spans 1M --data-dir /tmp/gp-1m
    .venv/bin/python bench/fill.py --spans 1M --data-dir /tmp/gp-1m-ch --store chdb
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

import duckdb
import orjson
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
from glasspane.domain import ErrorEvent, ExceptionInfo, Frame, Location, User  # noqa: E402
from glasspane.instance import Instance  # noqa: E402
from glasspane.settings import resolve  # noqa: E402
from glasspane.store import open_store, rows  # noqa: E402
from glasspane.store.clickhouse.connection import Connection  # noqa: E402
from glasspane.store.clickhouse.store import issue_id  # noqa: E402

SPANS_PER_SEGMENT = 10  # the segment and its 9 children
SEGMENTS_PER_TRACE = 5  # at most 10: parent ids are built from one hex digit
SPANS_PER_TRACE = SPANS_PER_SEGMENT * SEGMENTS_PER_TRACE
NAMES_PER_SERVICE = 30
ISSUES_PER_SERVICE = 4
USERS = 20_000
HOURS = 23.0  # inside a 24 h window for an hour after the fill
SIGMA = 0.6
ERROR_SHARE = 0.5  # of failing transactions, those with an error event
MAX_SPANS = 50_000_000
MARKER = "bench-fill.json"
DB_FILE = "glasspane.duckdb"
CHDB_DIR = "clickhouse"  # the chDB store inside a ``--store chdb`` data directory
STAGING_DIR = "duckdb-staging"  # where a chDB fill generates its rows first
STORES = ("duckdb", "chdb")
COPY_ROWS = 500_000  # rows per Arrow batch copied into chDB

#: name, platform, sample rate when it heads a trace
SERVICES: tuple[tuple[str, str, float], ...] = (
    ("frontend", "javascript", 0.1),
    ("api-gateway", "node", 0.25),
    ("upload-api", "python", 1.0),
    ("auth", "python", 1.0),
    ("documents", "python", 1.0),
    ("storage", "python", 1.0),
    ("ocr", "python", 1.0),
    ("search", "python", 1.0),
    ("notifications", "node", 1.0),
    ("blockchain", "python", 1.0),
)
RESOURCES = (
    "documents", "documents/{id}", "documents/{id}/pages", "uploads", "uploads/{id}",
    "users/{id}", "sessions", "tokens", "search", "search/suggest", "files/{id}",
    "files/{id}/thumbnail", "ocr/jobs", "ocr/jobs/{id}", "receipts/{id}", "contracts",
    "contracts/{id}", "notifications", "notifications/{id}/read", "webhooks", "billing",
    "billing/invoices/{id}", "teams/{id}", "teams/{id}/members", "audit", "exports",
    "exports/{id}", "health", "settings", "tags",
)  # fmt: skip
CHILD_OPS = (
    ("db", "SELECT id, owner_id, state FROM documents WHERE id = %s", '"db.system":"postgresql"'),
    ("cache.get", "doc:{id}:meta", '"cache.hit":true'),
    ("http.client", "GET http://auth/internal/verify", '"http.response.status_code":200'),
    ("db", "UPDATE documents SET state = %s WHERE id = %s", '"db.system":"postgresql"'),
    ("function", "validateDocument", '"document.type":"pdf"'),
    ("http.client", "POST http://storage/internal/objects", '"http.response.status_code":201'),
    ("serialize", "render json", '"bytes":5123'),
    ("db", "INSERT INTO audit_log VALUES (%s, %s, %s)", '"db.system":"postgresql"'),
    ("http.client", "POST http://blockchain/rpc", '"http.response.status_code":200'),
)
FAILING_STATUSES = ("internal_error", "deadline_exceeded", "unavailable")
BROWSERS = ("Chrome", "Chrome", "Chrome", "Safari", "Safari", "Firefox", "Edge", "Mobile Safari")
OSES = ("Windows", "Windows", "Mac OS X", "Mac OS X", "Linux", "iOS", "Android")
COUNTRIES = ("US", "US", "US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "PL")
SDKS = {
    "python": {
        "name": "sentry.python.flask",
        "version": "2.40.0",
        "packages": [{"name": "pypi:sentry-sdk", "version": "2.40.0"}],
        "integrations": ["argv", "atexit", "dedupe", "excepthook", "flask", "httpx", "logging"],
    },
    "node": {
        "name": "sentry.javascript.node",
        "version": "9.10.0",
        "packages": [{"name": "npm:@sentry/node", "version": "9.10.0"}],
        "integrations": ["Http", "Express", "Console", "OnUncaughtException"],
    },
    "javascript": {
        "name": "sentry.javascript.browser",
        "version": "9.10.0",
        "packages": [{"name": "npm:@sentry/browser", "version": "9.10.0"}],
        "integrations": ["BrowserTracing", "Breadcrumbs", "GlobalHandlers"],
    },
}
RUNTIMES = {
    "python": {"name": "CPython", "version": "3.11.7"},
    "node": {"name": "node", "version": "v22.11.0"},
    "javascript": {"name": "Chrome", "version": "131.0.0"},
}


@dataclass(frozen=True)
class Name:
    """One transaction name of one service."""

    transaction: str
    service: str
    median_ms: float
    failure_rate: float
    method: str


@dataclass(frozen=True)
class Model:
    """Everything the SQL draws from, decided by the seed."""

    seed: int
    names: tuple[Name, ...]  # NAMES_PER_SERVICE per service, service by service


@dataclass
class Filled:
    """What a fill produced."""

    spans: int
    segments: int
    traces: int
    errors: int
    seconds: float  # inserting the rows
    index_seconds: float  # building the trace id index afterwards
    filled_at: float
    model: Model
    reused: bool = False
    store: str = "duckdb"
    copy_seconds: float = 0.0  # chdb: copying the rows over from DuckDB
    optimize_seconds: float = 0.0  # chdb: merging each table's parts into one per day
    disk_bytes: int | None = None  # chdb: the active parts' bytes (old parts linger a while)


def build_model(seed: int) -> Model:
    rng = random.Random(seed)
    names = []
    for service, _, _ in SERVICES:
        for i, resource in enumerate(RESOURCES[:NAMES_PER_SERVICE]):
            method = rng.choice(("GET", "GET", "GET", "POST", "PUT", "DELETE"))
            transaction = f"{method} /{service}/{resource}"
            if i == 0:  # one scenario-style name per service
                transaction = {
                    "upload-api": "uploadDocument",
                    "blockchain": "registerOnBlockchain",
                }.get(service, transaction)
            median = min(3000.0, max(3.0, rng.lognormvariate(4.0, 1.0)))
            failure = rng.uniform(0.10, 0.15) if rng.random() < 0.05 else rng.uniform(0.005, 0.03)
            names.append(Name(transaction, service, round(median, 2), round(failure, 4), method))
    return Model(seed, tuple(names))


# -- SQL building ----------------------------------------------------------------------------


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Sequence[str | float | int]) -> str:
    items = (sql_str(v) if isinstance(v, str) else repr(v) for v in values)
    return "[" + ", ".join(items) + "]"


def _contexts(platform: str, service: str) -> str:
    contexts: dict[str, object] = {"runtime": RUNTIMES[platform], "os": {"name": "Linux"}}
    if service == "blockchain":
        contexts["blockchain"] = {"network": "sepolia", "node": "rpc-node-2", "gas_limit": 210000}
    return json.dumps(contexts, separators=(",", ":"))


def _request(name: Name) -> str:
    url = f"http://{name.service}.internal/{name.transaction.rpartition(' ')[2].lstrip('/')}"
    return json.dumps({"method": name.method, "url": url}, separators=(",", ":"))


def _issue_payload(service: str, platform: str, number: int) -> tuple[str, str, str, str]:
    """(type, value, culprit, payload template) of one issue; ids filled in by SQL."""
    kind = ("TimeoutError", "KeyError", "ConnectionError", "ValueError")[number % 4]
    value = f"{service} step {number} failed: {kind.lower()} after retries"
    frames = [
        Frame(f"{service}/handlers.py", None, f"handle_{i}", f"{service}.handlers", 40 + i, None,
              True, f"    result = step_{i}(payload)", ["def handle():", "    payload = load()"],
              ["    return result"], {"payload": "<Document id=42>"})
        for i in range(6)
    ]  # fmt: skip
    event = ErrorEvent(
        project_id=0,
        event_id="__EVENT_ID__",
        timestamp=0.0,
        received_at=0.0,
        level="error",
        platform=platform,
        trace_id="__TRACE_ID__",
        span_id=None,
        transaction=None,
        message=None,
        exceptions=[ExceptionInfo(kind, value, None, {"type": "generic"}, frames)],
        fingerprint=f"{service}-{number}",
        title=f"{kind}: {value}",
        culprit=f"{service}.handlers in handle_5",
        location=Location(f"{service}/handlers.py", 45, "handle_5"),
        service=service,
        breadcrumbs=[{"category": "http", "message": f"GET /{service}/step/{i}"} for i in range(5)],
        contexts={"runtime": RUNTIMES[platform]},
        user=User("__USER__"),
    )
    return kind, value, event.culprit or "", orjson.dumps(event, default=str).decode()


def _lists(model: Model, project_ids: dict[str, int]) -> dict[str, str]:
    """The Template values: constants of the model as SQL literals."""
    services = [s for s, _, _ in SERVICES]
    platforms = [p for _, p, _ in SERVICES]
    issues = [
        _issue_payload(service, platform, n)
        for service, platform, _ in SERVICES
        for n in range(ISSUES_PER_SERVICE)
    ]
    return {
        "services": sql_list(services),
        "project_ids": sql_list([project_ids[s] for s in services]),
        "platforms": sql_list(platforms),
        "sample_rates": sql_list([r for _, _, r in SERVICES]),
        "releases": sql_list([f"{s}@1.{i}.2" for i, s in enumerate(services)]),
        "contexts": sql_list([_contexts(p, s) for s, p, _ in SERVICES]),
        "sdks": sql_list([json.dumps(SDKS[p], separators=(",", ":")) for p in platforms]),
        "segment_ops": sql_list(["pageload" if p == "javascript" else "http.server"
                                 for p in platforms]),
        "names": sql_list([n.transaction for n in model.names]),
        "medians": sql_list([n.median_ms for n in model.names]),
        "fail_rates": sql_list([n.failure_rate for n in model.names]),
        "requests": sql_list([_request(n) for n in model.names]),
        "child_ops": sql_list([op for op, _, _ in CHILD_OPS]),
        "child_descriptions": sql_list([d for _, d, _ in CHILD_OPS]),
        "child_data": sql_list(["," + data for _, _, data in CHILD_OPS]),
        "fail_statuses": sql_list(FAILING_STATUSES),
        "browsers": sql_list(BROWSERS),
        "oses": sql_list(OSES),
        "countries": sql_list(COUNTRIES),
        "issue_types": sql_list([i[0] for i in issues]),
        "issue_values": sql_list([i[1] for i in issues]),
        "issue_culprits": sql_list([i[2] for i in issues]),
        "issue_payloads": sql_list([i[3] for i in issues]),
        "fingerprints": sql_list([f"bench-{s}-{n}" for s in services
                                  for n in range(ISSUES_PER_SERVICE)]),
    }  # fmt: skip


MACROS = """
CREATE OR REPLACE TEMP MACRO uni(x, salt) AS
    ((hash(x, salt, $seed) >> 11)::DOUBLE + 0.5) / 9007199254740992.0;
CREATE OR REPLACE TEMP MACRO hex16(x, salt) AS format('{:016x}', hash(x, salt, $seed));
"""

# One row per transaction (segment) g in [lo, hi): everything its spans share.
SEGMENTS = """
seg0 AS (
    SELECT g, g // $per_trace AS t, g % $per_trace AS p,
           (hash(g // $per_trace, 1, $seed) % $n_services)::INTEGER AS head
    FROM range($lo, $hi) r(g)),
seg1 AS (
    SELECT *, ((head + p) % $n_services)::INTEGER AS s,
           (hash(t, 20, $seed) % $users)::BIGINT AS who
    FROM seg0),
seg2 AS (
    SELECT *, s * $per_service + floor($per_service * pow(uni(g, 2), 2))::INTEGER AS n,
           CASE WHEN uni(g, 7) < $fail_rates[n + 1]
                THEN $fail_statuses[(hash(g, 8, $seed) % 3 + 1)::INTEGER]
                WHEN uni(g, 7) < $fail_rates[n + 1] + 0.005 THEN 'cancelled'
                ELSE 'ok' END AS status
    FROM seg1),
segment AS (
    SELECT g, t, p, s, n, head, status, status NOT IN ('ok', 'cancelled') AS failed,
           $base + (t + 0.5 * uni(t, 5)) * $step + p * 0.004 + uni(g, 6) * 0.002 AS start_ts,
           $medians[n + 1] * exp($sigma * sqrt(-2 * ln(uni(g, 3))) * cos(2 * pi() * uni(g, 4)))
               AS ms,
           hex16(t, 10) || hex16(t, 11) AS trace_id,
           substr(hex16(g, 12), 1, 14) || '00' AS sid,
           substr(hex16(t * $per_trace, 12), 1, 14) AS root_prefix,
           $services[s + 1] AS service, $names[n + 1] AS name,
           CASE WHEN uni(t, 21) < 0.05 THEN 'staging' ELSE 'production' END AS environment,
           $releases[s + 1] AS release, $platforms[s + 1] AS platform,
           'u' || who AS user_id,
           CASE WHEN uni(who, 22) < 0.7 THEN 'user' || who || '@example.com' END AS user_email,
           'user' || who AS user_username,
           '10.' || (who // 65536 % 256) || '.' || (who // 256 % 256) || '.' || (who % 256)
               AS user_ip,
           $browsers[(hash(who, 23, $seed) % $n_browsers + 1)::INTEGER] AS browser_name,
           $oses[(hash(who, 24, $seed) % $n_oses + 1)::INTEGER] AS os_name,
           $countries[(hash(who, 25, $seed) % $n_countries + 1)::INTEGER] AS country_code,
           $sample_rates[head + 1] AS sample_rate
    FROM seg2)
"""

INSERT_SPANS = (
    "INSERT INTO spans BY NAME WITH "
    + SEGMENTS
    + """,
spans AS (  -- unnest keeps a transaction's spans together, as ingest writes them
    SELECT segment.*, unnest(range($spans_per_segment)) AS k FROM segment),
rows AS (
    SELECT *,
           CASE WHEN k = 0 THEN 0.0 ELSE 0.8 * uni(g * 10 + k, 13) END AS a,
           CASE WHEN k = 0 THEN 1.0 ELSE uni(g * 10 + k, 14) END AS b
    FROM spans)
SELECT
    $project_ids[s + 1] AS project_id,
    trace_id,
    CASE WHEN k = 0 THEN sid ELSE substr(sid, 1, 14) || '0' || k END AS span_id,
    CASE WHEN k > 0 THEN sid WHEN p > 0 THEN root_prefix || '0' || p END AS parent_span_id,
    sid AS segment_id,
    k = 0 AS is_segment,
    name AS "transaction",
    CASE WHEN k = 0 THEN $segment_ops[s + 1] ELSE $child_ops[k] END AS op,
    CASE WHEN k = 0 THEN name ELSE $child_descriptions[k] END AS description,
    CASE WHEN k = 0 OR (failed AND k = $spans_per_segment - 1) THEN status ELSE 'ok' END
        AS status,
    start_ts + ms / 1000 * a AS start_ts,
    start_ts + ms / 1000 * a + ms * (1 - a) * b / 1000 AS end_ts,
    ms * (1 - a) * b AS duration_ms,
    service, environment, release, user_id, user_email, user_username, user_ip, sample_rate,
    CASE WHEN k = 0 THEN hex16(g, 30) || hex16(g, 31) END AS event_id,
    CASE WHEN k = 0 THEN platform END AS platform,
    CASE WHEN k = 0 THEN '{"http.status_code":"' || CASE WHEN failed THEN '500' ELSE '200' END
                         || '","service":"' || service || '"}' END AS tags,
    '{"thread.id":"140196318206848","thread.name":"MainThread"'
        || CASE WHEN k = 0 THEN '' ELSE $child_data[k] END || '}' AS data,
    NULL AS measurements,
    CASE WHEN k = 0 THEN $contexts[s + 1] END AS contexts,
    CASE WHEN k = 0 THEN $requests[n + 1] END AS request,
    CASE WHEN k = 0 THEN $sdks[s + 1] END AS sdk,
    start_ts + ms / 1000 + 0.2 + uni(g, 15) AS received_at,
    browser_name, os_name, country_code
FROM rows"""
)

INSERT_ERRORS = (
    "INSERT INTO errors BY NAME WITH "
    + SEGMENTS
    + """,
failing AS (
    SELECT *, (s * $issues_per_service + hash(g, 43, $seed) % $issues_per_service + 1)::INTEGER
                  AS issue,
           hex16(g, 41) || hex16(g, 42) AS event_id,
           start_ts + ms / 1000 * 0.9 AS ts
    FROM segment WHERE failed AND uni(g, 40) < $error_share)
SELECT
    $project_ids[s + 1] AS project_id, event_id, issue AS issue_id,
    $fingerprints[issue] AS fingerprint, trace_id,
    substr(sid, 1, 14) || '0' || ($spans_per_segment - 1) AS span_id,
    ts AS "timestamp", ts + 0.3 AS received_at, 'error' AS level, platform,
    name AS "transaction", $issue_types[issue] AS type, $issue_values[issue] AS value,
    $issue_types[issue] || ': ' || $issue_values[issue] AS title,
    $issue_culprits[issue] AS culprit, NULL AS message, service, environment, release,
    user_id, user_email, user_username, user_ip,
    service || '/handlers.py' AS loc_file, 45 AS loc_line, 'handle_5' AS loc_function,
    '{"service":"' || service || '"}' AS tags, $contexts[s + 1] AS contexts,
    replace(replace(replace(replace($issue_payloads[issue], '__EVENT_ID__', event_id),
        '__TRACE_ID__', trace_id), '"__USER__"', '"' || user_id || '"'),
        '"timestamp":0.0', '"timestamp":' || ts) AS payload,
    browser_name, os_name, country_code
FROM failing"""
)


# -- filling ---------------------------------------------------------------------------------


def create_projects(data_dir: Path) -> dict[str, int]:
    """Open the directory as the server does (migrations, ``default``); one project per service."""
    instance = Instance(resolve({"data_dir": str(data_dir)}, environ={}))
    try:
        existing = {p.name: p.id for p in instance.projects()}
        for service, _, _ in SERVICES:
            if service not in existing:
                existing[service] = instance.create_project(service).id
        return existing
    finally:
        instance.close()


def fill(
    data_dir: Path,
    spans: int,
    seed: int,
    batch_spans: int = 2_000_000,
    say: Callable[[str], None] = print,
) -> Filled:
    """Generate ``spans`` spans (rounded down to whole traces) into a fresh ``data_dir``."""
    traces = spans // SPANS_PER_TRACE
    if traces < 1:
        raise SystemExit(f"--spans must be at least {SPANS_PER_TRACE} (one trace)")
    segments = traces * SEGMENTS_PER_TRACE
    if (data_dir / DB_FILE).exists():
        raise SystemExit(f"{data_dir / DB_FILE} exists already; fill a new directory")
    model = build_model(seed)
    project_ids = create_projects(data_dir)
    filled_at = time.time()
    values = {
        **_lists(model, project_ids),
        "seed": str(seed),
        "per_trace": str(SEGMENTS_PER_TRACE),
        "per_service": str(NAMES_PER_SERVICE),
        "spans_per_segment": str(SPANS_PER_SEGMENT),
        "issues_per_service": str(ISSUES_PER_SERVICE),
        "n_services": str(len(SERVICES)),
        "users": str(USERS),
        "n_browsers": str(len(BROWSERS)),
        "n_oses": str(len(OSES)),
        "n_countries": str(len(COUNTRIES)),
        "base": repr(filled_at - HOURS * 3600),
        "step": repr(HOURS * 3600 / traces),
        "sigma": repr(SIGMA),
        "error_share": repr(ERROR_SHARE),
    }
    conn = duckdb.connect(str(data_dir / DB_FILE))
    try:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(Template(MACROS).substitute(values))
        # Building the trace id index once at the end is several times faster than
        # maintaining it row by row; the result is the same index (schema.py).
        conn.execute("DROP INDEX IF EXISTS spans_trace_id")
        conn.execute("DROP INDEX IF EXISTS segments_trace_id")
        seg_batch = max(SEGMENTS_PER_TRACE, batch_spans // SPANS_PER_SEGMENT)
        seg_batch -= seg_batch % SEGMENTS_PER_TRACE  # whole traces per batch
        began = time.monotonic()
        errors = 0
        for lo in range(0, segments, seg_batch):
            hi = min(segments, lo + seg_batch)
            batch = {**values, "lo": str(lo), "hi": str(hi)}
            conn.begin()
            conn.execute(Template(INSERT_SPANS).substitute(batch))
            row = conn.execute(Template(INSERT_ERRORS).substitute(batch)).fetchone()
            errors += int(row[0]) if row else 0
            conn.commit()
            done, elapsed = hi * SPANS_PER_SEGMENT, time.monotonic() - began
            say(
                f"  filled {done:>11,} / {segments * SPANS_PER_SEGMENT:,} spans"
                f"  {elapsed:6.1f} s  {done / elapsed:>9,.0f} spans/s"
                f"  ({errors:,} error events)"
            )
        seconds = time.monotonic() - began
        began = time.monotonic()
        conn.execute("CREATE INDEX spans_trace_id ON spans (trace_id)")
        # The writer keeps segments (transactions) in a table of their own too (schema.py).
        conn.execute("INSERT INTO segments SELECT * FROM spans WHERE is_segment ORDER BY start_ts")
        conn.execute("CREATE INDEX segments_trace_id ON segments (trace_id)")
        conn.execute("INSERT INTO issues (id, project_id, fingerprint, created_at) " + _issues(
            project_ids, filled_at
        ))  # fmt: skip
        conn.execute("CHECKPOINT")
        index_seconds = time.monotonic() - began
    finally:
        conn.close()
    filled = Filled(
        segments * SPANS_PER_SEGMENT, segments, traces, errors, seconds, index_seconds,
        filled_at, model,
    )  # fmt: skip
    write_marker(data_dir, filled)
    return filled


def _issues(project_ids: dict[str, int], now: float) -> str:
    rows = [
        f"({i * ISSUES_PER_SERVICE + n + 1}, {project_ids[service]}, "
        f"{sql_str(f'bench-{service}-{n}')}, {now!r})"
        for i, (service, _, _) in enumerate(SERVICES)
        for n in range(ISSUES_PER_SERVICE)
    ]
    return "VALUES " + ", ".join(rows)


def write_marker(data_dir: Path, filled: Filled) -> None:
    marker: dict[str, object] = {
        "spans": filled.spans,
        "segments": filled.segments,
        "traces": filled.traces,
        "errors": filled.errors,
        "seconds": filled.seconds,
        "index_seconds": filled.index_seconds,
        "filled_at": filled.filled_at,
        "seed": filled.model.seed,
        "store": filled.store,
        "copy_seconds": filled.copy_seconds,
        "optimize_seconds": filled.optimize_seconds,
        "disk_bytes": filled.disk_bytes,
    }
    (data_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def read_marker(data_dir: Path) -> Filled | None:
    """The fill recorded in ``data_dir``, or None when there is none."""
    try:
        m = json.loads((data_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return Filled(
        m["spans"], m["segments"], m["traces"], m["errors"], m["seconds"], m["index_seconds"],
        m["filled_at"], build_model(m["seed"]), reused=True, store=m.get("store", "duckdb"),
        copy_seconds=m.get("copy_seconds", 0.0), optimize_seconds=m.get("optimize_seconds", 0.0),
        disk_bytes=m.get("disk_bytes"),
    )  # fmt: skip


# -- the ClickHouse (chDB) store ---------------------------------------------------------------


def chdb_url(data_dir: Path) -> str:
    """The ``--store`` URL of a chDB fill in ``data_dir``."""
    return f"chdb://{(data_dir / CHDB_DIR).resolve()}"


def fill_chdb(
    data_dir: Path,
    spans: int,
    seed: int,
    batch_spans: int = 2_000_000,
    say: Callable[[str], None] = print,
    source: Path | None = None,
) -> Filled:
    """The same rows as :func:`fill`, in a chDB store in ``data_dir/clickhouse``.

    Generated into ``data_dir/duckdb-staging`` (removed afterwards), or copied
    from the DuckDB fill in ``source``, which is left as it is.
    """
    if (data_dir / CHDB_DIR).exists():
        raise SystemExit(f"{data_dir / CHDB_DIR} exists already; fill a new directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = source or data_dir / STAGING_DIR
    if source is None:
        filled = fill(staging, spans, seed, batch_spans, say)
    else:
        found = read_marker(source)
        if found is None or found.store != "duckdb":
            raise SystemExit(f"{source} holds no DuckDB fill (no {MARKER}); fill it first")
        filled = found
    say(f"copying {filled.spans:,} spans from {staging / DB_FILE} into {chdb_url(data_dir)} ...")
    copied = copy_to_chdb(staging / DB_FILE, data_dir, say)
    if source is None:
        shutil.rmtree(staging)
    filled = Filled(
        filled.spans, filled.segments, filled.traces, filled.errors, filled.seconds,
        filled.index_seconds, filled.filled_at, filled.model, store="chdb",
        copy_seconds=copied.seconds, optimize_seconds=copied.optimize_seconds,
        disk_bytes=copied.disk_bytes,
    )  # fmt: skip
    write_marker(data_dir, filled)
    return filled


@dataclass
class Copied:
    """What copying a DuckDB fill into chDB took."""

    rows: dict[str, int]  # per table
    seconds: float
    optimize_seconds: float
    disk_bytes: int  # active parts, all tables


def copy_to_chdb(duckdb_file: Path, data_dir: Path, say: Callable[[str], None]) -> Copied:
    """Copy every filled table of ``duckdb_file`` into a new chDB store in ``data_dir``.

    Through the store's own connection, so its migrations make the tables. Then
    ``OPTIMIZE ... FINAL`` merges each day's parts into one, the layout a
    running server converges to through background merges: the figures do not
    depend on how far those got.
    """
    src = duckdb.connect(str(duckdb_file), read_only=True)
    store = open_store(chdb_url(data_dir), data_dir)
    conn: Connection = store._conn  # type: ignore[attr-defined]  # the ClickHouse store's
    try:
        src.execute("SET enable_progress_bar = false")
        began = time.monotonic()
        for row in src.execute(
            "SELECT id, name, public_key, created_at, apdex_threshold_ms FROM projects"
        ).fetchall():
            conn.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)", [*row, row[3]])
        issues = src.execute(
            "SELECT id, project_id, fingerprint, created_at FROM issues"
        ).fetchall()
        new_ids = {old: issue_id(project, fp) for old, project, fp, _ in issues}
        conn.insert("issues", _issue_rows(issues, new_ids))
        copied = {"issues": len(issues)}
        spans_sql = ", ".join(f'"{c}"' for c in rows.SPAN_COLUMNS)
        remap = " ".join(f"WHEN {old} THEN {new}" for old, new in new_ids.items())
        errors_sql = ", ".join(
            f"CASE issue_id {remap} END::UBIGINT AS issue_id" if c == "issue_id" else f'"{c}"'
            for c in rows.ERROR_COLUMNS
        )
        for table, columns in (
            ("spans", spans_sql),
            ("segments", spans_sql),
            ("errors", errors_sql),
        ):
            copied[table] = _copy_table(src, conn, table, columns, began, say)
        seconds = time.monotonic() - began
        began = time.monotonic()
        for table in ("spans", "segments", "errors", "issues", "projects"):
            say(f"  OPTIMIZE TABLE {table} FINAL ...")
            conn.execute(f"OPTIMIZE TABLE {table} FINAL")
        optimize_seconds = time.monotonic() - began
        parts = conn.execute(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = ?",
            [conn.database],
        ).fetchone()
        disk = int(parts[0]) if parts and parts[0] else 0
    finally:
        store.close()
        src.close()
    return Copied(copied, seconds, optimize_seconds, disk)


def _issue_rows(issues: list[tuple[int, int, str, float]], new_ids: dict[int, int]) -> pa.Table:
    """The ClickHouse store's ``issues`` rows (see ``ClickHouseStore._write_batches``)."""
    return pa.table(
        {
            "id": pa.array([new_ids[old] for old, _, _, _ in issues], pa.uint64()),
            "project_id": pa.array([project for _, project, _, _ in issues], pa.uint32()),
            "fingerprint": [fp for _, _, fp, _ in issues],
            "status": ["unresolved"] * len(issues),
            "created_at": [created for _, _, _, created in issues],
            "version": [0.0] * len(issues),
        }
    )


def _copy_table(
    src: duckdb.DuckDBPyConnection,
    conn: Connection,
    table: str,
    columns: str,
    began: float,
    say: Callable[[str], None],
) -> int:
    """Stream ``table`` from DuckDB into chDB in Arrow batches; the rows copied."""
    total, done = int(src.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]), 0
    reader = src.sql(f"SELECT {columns} FROM {table}").to_arrow_reader(COPY_ROWS)
    pending: list[pa.RecordBatch] = []
    for batch in itertools.chain(reader, [None]):  # None: the end, flush
        if batch is not None:
            pending.append(batch)
        if pending and (batch is None or sum(b.num_rows for b in pending) >= COPY_ROWS):
            conn.insert(table, pa.Table.from_batches(pending))  # one part per insert and day
            done += sum(b.num_rows for b in pending)
            pending = []
            elapsed = time.monotonic() - began
            say(f"  copied {table:<8} {done:>11,} / {total:,} rows  {elapsed:6.1f} s")
    return done


def parse_count(text: str) -> int:
    """``1M``, ``500k``, ``10_000_000`` → an int."""
    text = text.strip().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    try:
        value = float(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count such as 1M or 500k") from None
    if not 1 <= value <= MAX_SPANS:
        raise argparse.ArgumentTypeError(f"a count between 1 and {MAX_SPANS:,}, not {text!r}")
    return int(value)


def fmt_count(spans: int) -> str:
    if spans % 1_000_000 == 0:
        return f"{spans // 1_000_000}M"
    if spans % 1_000 == 0:
        return f"{spans // 1_000}k"
    return str(spans)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=parse_count, default=1_000_000, help="e.g. 1M, 10M")
    parser.add_argument("--data-dir", type=Path, required=True, help="a new directory to fill")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--batch", type=parse_count, default=2_000_000, help="spans per insert")
    parser.add_argument(
        "--store", choices=STORES, default="duckdb", help="the store to fill (default duckdb)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="with --store chdb: copy this DuckDB fill instead of generating the rows",
    )
    args = parser.parse_args(argv)
    if args.source and args.store != "chdb":
        parser.error("--from needs --store chdb")
    if args.store == "chdb":
        filled = fill_chdb(args.data_dir, args.spans, args.seed, args.batch, source=args.source)
    else:
        filled = fill(args.data_dir, args.spans, args.seed, args.batch)
    print("\n".join(summary(filled, args.data_dir)))
    return 0


def disk_usage(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def summary(filled: Filled, data_dir: Path) -> list[str]:
    """What a fill made, how fast, and its size on disk."""
    f = filled
    lines = [
        f"{f.spans:,} spans ({f.segments:,} transactions, {f.traces:,} traces, "
        f"{f.errors:,} error events) generated in {f.seconds:.1f} s"
        f" ({f.spans / f.seconds:,.0f} spans/s) + {f.index_seconds:.1f} s index",
    ]
    if f.store == "chdb":
        disk = f.disk_bytes or 0
        lines += [
            f"copied into chDB in {f.copy_seconds:.1f} s ({f.spans / f.copy_seconds:,.0f} spans/s,"
            f" spans + segments + errors) + {f.optimize_seconds:.1f} s OPTIMIZE FINAL",
            f"on disk {disk / 1024**2:,.0f} MiB of active parts = {disk / f.spans:.0f} bytes/span"
            f" in {data_dir / CHDB_DIR}; serve it with --store {chdb_url(data_dir)}",
        ]
    else:
        disk = disk_usage(data_dir)
        lines.append(
            f"on disk {disk / 1024**2:,.0f} MiB = {disk / f.spans:.0f} bytes/span in {data_dir}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
