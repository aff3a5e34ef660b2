"""Validate recorded HTTP exchanges against PagerDuty's official OpenAPI description.

`validate_pagerduty_exchange(exchange)` takes one item of `Simulator.exchanges` and checks
the request (what a client sent) and the response (what the simulator answered) with
openapi-core, raising `ContractError` with a readable list of what broke.

The description is `pagerduty-rest-v2.json` from the shared `specs` folder beside the
repository (or `$ONCALL_SPECS_DIR`), never edited on disk. The copy validated here gets
the documented quirks (specs/README.md, "Known quirks") applied as code below, one
function and one comment per change, so every deviation from the published file is visible.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_FILE = "pagerduty-rest-v2.json"
SERVER_URL = "https://api.pagerduty.com"
"""The description's server; recorded paths (prefix already removed) are matched under it."""
VENDOR_MEDIA_TYPE = "application/vnd.pagerduty+json;version=2"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
CONTENT_TYPE_REF = "#/components/parameters/header_Content-Type"


class ContractError(AssertionError):
    """A request or response that breaks the description."""


class RecordedRequest(Protocol):
    """What the helper reads from a recorded request (`oncall_tui.simulator.SimRequest`)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def query(self) -> Any: ...

    @property
    def headers(self) -> Any: ...

    @property
    def body(self) -> bytes: ...


class RecordedResponse(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def body(self) -> bytes: ...


class RecordedExchange(Protocol):
    @property
    def request(self) -> RecordedRequest: ...

    @property
    def response(self) -> RecordedResponse: ...


def specs_dir() -> Path:
    """The shared specs folder: `$ONCALL_SPECS_DIR`, else `shared/specs` beside the repo."""
    override = os.environ.get("ONCALL_SPECS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "specs"


# --------------------------------------------------------------------------- quirks


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield path, method, operation


def _parameters(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every parameter object, shared and inline."""
    yield from spec["components"].get("parameters", {}).values()
    for item in spec["paths"].values():
        for parameter in item.get("parameters", []):
            if "$ref" not in parameter:
                yield parameter
    for _, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            if "$ref" not in parameter:
                yield parameter


def _response_objects(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec["components"].get("responses", {}).values()
    for _, _, operation in _operations(spec):
        for response in operation.get("responses", {}).values():
            if "$ref" not in response:
                yield response


def _drop_examples(node: Any, *, property_names: bool = False) -> None:
    # Examples never take part in validation, and several break their own schemas (log
    # entries' `channel` and `type`); drop them rather than carry known-bad data. (The
    # file is loaded without openapi-spec-validator, which would reject it anyway for an
    # unrelated bad default: '20 - incident_summary' declared as an integer.)
    if isinstance(node, dict):
        if not property_names:  # in a `properties` map, "example" is a property's name
            node.pop("example", None)
            node.pop("examples", None)
        for key, value in node.items():
            _drop_examples(value, property_names=key == "properties" and not property_names)
    elif isinstance(node, list):
        for value in node:
            _drop_examples(value)


def _content_type_only_with_a_body(spec: dict[str, Any]) -> None:
    # Every operation marks the Content-Type header required, GET included; the real API
    # and the SDK send none without a body. Keep the requirement only where there is one.
    for _, _, operation in _operations(spec):
        if "requestBody" in operation:
            continue
        operation["parameters"] = [
            parameter
            for parameter in operation.get("parameters", [])
            if parameter.get("$ref") != CONTENT_TYPE_REF
            and not (parameter.get("in") == "header" and parameter.get("name") == "Content-Type")
        ]


def _vendor_media_type(spec: dict[str, Any]) -> None:
    # Responses are described as application/json, while the API answers the SDK's
    # `Accept: application/vnd.pagerduty+json;version=2` in that vendor type: accept it
    # with the same schema.
    for response in _response_objects(spec):
        content = response.get("content", {})
        if "application/json" in content and VENDOR_MEDIA_TYPE not in content:
            content[VENDOR_MEDIA_TYPE] = dict(content["application/json"])


def _bracket_parameters_are_arrays(spec: dict[str, Any]) -> int:
    # Query parameters named like `statuses[]` repeat (`statuses[]=a&statuses[]=b`), but 34
    # of them are typed as a plain string: treat them as arrays of that type.
    changed = 0
    for parameter in _parameters(spec):
        name = parameter.get("name", "")
        schema = parameter.get("schema", {})
        if parameter.get("in") == "query" and name.endswith("[]") and schema.get("type") != "array":
            items = {key: value for key, value in schema.items() if key != "uniqueItems"}
            parameter["schema"] = {"type": "array", "items": items}
            if schema.get("uniqueItems"):
                parameter["schema"]["uniqueItems"] = True
            parameter["style"] = "form"
            parameter["explode"] = True
            changed += 1
    return changed


def _acknowledge_log_entry_type(spec: dict[str, Any]) -> None:
    # AcknowledgeLogEntry narrows `type` to "acknowledgement_log_entry", which its own base
    # (LogEntry) does not allow; the API and the base say "acknowledge_log_entry".
    schema = spec["components"]["schemas"]["AcknowledgeLogEntry"]
    schema["allOf"][1]["properties"]["type"]["enum"] = ["acknowledge_log_entry"]


def _channel_any_of(spec: dict[str, Any]) -> None:
    # Channel is a oneOf of five variants whose properties are all optional, so any channel
    # matches several of them and oneOf can never pass: anyOf is what it means.
    schema = spec["components"]["schemas"]["Channel"]
    schema["anyOf"] = schema.pop("oneOf")


def _oncall_user_may_be_full(spec: dict[str, Any]) -> None:
    # GET /oncalls with include[]=users returns full user objects (type "user"), which
    # the description's UserReference (type "user_reference") does not admit.
    properties = spec["components"]["schemas"]["Oncall"]["properties"]
    properties["user"] = {
        "oneOf": [
            {"$ref": "#/components/schemas/UserReference"},
            {"$ref": "#/components/schemas/User"},
        ]
    }


def _references_are_writable(spec: dict[str, Any]) -> None:
    # Every reference (UserReference, EscalationPolicyReference, ...) inherits `id` and
    # `type` marked readOnly from a shared base, so a request body naming an assignee or a
    # policy by reference (as the API requires) could never validate. Writable they are.
    base = spec["components"]["schemas"]["Tag"]["allOf"][0]["properties"]
    for name in ("id", "type"):
        base[name].pop("readOnly", None)


def _declare_real_error_answers(spec: dict[str, Any]) -> None:
    # The API authenticates and rate-limits every call, but some operations do not declare
    # 401 or 429 (GET /users/me declares neither 401); and PUT /incidents/{id} answers 400
    # (no `From` header, invalid body) without declaring it.
    for _, _, operation in _operations(spec):
        responses = operation.setdefault("responses", {})
        responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
        responses.setdefault("429", {"$ref": "#/components/responses/TooManyRequests"})
    update = spec["paths"]["/incidents/{id}"]["put"]["responses"]
    update.setdefault("400", {"$ref": "#/components/responses/ArgumentError"})


def patched_pagerduty_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply every quirk above to `spec` (in place) and return it."""
    _drop_examples(spec)
    _content_type_only_with_a_body(spec)
    _vendor_media_type(spec)
    _bracket_parameters_are_arrays(spec)
    _acknowledge_log_entry_type(spec)
    _channel_any_of(spec)
    _oncall_user_may_be_full(spec)
    _references_are_writable(spec)
    _declare_real_error_answers(spec)
    return spec


@functools.cache
def load_pagerduty_spec() -> dict[str, Any]:
    """The patched description (cached; do not mutate)."""
    path = specs_dir() / SPEC_FILE
    with path.open(encoding="utf-8") as handle:
        return patched_pagerduty_spec(json.load(handle))


@functools.cache
def pagerduty_openapi() -> OpenAPI:
    config = Config(
        # The published file does not pass openapi-spec-validator (see _drop_examples).
        spec_validator_cls=None,
        extra_media_type_deserializers={
            "application/vnd.pagerduty+json": json_loads,
            VENDOR_MEDIA_TYPE: json_loads,
        },
    )
    return OpenAPI.from_dict(load_pagerduty_spec(), config=config)


# --------------------------------------------------------------------------- adapters


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in headers.items()]


def _content_type(headers: Any) -> str:
    for name, value in _header_pairs(headers):
        if name.lower() == "content-type":
            return value.lower()
    return ""


class OpenAPIRequest:
    """A recorded request in the shape openapi-core reads, matched under `host_url`."""

    def __init__(self, recorded: RecordedRequest, host_url: str = SERVER_URL) -> None:
        self.host_url = host_url
        self.path = recorded.path
        self.method = recorded.method.lower()
        self.body: bytes | None = recorded.body or None
        self.content_type = _content_type(recorded.headers)
        pairs = [(name, value) for name, values in recorded.query.items() for value in values]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(pairs),
            header=Headers(_header_pairs(recorded.headers)),
            cookie=ImmutableMultiDict(),
        )


class OpenAPIResponse:
    """A recorded response as openapi-core reads it."""

    def __init__(self, recorded: RecordedResponse) -> None:
        self.status_code = recorded.status
        self.headers = Headers(_header_pairs(recorded.headers))
        self.content_type = _content_type(recorded.headers)
        self.data: bytes | None = recorded.body


# --------------------------------------------------------------------------- validation


def schema_errors(error: BaseException) -> list[Any]:
    """The jsonschema errors behind an openapi-core error, wherever they hang."""
    seen: list[Any] = []
    current: BaseException | None = error
    while current is not None:
        found = getattr(current, "schema_errors", None)
        if found:
            seen.extend(found)
        current = current.__cause__ or current.__context__
    return seen


def _deepest(error: Any) -> Any:
    # For oneOf/anyOf failures the top message only says "not valid under any of the given
    # schemas"; the most deeply nested sub-error usually names the actual field.
    context = list(getattr(error, "context", None) or [])
    if not context:
        return error
    return max((_deepest(sub) for sub in context), key=lambda e: len(e.absolute_path))


def _describe_schema_error(error: Any) -> str:
    detail = _deepest(error)
    where = "/".join(str(part) for part in detail.absolute_path) or "<root>"
    message = detail.message
    if len(message) > 300:
        message = message[:300] + "..."
    return f"at {where}: {message}"


def _describe(errors: Iterable[BaseException]) -> list[str]:
    lines = []
    for error in errors:
        lines.append(f"{type(error).__name__}: {error}")
        lines.extend(f"    {_describe_schema_error(e)}" for e in schema_errors(error))
    return lines


def request_errors(recorded: RecordedRequest) -> list[str]:
    """What is wrong with a recorded request, one readable line each (empty if valid)."""
    errors = pagerduty_openapi().iter_request_errors(OpenAPIRequest(recorded))
    return _describe(errors)


def response_errors(recorded_request: RecordedRequest, recorded: RecordedResponse) -> list[str]:
    """What is wrong with a recorded response to `recorded_request` (empty if valid)."""
    errors = pagerduty_openapi().iter_response_errors(
        OpenAPIRequest(recorded_request), OpenAPIResponse(recorded)
    )
    return _describe(errors)


def validate_pagerduty_exchange(
    exchange: RecordedExchange, *, request: bool = True, response: bool = True
) -> None:
    """Raise `ContractError` unless the exchange's request and response fit the description."""
    recorded = exchange.request
    problems: list[str] = []
    if request:
        problems += [f"request: {line}" for line in request_errors(recorded)]
    if response:
        problems += [f"response: {line}" for line in response_errors(recorded, exchange.response)]
    if problems:
        query = "&".join(f"{k}={v}" for k, values in recorded.query.items() for v in values)
        target = f"{recorded.method} {recorded.path}" + (f"?{query}" if query else "")
        body = exchange.response.body[:400].decode("utf-8", "replace")
        raise ContractError(
            f"{target} -> {exchange.response.status} breaks the PagerDuty description:\n"
            + "\n".join(f"  {line}" for line in problems)
            + f"\n  response body starts: {body}"
        )
