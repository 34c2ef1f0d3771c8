"""Running the demo: server, projects, ten service processes, traffic, faults, stop.

Order of start: the local alert receiver, the alert rules file, the server
(or ``--server``), one project per service (created through the API), the ten
service processes (all at once), the demo state (fault and fix), and only then
the traffic.
Order of stop: the traffic, the services, the server — so the last events
land — then the receiver. Stopping runs whatever happened (error, Ctrl-C,
SIGTERM, ``--duration``, ``POST /stop``); a second Ctrl-C kills at once.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glasspane.demo import DemoError, alert_rules, printout, target, webapp
from glasspane.demo.control import ControlServer
from glasspane.demo.faults import FAULTS, NONE, check_fault, check_fix
from glasspane.demo.fleet import Fleet
from glasspane.demo.options import DemoOptions, require_sdk
from glasspane.demo.processes import Child, Supervisor
from glasspane.demo.receiver import Inbox, Notification, Receiver
from glasspane.demo.topology import BROWSER, SERVICES

TICK = 0.5
GLIMPSE_EVERY = 30.0
APDEX_FLOOR_MS = 100.0


class Demo:
    def __init__(self, options: DemoOptions, out: Callable[[str], None]) -> None:
        self.o = options
        self.out = out
        self.workdir = options.data_dir.resolve() / "demo"
        self.supervisor = Supervisor(self.workdir / "logs")
        self.fleet = Fleet(self.supervisor, options, self.workdir)
        self.inbox = Inbox(self._notified)
        self.receiver: Receiver | None = None
        self.control: ControlServer | None = None
        self.api: target.Api | None = None
        self.server: Child | None = None
        self.alerts_api: bool | None = None
        self.alert_states: dict[str, str] = {}
        self.state = {"fault": NONE, "fix": NONE}
        self.traffic_on = False  # the browsers send nothing until every service is up
        self.lock = threading.Lock()
        self.stop_requested = threading.Event()
        self.started = time.monotonic()
        self.schedule: list[tuple[float, str, str]] = []

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        if self.o.control_port and not target.port_is_free(self.o.control_port):
            raise DemoError(f"The control port {self.o.control_port} is taken; pass another")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.receiver = Receiver(self.inbox)
        alerts = self._alerts_file(self.receiver)
        what = f"with glasspane at {self.o.server}" if self.o.server else "glasspane server"
        self.api = self._timed(what, lambda: self._connect(alerts))
        self.alerts_api = target.alert_rules(self.api) is not None
        projects = target.ensure_projects(self.api, [s.name for s in SERVICES])
        for spec in SERVICES:  # at high --speed, real overheads stop shrinking: a floor
            threshold = max(spec.apdex_ms / self.o.speed, APDEX_FLOOR_MS)
            target.set_apdex(self.api, projects[spec.name], threshold)
        dsns = {name: project["dsn"] for name, project in projects.items()}
        self.fleet.webapp = webapp.prepare(self.workdir / "webapp")
        if not self.fleet.webapp.ready:
            self.out(f"  no session replays: {self.fleet.webapp.missing}")
        self._timed(f"{len(SERVICES)} services, one process each", lambda: self.fleet.start(dsns))
        self._initial_state()
        self.traffic_on = True
        self._broadcast()
        self.started = time.monotonic()
        try:
            self.control = ControlServer(self, self.o.control_port)
        except OSError as exc:
            raise DemoError(f"Cannot listen on control port {self.o.control_port}: {exc}") from None
        self.out("")
        self.out(printout.banner(self._setup(alerts, dsns)))
        self.out("")

    def _timed(self, what: str, step: Callable[[], Any]) -> Any:
        self.out(f"  {'connecting' if what.startswith('with') else 'starting'} {what} ...")
        began = time.monotonic()
        result = step()
        self.out(f"  ... ready in {time.monotonic() - began:.1f} s")
        return result

    def _alerts_file(self, receiver: Receiver) -> Path:
        if self.o.alerts is not None:
            return self.o.alerts.resolve()
        path = self.workdir / "alerts.yaml"
        return alert_rules.write(path, receiver.url, receiver.smtp_port, self.o.speed)

    def _connect(self, alerts: Path) -> target.Api:
        if self.o.server:
            api = target.Api(self.o.server, target.token_for(self.o.token, self.o.data_dir))
            api.json("GET", "/api/v1/projects")  # reachable, and the token is right
            return api
        interval = max(1.0, 30.0 / self.o.speed)
        data_dir = self.o.data_dir.resolve()
        self.server = target.start_server(self.supervisor, data_dir, self.o.port, alerts, interval)
        return target.Api(self.server.url or "", target.token_for(None, data_dir))

    def _initial_state(self) -> None:
        for kind, name, after in (
            ("fault", self.o.fault, self.o.fault_after),
            ("fix", self.o.fix, self.o.fix_after),
        ):
            if name == NONE:
                continue
            if after > 0:
                self.schedule.append((after, kind, name))
            else:
                self.state[kind] = name

    # -- switching faults and the fix (the control port, typed commands, schedule) -------
    def _broadcast(self) -> None:
        with self.lock:
            state = {**self.state, "traffic": "on" if self.traffic_on else "off"}
        for problem in self.fleet.tell(state):
            self.out(f"  !! {problem}")

    def set_fault(self, name: str) -> dict[str, Any]:
        check_fault(name)
        with self.lock:
            self.state["fault"] = name
        self._broadcast()
        self.out(f"  ** fault is now {name}: {FAULTS[name].summary}")
        return dict(self.state)

    def set_fix(self, name: str) -> dict[str, Any]:
        check_fix(name)
        with self.lock:
            self.state["fix"] = name
        self._broadcast()
        self.out(f"  ** fix is now {name}")
        return dict(self.state)

    def set_chain(self, knobs: dict[str, Any]) -> dict[str, Any]:
        result = self.fleet.chain_knobs(knobs)
        self.out(f"  ** chain knobs changed: {knobs}")
        return result

    def request_stop(self) -> dict[str, Any]:
        self.stop_requested.set()
        return {"stopping": True}

    def status(self) -> dict[str, Any]:
        children = [*([self.server] if self.server else []), *self.fleet.children.values()]
        return {
            **self.state,
            "elapsed": time.monotonic() - self.started,
            "speed": self.o.speed,
            "rate_per_min": self.o.rate,
            "sample_rate": self.o.sample_rate,
            "server": self.api.url if self.api else None,
            "traffic": self.fleet.traffic(),
            "processes": [
                {"name": c.name, "pid": c.pid, "alive": c.alive, "url": c.url} for c in children
            ],
            "logs": str(self.supervisor.log_dir),
            "alerts": {
                "api": self.alerts_api,
                "receiver": self.receiver.url if self.receiver else None,
                "notifications": self.inbox.items(),
            },
        }

    # -- running -----------------------------------------------------------------------
    def loop(self) -> None:
        self._read_commands()
        deadline = self.started + self.o.duration if self.o.duration else None
        next_progress = self.started + self.o.progress
        next_glimpse = self.started + GLIMPSE_EVERY
        while not self.stop_requested.wait(TICK):
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                self.out(f"  ** {printout.clock(self.o.duration or 0)} is up (--duration)")
                return
            self._run_schedule(now - self.started)
            dead = self.supervisor.dead()
            if dead:
                raise DemoError(f"{dead[0].name} exited unexpectedly:\n{dead[0].tail()}")
            if self.o.progress > 0 and now >= next_progress:
                next_progress += self.o.progress
                self._progress()
            if now >= next_glimpse:
                next_glimpse += GLIMPSE_EVERY
                self._glimpse()

    def _progress(self) -> None:
        elapsed = time.monotonic() - self.started
        self.out(printout.progress(elapsed, self.fleet.traffic(), **self.state))

    def _run_schedule(self, elapsed: float) -> None:
        due = [item for item in self.schedule if item[0] <= elapsed]
        self.schedule = [item for item in self.schedule if item[0] > elapsed]
        for _, kind, name in due:
            (self.set_fault if kind == "fault" else self.set_fix)(name)

    def _glimpse(self) -> None:
        if self.api is None:
            return
        try:  # since the start (at most 15m), so throughput reads as the real rate
            seconds = min(time.monotonic() - self.started, 900.0)
            params = {"period": f"{seconds:.0f}s"}
            rows = self.api.json("GET", "/api/v1/transactions", params=params)["transactions"]
            services = self.api.json("GET", "/api/v1/services", params=params)["services"]
            rules = target.alert_rules(self.api) if self.alerts_api else None
        except DemoError:
            return
        line = printout.glimpse(rows, services)
        if line:
            self.out(line)
        for rule in rules or []:
            state = str(rule.get("state"))
            if self.alert_states.get(rule["name"], "ok") != state:
                self.out(f"  ** alert {rule['name']!r} is {state} (value {rule.get('value')})")
            self.alert_states[rule["name"]] = state

    def _read_commands(self) -> None:
        if not sys.stdin or not sys.stdin.isatty():
            return
        threading.Thread(target=self._commands, name="commands", daemon=True).start()

    def _commands(self) -> None:
        for line in sys.stdin:  # ends at EOF; a daemon thread, so it never holds up exit
            words = line.split()
            try:
                if words[:1] in (["quit"], ["stop"], ["exit"]):
                    self.request_stop()
                    return
                if len(words) == 2 and words[0] == "fault":
                    self.set_fault(words[1])
                elif len(words) == 2 and words[0] == "fix":
                    self.set_fix(words[1])
                elif words[:1] == ["status"]:
                    self._progress()
                elif words:
                    self.out("  commands: fault NAME · fix NAME · status · quit")
            except ValueError as exc:
                self.out(f"  {exc}")

    def _notified(self, item: Notification) -> None:
        self.out(printout.notification(item.channel, item.summary))

    # -- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
        try:
            self.fleet.stop()
            if self.server is not None:
                self.supervisor.stop([self.server], timeout=30)
        except KeyboardInterrupt:
            self.out("  ** second Ctrl-C: killing every process now")
        finally:
            self.supervisor.kill_all()
            for closable in (self.receiver, self.api, self.fleet):
                if closable is not None:
                    closable.close()
        self._summary()

    def _summary(self) -> None:
        count = len(self.supervisor.children)
        if not count:
            return
        t = self.fleet.last_traffic
        self.out(
            f"glasspane demo stopped {count} processes. Uploads: {t.get('started', 0)} "
            f"(ok {t.get('ok', 0)}, failed {t.get('failed', 0)})."
        )
        if self.server is not None:
            data = self.o.data_dir.resolve()
            self.out(
                f"The data stays in {data}: `glasspane serve --data-dir {data}` shows it again."
            )

    def _setup(self, alerts: Path, dsns: dict[str, str]) -> printout.Setup:
        server_note = (
            "given with --server"
            if self.server is None
            else f"started here, data in {self.o.data_dir.resolve()}"
        )
        children = self.fleet.children
        return printout.Setup(
            server_url=self.api.url if self.api else "",
            token=self.api.token if self.api else "",
            server_note=server_note,
            log_dir=str(self.supervisor.log_dir),
            rate=self.o.rate,
            users=self.o.users,
            sample_rate=self.o.sample_rate,
            speed=self.o.speed,
            services=[
                printout.ServiceLine(
                    s.name,
                    s.role,
                    "" if s.name == BROWSER else self.fleet.urls[s.name],
                    children[s.name].pid,
                    dsns[s.name],
                )
                for s in SERVICES
            ],
            fault=self.o.fault,
            fault_after=self.o.fault_after,
            fix=self.o.fix,
            fix_after=self.o.fix_after,
            control_url=self.control.url if self.control else "",
            alerts_file=str(alerts),
            receiver_url=self.receiver.url if self.receiver else "",
            smtp_port=self.receiver.smtp_port if self.receiver else 0,
            alerts_api=self.alerts_api,
            duration=self.o.duration,
            replays=self._replays_line(),
        )

    def _replays_line(self) -> str:
        app = self.fleet.webapp
        if not app.ready:
            return f"none: {app.missing}"
        page = f"{self.fleet.urls['frontend-worker']}/documents"
        return (
            f"users one at a time in real Chromium ({app.chromium}) open {page} "
            "with @sentry/browser and Session Replay"
        )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_demo(options: DemoOptions, out: Callable[[str], None] = print) -> int:
    """Run until Ctrl-C, SIGTERM, ``--duration`` or ``POST /stop``; 0 when it ended so."""
    try:
        options.check()
    except ValueError as exc:
        raise DemoError(str(exc)) from None
    require_sdk()
    demo = Demo(options, out)
    # SIGINT too: a shell starts background jobs with it ignored, and Ctrl-C must stop us.
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, _interrupt) for sig in signals}
    try:
        demo.start()
        demo.loop()
    except KeyboardInterrupt:
        out("  ** stopping")
    finally:
        try:
            demo.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0
