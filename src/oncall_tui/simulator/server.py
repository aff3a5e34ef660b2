"""The simulator's HTTPS server: TLS, routing by provider prefix, faults, rate limits, recording.

One `ThreadingHTTPServer` on 127.0.0.1, wrapped in TLS with a throw-away `trustme` CA, so
the real SDKs (which insist on https) talk to it through their base-URL settings. Requests
under `/<provider>/` go to that provider's app (`PROVIDER_APPS`); `/_sim/` is the control
API (state, faults, and routes each provider adds, such as PagerDuty's trigger). Every
provider exchange is recorded so contract tests can validate what was really sent and
answered.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Protocol, TextIO, cast, get_args
from urllib.parse import parse_qs, unquote, urlsplit

import trustme

from oncall_tui.domain.clock import SystemClock
from oncall_tui.simulator.world import World

FaultMode = Literal[
    "429", "500", "502", "503", "401", "403", "slow", "truncated", "bad_json", "wrong_shape"
]
"""What an injected fault does to every request of one provider:

- `429`, `500`, `502`, `503`, `401`, `403`: the provider's own answer with that status
  (`ProviderApp.fault_response`); the request is not applied. `401` is "bad credentials",
  `403` "the token lacks a permission" (a rate-limit 403 is GitHub's `429` fault with
  `rate_limit_status` 403).
- `slow`: the real answer, after `delay` seconds (wall clock, to trip client timeouts).
- `truncated`: the real answer (the request *is* applied), status 200, its JSON cut in half;
  the Content-Length is that of the half sent, so the HTTP message is complete and only
  the JSON document ends early (as when a proxy drops the end of a buffered body).
- `bad_json`: the request is applied, then answered 200 with a complete body (full
  Content-Length) that is not JSON: the answer's opening, then garbage, e.g.
  `{"incidents": [oops: not JSON}`.
- `wrong_shape`: the request is applied, then answered 200 with well-formed JSON of the
  wrong shape: every object or array at the top level becomes the string `"oops"`, e.g.
  `{"incidents": "oops", "limit": 100, ...}`; a top-level array becomes `["oops", ...]`.
"""
FAULT_MODES: tuple[str, ...] = get_args(FaultMode)
STATUS_FAULTS = frozenset({"429", "500", "502", "503", "401", "403"})
"""Faults answered by `ProviderApp.fault_response` instead of the request."""
BODY_FAULTS = frozenset({"truncated", "bad_json", "wrong_shape"})
"""Faults that spoil the body of the real answer (the request itself is applied)."""
DEFAULT_TOKENS: Mapping[str, str] = {
    "pagerduty": "sim-pd-token",
    "datadog": "sim-dd-api-key",
    "github": "sim-gh-token",
}
DEFAULT_SLOW_DELAY = 5.0
DEFAULT_RETRY_AFTER = 2
CA_FILENAME = "oncall-sim-ca.pem"
ConfigValue = str | int | bool | list[str | dict[str, str]]


class Headers(Mapping[str, str]):
    """HTTP headers: case-insensitive lookups, original spelling kept for iteration."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterator[tuple[str, str]] | None = None) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        pairs = items.items() if isinstance(items, Mapping) else (items or ())
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"

    def merged(self, extra: Mapping[str, str], *, override: bool = True) -> Headers:
        """A copy with `extra` added; `override=False` keeps the values already set."""
        result = Headers(self)
        for name, value in extra.items():
            if override or name not in result:
                result._items[name.lower()] = (name, value)
        return result


@dataclass(frozen=True, slots=True)
class SimRequest:
    """A request as the simulator received it, `path` without the provider prefix."""

    provider: str
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Headers
    body: bytes
    raw_path: str = ""
    """Path and query exactly as sent, prefix included (for messages)."""

    def json(self) -> Any:
        """The body decoded as JSON (raises ValueError if it is not JSON)."""
        return json.loads(self.body or b"null")

    def first(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class SimResponse:
    status: int
    headers: Headers
    body: bytes

    @classmethod
    def json_body(
        cls,
        status: int,
        payload: Any,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> SimResponse:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, Headers({"Content-Type": content_type, **(headers or {})}), body)

    def json(self) -> Any:
        return json.loads(self.body)

    def with_headers(self, extra: Mapping[str, str], *, override: bool = True) -> SimResponse:
        return SimResponse(self.status, self.headers.merged(extra, override=override), self.body)


class Exchange(NamedTuple):
    """One recorded request and the answer it got."""

    request: SimRequest
    response: SimResponse


@dataclass(frozen=True, slots=True)
class RateState:
    """Where a provider's request budget stands after counting the current request."""

    limit: int
    remaining: int
    reset: int
    """Whole seconds until the window resets."""
    exceeded: bool


@dataclass(slots=True)
class _RateWindow:
    limit: int
    window: float = 60.0
    started: datetime | None = None
    used: int = 0

    def hit(self, now: datetime) -> RateState:
        if self.started is None or (now - self.started).total_seconds() >= self.window:
            self.started = now
            self.used = 0
        self.used += 1
        elapsed = (now - self.started).total_seconds()
        reset = max(1, math.ceil(self.window - elapsed))
        remaining = max(0, self.limit - self.used)
        return RateState(self.limit, remaining, reset, self.used > self.limit)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a provider app needs to answer one request."""

    world: World
    base_url: str
    """The provider's base URL on this simulator, e.g. `https://127.0.0.1:PORT/pagerduty`."""
    token: str
    now: datetime
    rate: RateState


ControlHandler = Callable[[SimRequest, RequestContext], SimResponse]


class ProviderApp(Protocol):
    """One provider's API, served under `/<name>/`."""

    name: str
    rate_limit: int
    """Requests per minute before the provider answers 429 on its own."""

    def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        """Answer a request (authentication included), in the provider's own format."""
        ...

    def fault_response(self, mode: str, ctx: RequestContext, retry_after: int) -> SimResponse:
        """The provider's answer for a status fault (`STATUS_FAULTS`): `"429"` (rate
        limited, `retry_after` seconds), `"500"`, `"502"`, `"503"`, `"401"` (bad
        credentials) or `"403"` (the token lacks a permission), in the provider's format
        (or its gateway's, for 502 and 503)."""
        ...

    def rate_limit_headers(self, state: RateState) -> dict[str, str]:
        """Rate-limit headers the provider puts on every answer."""
        ...

    def control_routes(self) -> Mapping[tuple[str, str], ControlHandler]:
        """Extra `/_sim/...` routes, keyed by (method, path)."""
        ...

    def config_section(self, simulator: Simulator, ca_bundle: Path) -> dict[str, ConfigValue]:
        """The cockpit config section pointing at this simulator (for `run_standalone`)."""
        ...


def default_apps() -> list[ProviderApp]:
    """The providers a Simulator serves unless told otherwise: add Datadog and GitHub here."""
    # Imported here because the provider modules import this module's HTTP types.
    from oncall_tui.simulator.datadog import DatadogApp
    from oncall_tui.simulator.github import GitHubApp
    from oncall_tui.simulator.pagerduty import PagerDutyApp

    return [PagerDutyApp(), DatadogApp(), GitHubApp()]


@dataclass(slots=True)
class Fault:
    """An injected failure for one provider; `remaining=None` lasts until cleared."""

    mode: FaultMode
    remaining: int | None = None
    retry_after: int | None = None
    delay: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "count": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }


class Simulator:
    """The fake provider APIs, served over HTTPS on 127.0.0.1 from a daemon thread."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        *,
        ca_dir: Path | None = None,
        max_exchanges: int = 2000,
        apps: list[ProviderApp] | None = None,
        rate_limits: bool = True,
    ) -> None:
        self.world = world
        self.host = host
        self._requested_port = port
        self.tokens: dict[str, str] = {**DEFAULT_TOKENS, **(tokens or {})}
        self._apps: dict[str, ProviderApp] = {app.name: app for app in (apps or default_apps())}
        self._ca_dir = ca_dir
        self._rate_limits = rate_limits
        self._control: dict[tuple[str, str], tuple[str | None, ControlHandler]] = {
            ("GET", "/_sim/state"): (None, self._control_state),
            ("GET", "/_sim/faults"): (None, self._control_get_faults),
            ("POST", "/_sim/faults"): (None, self._control_set_faults),
        }
        for app in self._apps.values():
            for key, handler in app.control_routes().items():
                self._control[key] = (app.name, handler)
        self._meta_lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._counts: dict[str, int] = dict.fromkeys(self._apps, 0)
        self._windows = {name: _RateWindow(app.rate_limit) for name, app in self._apps.items()}
        self._exchanges: deque[Exchange] = deque(maxlen=max_exchanges)
        self._server: _TLSServer | None = None
        self._bound_port: int | None = None
        self._thread: threading.Thread | None = None
        self._own_dir: Path | None = None
        self._ca_pem_path: Path | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Simulator:
        """Create the CA, bind, and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        # Bind before writing anything, so a busy port leaves no CA directory behind.
        server = _TLSServer((self.host, self._requested_port), self, context)
        if self._ca_dir is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="oncall-sim-"))
            directory = self._own_dir
        else:
            directory = self._ca_dir
            directory.mkdir(parents=True, exist_ok=True)
        self._ca_pem_path = directory / CA_FILENAME
        ca.cert_pem.write_to_path(str(self._ca_pem_path))
        self._server = server
        self._bound_port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"oncall-simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the temporary CA directory (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ public surface

    @property
    def port(self) -> int:
        """The bound port (still known after `stop`, for messages)."""
        if self._bound_port is None:
            raise RuntimeError("the simulator is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """`https://127.0.0.1:PORT` (the host as bound)."""
        return f"https://{self.host}:{self.port}"

    def provider_url(self, provider: str) -> str:
        """Base URL of one provider's API, e.g. the `base_url` for its SDK."""
        if provider not in self._apps:
            raise KeyError(f"unknown provider {provider!r}")
        return f"{self.url}/{provider}"

    @property
    def pagerduty_url(self) -> str:
        return self.provider_url("pagerduty")

    @property
    def ca_pem_path(self) -> Path:
        if self._ca_pem_path is None:
            raise RuntimeError("the simulator is not started")
        return self._ca_pem_path

    @property
    def providers(self) -> list[str]:
        return list(self._apps)

    def app(self, provider: str) -> ProviderApp:
        return self._apps[provider]

    @property
    def request_counts(self) -> dict[str, int]:
        """Provider requests received so far (control API excluded)."""
        with self._meta_lock:
            return dict(self._counts)

    @property
    def exchanges(self) -> list[Exchange]:
        """The most recent provider exchanges, oldest first (bounded)."""
        with self._meta_lock:
            return list(self._exchanges)

    def clear_exchanges(self) -> None:
        with self._meta_lock:
            self._exchanges.clear()

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        with self._meta_lock:
            return {name: fault.as_json() for name, fault in self._faults.items()}

    def set_fault(
        self,
        provider: str,
        mode: str | None,
        count: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Make `provider` fail (`mode`), for the next `count` requests or until cleared.

        `mode=None` clears. Same as `POST /_sim/faults`.
        """
        if provider not in self._apps:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(self._apps)}")
        if mode is not None and mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; known: {', '.join(FAULT_MODES)}")
        if count is not None and count < 1:
            raise ValueError("count must be >= 1")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if delay is not None and delay < 0:
            raise ValueError("delay must be >= 0")
        with self._meta_lock:
            if mode is None:
                self._faults.pop(provider, None)
            else:
                self._faults[provider] = Fault(cast(FaultMode, mode), count, retry_after, delay)

    def clear_faults(self) -> None:
        with self._meta_lock:
            self._faults.clear()

    # ------------------------------------------------------------------ serving

    def serve(self, method: str, raw_path: str, headers: Headers, body: bytes) -> SimResponse:
        """Answer one HTTP request (called from the handler threads)."""
        split = urlsplit(raw_path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        if path == "/_sim" or path.startswith("/_sim/"):
            return self._serve_control(method, path, query, headers, body, raw_path)
        for name in self._apps:
            prefix = f"/{name}"
            if path == prefix or path.startswith(prefix + "/"):
                request = SimRequest(
                    provider=name,
                    method=method,
                    path=path[len(prefix) :] or "/",
                    query=query,
                    headers=headers,
                    body=body,
                    raw_path=raw_path,
                )
                response = self._serve_provider(self._apps[name], request)
                with self._meta_lock:
                    self._exchanges.append(Exchange(request, response))
                return response
        return _control_error(404, f"no provider serves {path}; known: {', '.join(self._apps)}")

    def _take_fault(self, provider: str) -> Fault | None:
        with self._meta_lock:
            self._counts[provider] += 1
            fault = self._faults.get(provider)
            if fault is None:
                return None
            taken = Fault(fault.mode, fault.remaining, fault.retry_after, fault.delay)
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[provider]
            return taken

    def _serve_provider(self, app: ProviderApp, request: SimRequest) -> SimResponse:
        fault = self._take_fault(app.name)
        if fault is not None and fault.mode == "slow":
            # A wall-clock delay on purpose: it exists to exercise client timeouts.
            time.sleep(DEFAULT_SLOW_DELAY if fault.delay is None else fault.delay)
        with self.world.lock:
            now = self.world.tick()
            window = self._windows[app.name]
            state = window.hit(now)
            ctx = RequestContext(
                world=self.world,
                base_url=self.provider_url(app.name),
                token=self.tokens.get(app.name, ""),
                now=now,
                rate=state,
            )
            if fault is not None and fault.mode in STATUS_FAULTS:
                retry_after = fault.retry_after
                if retry_after is None:
                    retry_after = DEFAULT_RETRY_AFTER if fault.mode == "429" else state.reset
                response = app.fault_response(fault.mode, ctx, retry_after)
            elif state.exceeded and self._rate_limits:
                response = app.fault_response("429", ctx, state.reset)
            else:
                try:
                    response = app.handle(request, ctx)
                except Exception:
                    # A simulator bug: answer like the provider's own outage, and say so.
                    traceback.print_exc()
                    response = app.fault_response("500", ctx, state.reset)
            response = response.with_headers(app.rate_limit_headers(state), override=False)
        if fault is not None and fault.mode in BODY_FAULTS:
            response = SimResponse(200, response.headers, spoil_body(fault.mode, response.body))
        return response.with_headers(
            {"Content-Length": str(len(response.body)), "X-Request-Id": uuid.uuid4().hex}
        )

    def _serve_control(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
        raw_path: str,
    ) -> SimResponse:
        route = self._control.get((method, path.rstrip("/") or "/"))
        if route is None:
            known = ", ".join(f"{m} {p}" for m, p in sorted(self._control))
            response = _control_error(404, f"no control route {method} {path}; known: {known}")
        else:
            provider, handler = route
            request = SimRequest(provider or "", method, path, query, headers, body, raw_path)
            with self.world.lock:
                now = self.world.tick()
                ctx = RequestContext(
                    world=self.world,
                    base_url=self.provider_url(provider) if provider else self.url,
                    token=self.tokens.get(provider or "", ""),
                    now=now,
                    rate=RateState(0, 0, 0, False),
                )
                try:
                    response = handler(request, ctx)
                except ValueError as error:
                    response = _control_error(400, str(error))
        return response

    # ------------------------------------------------------------------ control API

    def _control_state(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        state = self.world.snapshot()
        state["request_counts"] = self.request_counts
        state["faults"] = self.faults
        return SimResponse.json_body(200, state)

    def _control_get_faults(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        return SimResponse.json_body(200, {"faults": self.faults})

    def _control_set_faults(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        try:
            payload = request.json()
        except ValueError:
            raise ValueError("the body must be JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(payload) - {"provider", "mode", "count", "retry_after", "delay"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        provider = payload.get("provider")
        mode = payload.get("mode")
        count = payload.get("count")
        retry_after = payload.get("retry_after")
        delay = payload.get("delay")
        if not isinstance(provider, str):
            raise ValueError("provider must be a string")
        if mode is not None and not isinstance(mode, str):
            raise ValueError("mode must be a string or null")
        for name, value in (("count", count), ("retry_after", retry_after)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError(f"{name} must be an integer or null")
        if delay is not None and (not isinstance(delay, int | float) or isinstance(delay, bool)):
            raise ValueError("delay must be a number or null")
        self.set_fault(provider, mode, count=count, retry_after=retry_after, delay=delay)
        return SimResponse.json_body(200, {"faults": self.faults})


def spoil_body(mode: str, body: bytes) -> bytes:
    """The body a body fault (`BODY_FAULTS`) sends instead of `body`."""
    if mode == "truncated":
        return body[: max(1, len(body) // 2)] if body else b'{"'
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if mode == "bad_json":
        if isinstance(data, dict) and data:
            opening = json.dumps({next(iter(data)): []})[:-2].encode()  # b'{"key": ['
        elif isinstance(data, list):
            opening = b"["
        else:
            opening = b"{"
        return opening + b"oops: not JSON}"
    if mode == "wrong_shape":
        shaped: Any
        if isinstance(data, dict):
            shaped = {k: "oops" if isinstance(v, dict | list) else v for k, v in data.items()}
            if shaped == data:
                shaped = dict.fromkeys(data, "oops") if data else "oops"
        elif isinstance(data, list):
            shaped = ["oops"] * max(1, len(data))
        else:
            shaped = "oops"
        return json.dumps(shaped, separators=(",", ":")).encode()
    raise ValueError(f"not a body fault: {mode!r}")


def _control_error(status: int, message: str) -> SimResponse:
    return SimResponse.json_body(status, {"error": message})


class _TLSServer(ThreadingHTTPServer):
    """Threaded HTTP server that does the TLS handshake in each connection's own thread.

    Wrapping the listening socket instead would run handshakes in the accept loop, where one
    slow or failing client stalls everyone.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], simulator: Simulator, context: ssl.SSLContext
    ) -> None:
        self.simulator = simulator
        self.context = context
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        sock = cast(socket.socket, request)
        sock.settimeout(10)
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client hung up or refused our certificate
        try:
            _Handler(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            return  # clients dropping keep-alive connections is normal
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: exchanges are recorded on the Simulator instead."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = Headers(iter(self.headers.items()))
        response = self.server.simulator.serve(self.command, self.path, headers, body)
        self.send_response(response.status)
        sized = response.headers.merged({"Content-Length": str(len(response.body))})
        for name, value in sized.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch


# --------------------------------------------------------------------------- standalone


def _toml_value(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_item(item) for item in value) + "]"
    # A JSON string (ASCII, \uXXXX escapes) is a valid TOML basic string.
    return json.dumps(value)


def _toml_item(item: str | dict[str, str]) -> str:
    if isinstance(item, dict):  # an inline table
        return "{" + ", ".join(f"{key} = {json.dumps(v)}" for key, v in item.items()) + "}"
    return json.dumps(item)


def write_config_file(simulator: Simulator, path: Path) -> tuple[Path, Path]:
    """Write a cockpit config (mode 0600) pointing at `simulator`, with the CA beside it.

    Returns the config path and the CA path. The token is a simulator token, but the file
    is still private: users tend to copy it and fill in real ones.
    """
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    ca_path = path.parent / CA_FILENAME
    shutil.copyfile(simulator.ca_pem_path, ca_path)
    lines = [
        "# Written by the oncall-tui simulator: points the cockpit at it.",
        f"# The simulator answers on {simulator.url}; restart it and this file is rewritten.",
    ]
    for name in simulator.providers:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in simulator.app(name).config_section(simulator, ca_path).items():
            lines.append(f"{key} = {_toml_value(value)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write("\n".join(lines) + "\n")
    return path, ca_path


def run_standalone(
    port: int = 0,
    scenario: str = "default",
    write_config: Path | None = None,
    seed: int = 0,
    *,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Serve a real-clock world until Ctrl-C (or `stop` is set); returns the exit code.

    This is `oncall-tui simulate`: it prints where each provider answers and, with
    `write_config`, writes a config file the cockpit can be started with.
    """
    stream = out or sys.stdout
    try:
        world = World(seed=seed, clock=SystemClock(), scenario=scenario)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    simulator = Simulator(world, host=host, port=port)
    try:
        simulator.start()
    except OSError as error:
        print(f"error: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 1
    waiter = stop or threading.Event()
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.getsignal(signal.SIGTERM) if on_main_thread else None
    if on_main_thread:
        # `kill` (SIGTERM) stops as cleanly as Ctrl-C: the temporary CA is removed.
        signal.signal(signal.SIGTERM, lambda signum, frame: waiter.set())
    exit_code = 0
    try:
        print(
            f"oncall-tui simulator: scenario {world.scenario.name}, seed {seed}, "
            f"listening on {simulator.url}",
            file=stream,
        )
        for name in simulator.providers:
            print(f"  {name}: {simulator.provider_url(name)}", file=stream)
        print(f"  control API: {simulator.url}/_sim/state", file=stream)
        print(f"  CA certificate: {simulator.ca_pem_path}", file=stream)
        if write_config is not None:
            config_path, ca_path = write_config_file(simulator, write_config)
            print(f"wrote {config_path} (mode 0600) and {ca_path}", file=stream)
        print("Press Ctrl-C to stop.", file=stream, flush=True)
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"error: cannot write the config: {error}", file=sys.stderr)
        exit_code = 1
    finally:
        simulator.stop()
        if on_main_thread:
            restore = previous_sigterm if previous_sigterm is not None else signal.SIG_DFL
            signal.signal(signal.SIGTERM, restore)
    print("simulator stopped", file=stream, flush=True)
    return exit_code
