"""One running glasspane: settings, store, projects, the admin token and the accounts.

The web app and the CLI's ``serve`` share this object; it owns the store and
keeps the project list in memory so ingest authenticates without a query.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from glasspane.access.accounts import Accounts
from glasspane.alerts.engine import AlertEngine
from glasspane.detectors.thresholds import validate as validate_thresholds
from glasspane.domain import Batch, Project
from glasspane.errors import ConfigError, Conflict, NotFound, ProtocolError
from glasspane.protocol.auth import make_dsn
from glasspane.settings import Config
from glasspane.sourcemaps.bundles import BundleStore
from glasspane.sourcemaps.mapping import SourceMapper
from glasspane.sourcemaps.retention import BundleSweep
from glasspane.store import open_store
from glasspane.store.api import Store
from glasspane.store.retention import parse_retention

DEFAULT_PROJECT = "default"
TOKEN_FILE = "admin-token"


def load_or_create_token(data_dir: Path) -> str:
    """The admin token in ``DIR/admin-token`` (mode 0600), created on first start."""
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token


#: Seconds a process trusts its copy of the projects (keys rotated elsewhere).
PROJECTS_MAX_AGE = 5.0


class Instance:
    def __init__(self, config: Config, store: Store | None = None) -> None:
        self.config = config
        data_dir = config.data_path
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot create the data directory {data_dir}: {exc}") from None
        retention_days = parse_retention(config.retention)
        self.store = store or open_store(config.store, data_dir, retention_days)
        self.admin_token = load_or_create_token(data_dir)
        #: Source maps uploaded by sentry-cli, and the mapping of frames through them.
        self.bundles = BundleStore(
            data_dir / "sourcemaps", config.sourcemap_max_bundle_size, config.sourcemap_chunk_size
        )
        self.sourcemaps = SourceMapper(self.bundles, config.sourcemap_cache_size)
        self.bundle_retention = BundleSweep(self.bundles, retention_days)
        #: Users, personal tokens, sessions and the audit log.
        self.accounts = Accounts(self.store, self.admin_token)
        self._lock = threading.Lock()
        self._by_key: dict[str, Project] = {}
        self._by_id: dict[int, Project] = {}
        self._loaded_at = 0.0
        #: Called with the projects whenever they were read anew (ingest workers' copy).
        self.on_projects_changed: Callable[[list[Project]], None] | None = None
        self._reload_projects()
        if DEFAULT_PROJECT not in {p.name for p in self._by_id.values()}:
            self.create_project(DEFAULT_PROJECT)
        self.alerts = AlertEngine(
            self.store,
            Path(config.alerts) if config.alerts else data_dir / "alerts.yaml",
            config.alert_interval,
            config.base_url,
            config.alert_retry_delay,
        )

    def _reload_projects(self) -> None:
        projects = self.store.list_projects()
        with self._lock:
            self._by_id = {p.id: p for p in projects}
            self._by_key = {p.public_key: p for p in projects}
            self._loaded_at = time.monotonic()
        if self.on_projects_changed is not None:
            self.on_projects_changed(projects)

    def _fresh(self, missed: bool = False) -> None:
        """Re-read projects that other processes sharing the store may have changed:
        every few seconds, and on an unknown key (at most four times a second, so
        random keys cannot turn into a query each)."""
        age = time.monotonic() - self._loaded_at
        if age > PROJECTS_MAX_AGE or (missed and age > 0.25):
            self._reload_projects()

    # -- projects --------------------------------------------------------
    def create_project(self, name: str) -> Project:
        name = name.strip()
        if not name or len(name) > 100 or any(c in name for c in "/\\\n\r\t"):
            raise ProtocolError(
                "A project name must be 1-100 characters without slashes or line breaks"
            )
        if any(p.name == name for p in self.projects()):
            raise Conflict(f"A project named {name!r} already exists; choose another name")
        project = self.store.create_project(
            name, secrets.token_hex(16), self.config.apdex_threshold_ms
        )
        self._reload_projects()
        return project

    def set_apdex_threshold(self, project_id: int, threshold_ms: float) -> Project:
        if not 0 < threshold_ms <= 3_600_000:
            raise ProtocolError("apdex_threshold_ms must be more than 0 and at most 3600000")
        project = self.store.set_apdex_threshold(project_id, threshold_ms)
        if project is None:
            raise NotFound(f"There is no project {project_id}; see GET /api/v1/projects")
        self._reload_projects()
        return project

    def detector_thresholds(self) -> dict[int, dict[str, dict[str, float | bool]]]:
        """Each project's own performance detector thresholds, by project id."""
        return self.store.detector_thresholds()

    def set_detector_thresholds(self, project_id: int, changes: Any) -> dict[str, Any]:
        """Change a project's detector thresholds: each detector named in ``changes``
        takes the thresholds given there (``{}``: its defaults again); returns the
        project's own thresholds now. Bad input is a :class:`ProtocolError`."""
        if project_id not in {p.id for p in self.projects()}:
            raise NotFound(f"There is no project {project_id}; see GET /api/v1/projects")
        try:
            checked = validate_thresholds(changes)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        merged = {**self.store.detector_thresholds().get(project_id, {}), **checked}
        merged = {kind: values for kind, values in merged.items() if values}
        self.store.set_detector_thresholds(project_id, merged)
        return merged

    def rotate_key(self, project_id: int) -> Project:
        """Give the project a new DSN key; the old key is refused from now on (401)."""
        project = self.store.set_public_key(project_id, secrets.token_hex(16))
        if project is None:
            raise NotFound(f"There is no project {project_id}; see GET /api/v1/projects")
        self._reload_projects()
        return project

    def projects(self) -> list[Project]:
        self._fresh()
        with self._lock:
            return sorted(self._by_id.values(), key=lambda p: p.id)

    def project_by_key(self, key: str) -> Project | None:
        self._fresh()
        with self._lock:
            found = self._by_key.get(key)
        if found is None:
            self._fresh(missed=True)
            with self._lock:
                found = self._by_key.get(key)
        return found

    def project_by_id(self, project_id: int) -> Project | None:
        self._fresh()
        with self._lock:
            return self._by_id.get(project_id)

    def write(self, batch: Batch) -> Future[None]:
        """Ingest in this process writes straight to the store."""
        return self.store.write(batch)

    def dsn(self, project: Project) -> str:
        return make_dsn(self.config.base_url, project.public_key, project.id)

    def close(self) -> None:
        self.alerts.stop()
        self.bundle_retention.stop()
        self.store.close()
