"""Validate GitHub traffic against GitHub's published descriptions.

- REST: `validate_github_exchange(exchange)` checks a recorded request (what PyGithub sent)
  and the simulator's answer against `github-rest-subset.json` with openapi-core.
- GraphQL: `graphql_errors(query)` validates a query against `github-graphql.graphql` with
  graphql-core.

Both files come from the shared `specs` folder (see `openapi.specs_dir`) and are never
edited on disk: the copy validated here gets the changes below, as code, one function and
one comment per change.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLSchema, build_schema, parse, validate
from openapi import (
    HTTP_METHODS,
    ContractError,
    RecordedExchange,
    RecordedRequest,
    RecordedResponse,
    _content_type,
    _describe,
    _header_pairs,
    specs_dir,
)
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

REST_SPEC_FILE = "github-rest-subset.json"
GRAPHQL_SCHEMA_FILE = "github-graphql.graphql"
SERVER_URL = "https://api.github.com"
BASIC_ERROR = {
    "description": "An error GitHub sends for any operation",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}},
}


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield path, method, operation


def _drop_examples(node: Any, *, property_names: bool = False) -> None:
    # Examples never take part in validation, and some break their own schemas (a
    # repository without `language`, pulls whose `requested_teams` lack `type`; README
    # "Known quirks"): drop them rather than carry known-bad data.
    if isinstance(node, dict):
        if not property_names:
            node.pop("example", None)
            node.pop("examples", None)
        for key, value in node.items():
            _drop_examples(value, property_names=key == "properties" and not property_names)
    elif isinstance(node, list):
        for value in node:
            _drop_examples(value)


def _every_get_may_answer_304(spec: dict[str, Any]) -> None:
    # GitHub answers 304 to any conditional GET whose ETag still matches (its docs on
    # conditional requests), but only some operations declare it.
    for _, method, operation in _operations(spec):
        if method == "get":
            operation["responses"].setdefault(
                "304", {"$ref": "#/components/responses/not_modified"}
            )


def _declare_real_error_answers(spec: dict[str, Any]) -> None:
    # Every operation needs a token (401 "Bad credentials"), is rate-limited (403 or 429
    # with retry-after or x-ratelimit-remaining: 0) and can fail (5xx), yet most declare
    # none of these; 404 is what a repository the token cannot see answers.
    for _, _, operation in _operations(spec):
        responses = operation["responses"]
        for status in ("401", "403", "404", "429", "500", "503"):
            responses.setdefault(status, BASIC_ERROR)


def _merge_answers_carry_status(spec: dict[str, Any]) -> None:
    # PUT .../merge declares its 405 and 409 bodies inline as {message, documentation_url};
    # GitHub also sends `status` there, as in every other error body. Allow basic-error.
    merge = spec["paths"]["/repos/{owner}/{repo}/pulls/{pull_number}/merge"]["put"]
    for status in ("405", "409"):
        merge["responses"][status] = BASIC_ERROR


def _nullable_enums_admit_null(node: Any) -> None:
    # Some nullable enums (a Dependabot alert's `dismissed_reason`) do not list null among
    # their values; in OpenAPI 3.0 the enum wins, so the null GitHub sends for an open
    # alert would fail. `nullable: true` is what they mean: add null to the enum.
    if isinstance(node, dict):
        enum = node.get("enum")
        if node.get("nullable") and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            _nullable_enums_admit_null(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_enums_admit_null(value)


def patched_github_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply every change above to `spec` (in place) and return it."""
    _drop_examples(spec)
    _every_get_may_answer_304(spec)
    _merge_answers_carry_status(spec)
    _declare_real_error_answers(spec)
    _nullable_enums_admit_null(spec)
    return spec


@functools.cache
def load_github_spec() -> dict[str, Any]:
    """The patched description (cached; do not mutate)."""
    with (specs_dir() / REST_SPEC_FILE).open(encoding="utf-8") as handle:
        return patched_github_spec(json.load(handle))


@functools.cache
def github_openapi() -> OpenAPI:
    return OpenAPI.from_dict(load_github_spec(), config=Config(spec_validator_cls=None))


@functools.cache
def github_schema() -> GraphQLSchema:
    # The published SDL defines two fields of `EnterpriseOwnerInfo` twice
    # (`repositoryDeployKeySetting`, `repositoryDeployKeySettingOrganizations`), which SDL
    # validation rejects; the duplicates are identical, so the schema is built without
    # that check.
    text = (specs_dir() / GRAPHQL_SCHEMA_FILE).read_text(encoding="utf-8")
    schema = build_schema(text, assume_valid_sdl=True)
    # graphql-core 3.3 also checks the type system before validating a query and refuses
    # this schema: implementations deprecate fields their interfaces do not (`Project.id`
    # against `Node.id`, `PullRequest.databaseId` against `Reactable.databaseId`, ...).
    # That is about the schema, not the queries: record it as checked.
    schema._validation_errors = []
    return schema


def graphql_errors(query: str) -> list[str]:
    """What is wrong with a GraphQL query against GitHub's schema (empty if valid)."""
    return [error.message for error in validate(github_schema(), parse(query))]


class _OpenAPIRequest:
    def __init__(self, recorded: RecordedRequest) -> None:
        self.host_url = SERVER_URL
        self.path = recorded.path
        self.method = recorded.method.lower()
        self.body: bytes | None = recorded.body or None
        self.content_type = _content_type(recorded.headers) or "application/json"
        pairs = [(name, value) for name, values in recorded.query.items() for value in values]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(pairs),
            header=Headers(_header_pairs(recorded.headers)),
            cookie=ImmutableMultiDict(),
        )


class _OpenAPIResponse:
    def __init__(self, recorded: RecordedResponse) -> None:
        self.status_code = recorded.status
        self.headers = Headers(_header_pairs(recorded.headers))
        self.content_type = _content_type(recorded.headers) or "application/json"
        self.data: bytes | None = recorded.body


def request_errors(recorded: RecordedRequest) -> list[str]:
    return _describe(github_openapi().iter_request_errors(_OpenAPIRequest(recorded)))


def response_errors(recorded_request: RecordedRequest, recorded: RecordedResponse) -> list[str]:
    errors = github_openapi().iter_response_errors(
        _OpenAPIRequest(recorded_request), _OpenAPIResponse(recorded)
    )
    return _describe(errors)


def is_graphql(exchange: RecordedExchange) -> bool:
    return exchange.request.path.rstrip("/") == "/graphql"


def validate_github_exchange(
    exchange: RecordedExchange, *, request: bool = True, response: bool = True
) -> None:
    """Raise `ContractError` unless the exchange fits: REST against the OpenAPI description,
    GraphQL (a POST to /graphql) by its query against the schema."""
    recorded = exchange.request
    problems: list[str] = []
    if is_graphql(exchange):
        if request:
            query = json.loads(recorded.body or b"{}").get("query", "")
            problems += [f"query: {line}" for line in graphql_errors(query)]
    else:
        if request:
            problems += [f"request: {line}" for line in request_errors(recorded)]
        if response:
            problems += [
                f"response: {line}" for line in response_errors(recorded, exchange.response)
            ]
    if problems:
        query_text = "&".join(f"{k}={v}" for k, values in recorded.query.items() for v in values)
        target = f"{recorded.method} {recorded.path}" + (f"?{query_text}" if query_text else "")
        body = exchange.response.body[:400].decode("utf-8", "replace")
        raise ContractError(
            f"{target} -> {exchange.response.status} breaks the GitHub description:\n"
            + "\n".join(f"  {line}" for line in problems)
            + f"\n  response body starts: {body}"
        )
