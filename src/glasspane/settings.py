"""Every setting of the server, declared once.

A setting is read, in order of precedence, from a command-line flag, from its
``GLASSPANE_*`` environment variable, from ``glasspane.toml`` in the data
directory, and finally its default. Unknown keys in the file are rejected.
``docs/settings.md`` lists every setting; a test keeps it complete.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glasspane.errors import ConfigError

MiB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    name: str
    type: type[bool] | type[int] | type[float] | type[str]
    default: Any
    help: str
    unit: str = ""

    @property
    def env(self) -> str:
        return "GLASSPANE_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address to bind. Binding 0.0.0.0 exposes ingest and API."),
    Setting("port", int, 8000, "TCP port to listen on."),
    Setting("data_dir", str, "./glasspane-data", "Directory for the database and admin token."),
    Setting(
        "store",
        str,
        "",
        "Store URL: duckdb:///path/file.duckdb (default: glasspane.duckdb in the data "
        "directory), chdb:///path/dir (ClickHouse in-process) or "
        "clickhouse://user:password@host:8123/database (a ClickHouse server).",
    ),
    Setting(
        "retention",
        str,
        "30d",
        "How long data is kept (days, e.g. 30d or 4w); older spans, events, logs and "
        "metrics are dropped.",
    ),
    Setting(
        "workers",
        int,
        1,
        "Server processes sharing the port (more than 1 needs a clickhouse:// store).",
    ),
    Setting(
        "ingest_workers",
        int,
        0,
        "Ingest worker processes sharing the port on an embedded store (DuckDB, chDB); "
        "0: one per CPU core.",
    ),
    Setting(
        "fresh_reads",
        bool,
        True,
        "With ingest workers, API and UI reads wait (at most 1 s) until what was "
        "acknowledged before them is stored; false: they never wait, and may be a "
        "fraction of a second behind under heavy ingest.",
    ),
    Setting("public_url", str, "", "Base URL written into DSNs (default: http://HOST:PORT)."),
    Setting("alerts", str, "", "Alert rules file (default: alerts.yaml in the data directory)."),
    Setting("alert_interval", float, 30.0, "Seconds between alert evaluations.", "s"),
    Setting(
        "alert_retry_delay",
        float,
        1.0,
        "First wait before retrying a failed notification (doubles per attempt, 5 attempts).",
        "s",
    ),
    Setting("max_body_size", int, 20 * MiB, "Largest request body accepted.", "bytes"),
    Setting(
        "max_decompressed_size", int, 100 * MiB, "Largest envelope after decompression.", "bytes"
    ),
    Setting("max_item_size", int, 10 * MiB, "Largest single envelope item.", "bytes"),
    Setting(
        "sourcemap_max_bundle_size",
        int,
        100 * MiB,
        "Largest source map bundle sentry-cli may upload, assembled and unpacked.",
        "bytes",
    ),
    Setting("sourcemap_chunk_size", int, 8 * MiB, "Size of sentry-cli's upload chunks.", "bytes"),
    Setting(
        "sourcemap_cache_size",
        int,
        256 * MiB,
        "Source maps kept parsed in memory, per process, by the size of their files.",
        "bytes",
    ),
    Setting("apdex_threshold_ms", float, 300.0, "Default Apdex threshold T of new projects.", "ms"),
    Setting("writer_max_batch", int, 2000, "Most envelopes the writer commits in one transaction."),
    Setting(
        "rate_limit",
        float,
        1000.0,
        "Requests per second each DSN key may send (token bucket; 0 turns limiting off).",
        "requests/s",
    ),
    Setting(
        "rate_limit_burst",
        int,
        10000,
        "Requests a DSN key may send at once before rate_limit applies.",
        "requests",
    ),
    Setting(
        "rate_limit_categories",
        str,
        "",
        "Quotas per DSN key and data category, e.g. error=100/60,transaction=50 "
        "(LIMIT items per SECONDS, default 1; empty: none).",
        "items/s",
    ),
    Setting("max_envelope_items", int, 1000, "Most items in one envelope.", "items"),
    Setting(
        "max_spans_per_transaction",
        int,
        5000,
        "Most child spans kept per transaction; the rest are dropped and counted.",
        "spans",
    ),
    Setting(
        "max_string_length",
        int,
        16384,
        "Longer strings in event data are truncated, ending with a marker.",
        "characters",
    ),
    Setting(
        "max_json_depth",
        int,
        32,
        "Deeper nesting in event data is replaced by a marker.",
        "levels",
    ),
    Setting(
        "scrub",
        bool,
        True,
        "Replace passwords, tokens, keys, auth/cookie headers and card numbers by [Filtered].",
    ),
    Setting(
        "scrub_fields",
        str,
        "",
        "More field names to scrub, comma-separated (matched as substrings, any case).",
    ),
    Setting("store_client_ips", bool, True, "Store the IP addresses of users and clients."),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
CONFIG_FILE = "glasspane.toml"


@dataclass(frozen=True, slots=True)
class Config:
    """Resolved settings, typed: one field per entry of :data:`SETTINGS`, in its order.

    The fields are written out (so type checkers see them) and
    ``tests/unit/test_settings_docs.py`` keeps them equal to :data:`SETTINGS`:
    names, order and types.
    """

    host: str
    port: int
    data_dir: str
    store: str
    retention: str
    workers: int
    ingest_workers: int
    fresh_reads: bool
    public_url: str
    alerts: str
    alert_interval: float
    alert_retry_delay: float
    max_body_size: int
    max_decompressed_size: int
    max_item_size: int
    sourcemap_max_bundle_size: int
    sourcemap_chunk_size: int
    sourcemap_cache_size: int
    apdex_threshold_ms: float
    writer_max_batch: int
    rate_limit: float
    rate_limit_burst: int
    rate_limit_categories: str
    max_envelope_items: int
    max_spans_per_transaction: int
    max_string_length: int
    max_json_depth: int
    scrub: bool
    scrub_fields: str
    store_client_ips: bool

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Config:
        """A Config of every setting's typed value (as :func:`resolve` makes them)."""
        return cls(**{name: values[name] for name in BY_NAME})

    @property
    def values(self) -> dict[str, Any]:
        """Every setting's value by name (what a worker process is handed, as JSON)."""
        return {name: getattr(self, name) for name in BY_NAME}

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"


_BOOLS = {"true": True, "1": True, "yes": True, "on": True}
_BOOLS.update({"false": False, "0": False, "no": False, "off": False})


def _convert(setting: Setting, raw: Any, source: str) -> Any:
    """The typed value; strings (flags, env) are parsed, file values must fit the type."""
    if setting.type is bool:
        value = raw if isinstance(raw, bool) else _BOOLS.get(str(raw).strip().lower())
        if value is None:
            raise ConfigError(
                f"Setting {setting.name} from {source} must be true or false, got {raw!r}"
            )
        return value
    allowed = {int: (int, str), float: (int, float, str), str: (str,)}[setting.type]
    if isinstance(raw, bool) or not isinstance(raw, allowed):
        raise ConfigError(
            f"Setting {setting.name} from {source} must be {setting.type.__name__}, got {raw!r}"
        )
    try:
        return setting.type(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Setting {setting.name} from {source} must be {setting.type.__name__}, got {raw!r}"
        ) from None


def _read_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        loaded = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(loaded) - set(BY_NAME))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}"
        )
    return loaded


def resolve(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Combine flags (``None`` = not given), environment, config file and defaults."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(flags) - set(BY_NAME))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")

    def early(setting: Setting) -> tuple[Any, str] | None:
        if flags.get(setting.name) is not None:
            return flags[setting.name], setting.flag
        if setting.env in environ:
            return environ[setting.env], setting.env
        return None

    data_dir_given = early(BY_NAME["data_dir"])
    data_dir = Path(data_dir_given[0] if data_dir_given else BY_NAME["data_dir"].default)
    from_file = _read_file(data_dir)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        given = early(setting)
        if given is not None:
            values[setting.name] = _convert(setting, given[0], given[1])
        elif setting.name in from_file:
            values[setting.name] = _convert(setting, from_file[setting.name], CONFIG_FILE)
        else:
            values[setting.name] = setting.default
    return Config.from_values(values)
