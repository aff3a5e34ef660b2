"""Validate recorded Datadog exchanges: v1 against the official OpenAPI description, v2
(downtimes) against the installed `datadog_api_client.v2` models and the recorded cassettes.

- `validate_v1_exchange(exchange)` checks a request the SDK sent and the answer the
  simulator gave with openapi-core against `datadog-v1.yaml` (read from the shared specs
  folder, never edited; the few changes the validated copy needs are applied below as
  code, one function and one comment each).
- `strict_v2(body, model)` deserializes a v2 JSON body with the SDK's own deserializer and
  refuses what it had to leave unparsed (wrong types, unknown enum values) and any key the
  model does not know, unless the real API was recorded sending it too.
- `cassette(name)` and `shape(value)` read the VCR recordings and reduce a JSON value to its
  key paths and value kinds, so simulator answers can be compared with real ones.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import yaml
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    ModelSimple,
    OpenApiModel,
)
from openapi import (
    ContractError,
    OpenAPIRequest,
    OpenAPIResponse,
    RecordedExchange,
    schema_errors,
    specs_dir,
)
from openapi_core import Config, OpenAPI

SPEC_FILE = "datadog-v1.yaml"
CASSETTES = "datadog-recorded"
SERVER_URL = "https://api.ddog-gov.com"
"""A real site of the description's `https://{subdomain}.{site}` server."""
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


# --------------------------------------------------------------------------- v1 spec


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield path, method, operation


SERVER_ERRORS_ADDED: list[str] = []
"""`METHOD path` of every operation `_declare_server_errors` had to give a 500."""


def _declare_server_errors(spec: dict[str, Any]) -> None:
    # No monitor operation declares a 5xx answer, but the API answers failures with 500
    # and the usual `{"errors": [...]}` body (the simulator's "500" fault mode does the
    # same): accept that body for 500 wherever it is not declared. Datadog's edge answers
    # 502 and 503 in JSON too, with the same `errors` list beside a few more keys
    # (`status`, `code`, `statuspage`...; DataDog/documentation#9470): accept those too.
    def error(description: str) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/APIErrorResponse"}
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    for path, method, operation in _operations(spec):
        responses = operation.setdefault("responses", {})
        if "500" not in responses:
            responses["500"] = error("Internal Server Error")
            SERVER_ERRORS_ADDED.append(f"{method.upper()} {path}")
        responses.setdefault("502", error("Bad Gateway"))
        responses.setdefault("503", error("Service Unavailable"))


def patched_datadog_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply every change above to `spec` (in place) and return it."""
    _declare_server_errors(spec)
    return spec


@functools.cache
def load_datadog_spec() -> dict[str, Any]:
    """The patched v1 description (cached; do not mutate)."""
    with (specs_dir() / SPEC_FILE).open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return patched_datadog_spec(loaded)


@functools.cache
def datadog_openapi() -> OpenAPI:
    # Checking the 1.6 MB description itself with openapi-spec-validator takes long and
    # proves nothing about our traffic; the exchanges are what is validated.
    return OpenAPI.from_dict(load_datadog_spec(), config=Config(spec_validator_cls=None))


def _describe(errors: Iterator[BaseException]) -> list[str]:
    lines = []
    for error in errors:
        lines.append(f"{type(error).__name__}: {error}")
        for detail in schema_errors(error):
            where = "/".join(str(part) for part in detail.absolute_path) or "<root>"
            lines.append(f"    at {where}: {str(detail.message)[:300]}")
    return lines


def validate_v1_exchange(exchange: RecordedExchange) -> None:
    """Raise `ContractError` unless the request and the answer fit `datadog-v1.yaml`."""
    request = OpenAPIRequest(exchange.request, SERVER_URL)
    problems = [
        f"request: {line}" for line in _describe(datadog_openapi().iter_request_errors(request))
    ]
    problems += [
        f"response: {line}"
        for line in _describe(
            datadog_openapi().iter_response_errors(request, OpenAPIResponse(exchange.response))
        )
    ]
    if problems:
        recorded = exchange.request
        body = exchange.response.body[:400].decode("utf-8", "replace")
        raise ContractError(
            f"{recorded.method} {recorded.path} -> {exchange.response.status} breaks the "
            "Datadog v1 description:\n"
            + "\n".join(f"  {line}" for line in problems)
            + f"\n  response body starts: {body}"
        )


# --------------------------------------------------------------------------- cassettes


@functools.cache
def _cassette(name: str) -> tuple[dict[str, Any], ...]:
    path = specs_dir() / CASSETTES / f"{name}.yaml"
    with path.open(encoding="utf-8") as handle:
        return tuple(yaml.safe_load(handle)["interactions"])


def cassette(name: str) -> list[dict[str, Any]]:
    """The recorded interactions of one cassette (`v2-test_...`), bodies parsed as JSON."""
    interactions = []
    for raw in _cassette(name):
        request = dict(raw["request"])
        response = dict(raw["response"])
        request["json"] = json.loads(request["body"]) if request.get("body") else None
        text = response["body"]["string"]
        response["json"] = json.loads(text) if text.strip() else None
        interactions.append({"request": request, "response": response})
    return interactions


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape(value: Any, path: str = "") -> dict[str, set[str]]:
    """Key path (list items as `[]`) -> the kinds of value found there."""
    found: dict[str, set[str]] = {path or "<root>": {_kind(value)}}
    if isinstance(value, dict):
        for key, item in value.items():
            for sub, kinds in shape(item, f"{path}.{key}").items():
                found.setdefault(sub, set()).update(kinds)
    elif isinstance(value, list):
        for item in value:
            for sub, kinds in shape(item, f"{path}[]").items():
                found.setdefault(sub, set()).update(kinds)
    return found


# --------------------------------------------------------------------------- v2 models


def _client() -> ApiClient:
    configuration = Configuration(api_key={"apiKeyAuth": "-", "appKeyAuth": "-"})
    return ApiClient(configuration)


def _unparsed(model: Any) -> bool:
    return bool(getattr(model, "_unparsed", False))


def _unknown_keys(value: Any, types: tuple[Any, ...], path: str, out: list[str]) -> None:
    """Paths in `value` that none of `types` (SDK `openapi_types` entries) declares."""
    if value is None:
        return
    for kind in types:
        if isinstance(kind, list) and isinstance(value, list):
            for item in value:
                _unknown_keys(item, tuple(kind), f"{path}[]", out)
            return
        if isinstance(kind, type) and issubclass(kind, ModelComposed) and isinstance(value, dict):
            # oneOf: the alternative that leaves the fewest keys unknown.
            best: list[str] | None = None
            for choice in kind._composed_schemas.get("oneOf", ()):
                missing: list[str] = []
                _unknown_keys(value, (choice,), path, missing)
                if best is None or len(missing) < len(best):
                    best = missing
            out.extend(best or [])
            return
        if isinstance(kind, type) and issubclass(kind, ModelNormal) and isinstance(value, dict):
            attribute_of = {json_key: name for name, json_key in kind.attribute_map.items()}
            for key, item in value.items():
                if key not in attribute_of:
                    out.append(f"{path}.{key}")
                else:
                    _unknown_keys(item, kind.openapi_types[attribute_of[key]], f"{path}.{key}", out)
            return
        if isinstance(kind, type) and issubclass(kind, ModelSimple):
            return


def strict_v2(body: bytes | str, model: type[OpenApiModel], recorded: Any = None) -> Any:
    """Deserialize `body` as `model` the way the SDK does, refusing anything loose.

    Keys the model does not declare are allowed only where `recorded` (a real answer of the
    same kind, from a cassette) has them too.
    """
    text = body.decode() if isinstance(body, bytes) else body
    parsed = _client().deserialize(text, (model,), True)
    if not isinstance(parsed, model) or _unparsed(parsed):
        raise ContractError(f"not a valid {model.__name__}: {text[:400]}")
    unknown: list[str] = []
    _unknown_keys(json.loads(text), (model,), "", unknown)
    allowed = set(shape(recorded)) if recorded is not None else set()
    extra = [path for path in unknown if path not in allowed]
    if extra:
        raise ContractError(f"{model.__name__} has keys the model does not know: {extra}")
    return parsed


def assert_same_shape(ours: Any, real: Any) -> None:
    """The same key paths, and the same kind of value wherever both are not null (a field
    the recording happens to have null, such as a user's name, may hold a value here)."""
    mine, theirs = shape(ours), shape(real)
    if set(mine) != set(theirs):
        raise ContractError(
            f"key paths differ: only here {sorted(set(mine) - set(theirs))}, "
            f"only recorded {sorted(set(theirs) - set(mine))}"
        )
    for path, kinds in theirs.items():
        if kinds - {"null"} and mine[path] - {"null"} and kinds - {"null"} != mine[path] - {"null"}:
            raise ContractError(f"{path}: {sorted(mine[path])} here, recorded {sorted(kinds)}")
