"""The bots' client's models against the API's OpenAPI document (`/openapi.json` of the real stack): a field renamed
or removed, a type changed, or a value added to a choice on either side fails here.

What the client sends must be taken by the API: each field it has, the API has (unknown fields are refused), each
field the API requires, the client requires, and each value it allows, the API allows. What the client receives
it must be able to read: each field it requires, the API always gives, and each value the API may give, the client
allows. Types match (date-times included). Value limits (lengths, patterns) are the API's alone.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter
from warm_transfer_client import models

Schema = dict[str, Any]
SENT, RECEIVED = "sent", "received"

# (what the client sends, the operation, what it reads back): every model of the client is reached from here.
OPERATIONS = [
    (models.StartTransfer, "post", "/v1/transfers", models.TransferView),
    (None, "get", "/v1/transfers/{transfer_id}", models.TransferView),
    (models.ProspectAction, "post", "/v1/transfers/{transfer_id}/prospect", models.TransferView),
    (models.RepAction, "post", "/v1/transfers/{transfer_id}/rep", models.TransferView),
    (models.Feedback, "post", "/v1/transfers/{transfer_id}/feedback", models.TransferView),
    (models.EvaluateRequest, "post", "/v1/triggers/evaluate", models.Evaluation),
]
# Not in the OpenAPI document (the event stream is text there): tests/clients/python/test_events.py reads real ones.
EVENT_MODELS = {models.Event, models.StatusChange}


class Side:
    """One side's schemas, with the definitions their references point to."""

    def __init__(self, schema: Schema, definitions: dict[str, Schema], prefix: str):
        self.schema, self.definitions, self.prefix = schema, definitions, prefix

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = {**self.definitions[schema["$ref"].removeprefix(self.prefix)],
                      **{key: value for key, value in schema.items() if key != "$ref"}}
        return schema


def client_side(model: Any) -> Side:
    schema = TypeAdapter(model).json_schema(ref_template="#/$defs/{model}")
    return Side(schema, schema.get("$defs", {}), "#/$defs/")


def variants(side: Side, schema: Schema) -> tuple[list[Schema], bool]:
    """The non-null alternatives of a schema, and whether null is one."""
    schema = side.resolve(schema)
    options = [side.resolve(option) for option in schema.get("anyOf", schema.get("oneOf", [schema]))]
    values = [option for option in options if option.get("type") != "null"]
    return values, len(values) < len(options)


def kind(schema: Schema) -> str:
    if "properties" in schema or schema.get("type") == "object":
        return "object"
    if "enum" in schema or "const" in schema:
        return "string"
    return schema.get("type", "any")


def choices(schema: Schema) -> set | None:
    if "const" in schema:
        return {schema["const"]}
    return set(schema["enum"]) if "enum" in schema else None


def differences(client: Side, server: Side, direction: str, where: str = "",
                client_schema: Schema | None = None, server_schema: Schema | None = None) -> list[str]:
    """What in the client's schema the server's contradicts, each as `where: what`."""
    client_options, client_null = variants(client, client.schema if client_schema is None else client_schema)
    server_options, server_null = variants(server, server.schema if server_schema is None else server_schema)
    found = []
    if direction == RECEIVED and server_null and not client_null:
        found.append(f"{where or 'body'}: the API may give null, the client does not take it")
    if not client_options or not server_options or {} in client_options or {} in server_options:
        return found  # any value, on one side or both
    senders, takers = (client_options, server_options) if direction == SENT else (server_options, client_options)
    for given in senders:
        fitting = [taken for taken in takers if _fits(kind(given), kind(taken))]
        if len(fitting) > 1:  # a choice of objects (feedback from a rep or a prospect): matched by name
            fitting = [taken for taken in fitting if taken.get("title") == given.get("title")]
        if not fitting:
            found.append(f"{where or 'body'}: {kind(given)} given where {[kind(t) for t in takers]} is taken")
            continue
        pair = (given, fitting[0]) if direction == SENT else (fitting[0], given)
        found += _compare(client, server, direction, where, *pair)
    return found


def _fits(given: str, taken: str) -> bool:
    return given == taken or (given, taken) == ("integer", "number")


def _compare(client: Side, server: Side, direction: str, where: str, ours: Schema, theirs: Schema) -> list[str]:
    found = []
    formats = {ours.get("format"), theirs.get("format")}
    if "date-time" in formats and len(formats) > 1:
        found.append(f"{where}: a date-time on one side only")
    given, taken = (choices(ours), choices(theirs)) if direction == SENT else (choices(theirs), choices(ours))
    if taken is not None and (given is None or not given <= taken):
        values = "any value" if given is None else sorted(given - taken)
        found.append(f"{where}: {values} " + ("sent, which the API refuses" if direction == SENT else
                                               "answered by the API, which the client refuses"))
    if kind(ours) == "array":
        found += differences(client, server, direction, f"{where}[]", ours.get("items", {}), theirs.get("items", {}))
    if kind(ours) == "object":
        found += _fields(client, server, direction, where, ours, theirs)
    return found


def _fields(client: Side, server: Side, direction: str, where: str, ours: Schema, theirs: Schema) -> list[str]:
    found = []
    mine, yours = ours.get("properties", {}), theirs.get("properties", {})
    for name in mine.keys() - yours.keys():
        found.append(f"{where}.{name}: not in the API's schema")
    mine_required, yours_required = set(ours.get("required", [])), set(theirs.get("required", []))
    if direction == SENT:
        for name in yours_required - mine_required:
            if mine.get(name, {}).get("default") is None:  # a default is sent (only None is left out)
                found.append(f"{where}.{name}: the API requires it, the client does not")
    else:
        for name in mine_required - yours_required:
            if "default" not in yours.get(name, {}) and not variants(server, yours.get(name, {}))[1]:
                found.append(f"{where}.{name}: the client requires it, the API may leave it out")
    for name in mine.keys() & yours.keys():
        found += differences(client, server, direction, f"{where}.{name}", mine[name], yours[name])
    return found


@pytest.fixture
async def openapi(stack) -> Schema:
    async with httpx.AsyncClient(base_url=stack.url) as http:
        return (await http.get("/openapi.json")).json()


def server_side(document: Schema, schema: Schema) -> Side:
    return Side(schema, document["components"]["schemas"], "#/components/schemas/")


def operation_differences(document: Schema) -> list[str]:
    found = []
    for sent, method, path, received in OPERATIONS:
        operation = document["paths"][path][method]
        if sent is not None:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            found += [f"{method.upper()} {path} body{problem}" for problem in
                      differences(client_side(sent), server_side(document, body), SENT)]
        for status, answer in operation["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            model = received if status.startswith("2") else models.ErrorBody
            found += [f"{method.upper()} {path} {status}{problem}" for problem in
                      differences(client_side(model), server_side(document, schema), RECEIVED)]
    return found


async def test_the_clients_models_match_the_apis_schema(openapi: Schema) -> None:
    assert operation_differences(openapi) == []


def test_every_model_of_the_client_is_compared() -> None:
    compared: set[str] = set()
    for sent, _, _, received in OPERATIONS:
        for model in filter(None, (sent, received, models.ErrorBody)):
            side = client_side(model)
            compared |= {*side.definitions, side.schema.get("title", "")}
    defined = {name for name, value in vars(models).items()
               if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == models.__name__}
    assert defined - compared == {model.__name__ for model in EVENT_MODELS} | {"Sent", "Received"}


async def test_drift_on_either_side_fails(openapi: Schema) -> None:
    """The comparison sees a field the API dropped, a field the client added, a new status and a changed type."""
    schemas = openapi["components"]["schemas"]
    schemas["ProspectAction"]["properties"].pop("phone")
    schemas["ProspectAction"]["required"].append("email")
    schemas["Status"]["enum"].append("on_hold")
    schemas["QueueInfo"]["properties"]["position"] = {"type": "string"}
    schemas["TransferView"]["properties"]["timeline"]["items"] = {"type": "string"}
    assert sorted(set(operation_differences(openapi))) == sorted({
        "POST /v1/transfers/{transfer_id}/prospect body.phone: not in the API's schema",
        "POST /v1/transfers/{transfer_id}/prospect body.email: the API requires it, the client does not",
    } | _expected_view_drift())


def _expected_view_drift() -> set[str]:
    views = [(method.upper(), path, status) for _, method, path, received in OPERATIONS
             if received is models.TransferView for status in (["200", "201"] if path == "/v1/transfers" else ["200"])]
    return {problem for method, path, status in views for problem in (
        f"{method} {path} {status}.status: ['on_hold'] answered by the API, which the client refuses",
        f"{method} {path} {status}.queue.position: string given where ['integer'] is taken",
        f"{method} {path} {status}.timeline[]: string given where ['object'] is taken",
    )}
