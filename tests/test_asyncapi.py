"""The AsyncAPI document of the Socket.IO API: valid AsyncAPI 3.0, and complete for the code it describes."""

import json
import os
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from django.test import Client

from agents.sockets import AgentNamespace
from chatserver import asyncapi, socket_shapes
from chatserver.errors import ALL_ERRORS
from connectors.socketio.namespace import CustomerAndConnectorNamespace as CustomerNamespace

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_SCHEMA = ROOT / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0-without-$id.json"


@pytest.fixture(scope="module")
def document() -> dict:
    return asyncapi.asyncapi_document(host="chat.example.com:8080")


@pytest.fixture(scope="module")
def official_validator():
    """The AsyncAPI 3.0.0 JSON Schema of the npm package @asyncapi/specs (`make test` runs npm ci)."""
    if not OFFICIAL_SCHEMA.exists():
        if os.environ.get("CI") == "true" or shutil.which("npm") is None:
            pytest.fail(f"{OFFICIAL_SCHEMA.relative_to(ROOT)} is missing: run `npm ci` (make test does)")
        pytest.skip("node_modules/@asyncapi/specs is missing: run `npm ci` (make test does)")
    schema = json.loads(OFFICIAL_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_the_document_is_valid_asyncapi_3(document, official_validator):
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in official_validator.iter_errors(document)]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


def test_the_official_schema_does_refuse_a_broken_document(document, official_validator):
    broken = json.loads(json.dumps(document))
    broken["operations"]["customer.sendMessage"]["action"] = "emit"  # neither send nor receive
    del broken["info"]["version"]
    assert len(list(official_validator.iter_errors(broken))) >= 2


def _event_handlers(namespace) -> set[str]:
    return {name.removeprefix("on_") for name in dir(namespace) if name.startswith("on_")} - {"connect", "disconnect"}


def _payload_model(document: dict, channel: str, event: str) -> str:
    ref = document["channels"][channel]["messages"][event]["$ref"]
    message = document["components"]["messages"][ref.rsplit("/", 1)[1]]
    return message["payload"]["$ref"].rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("namespace", "channels"), [(CustomerNamespace, ("customer", "connector")), (AgentNamespace, ("agent",))]
)
def test_every_event_a_namespace_handles_has_an_operation_with_its_payload_and_ack(document, namespace, channels):
    handled = _event_handlers(namespace)
    documented = {
        key.split(".", 1)[1]
        for key, operation in document["operations"].items()
        if key.split(".", 1)[0] in channels and operation["action"] == "send"
    }
    assert documented == handled
    for channel in channels:
        for event in asyncapi.channel_events()[channel]:
            handler = getattr(namespace, f"on_{event}").__wrapped__
            schema = handler.__annotations__[next(iter(set(handler.__annotations__) - {"sid", "return"}))]
            assert _payload_model(document, channel, event) == schema.__name__
            operation = document["operations"][f"{channel}.{event}"]
            replies = [ref["$ref"].rsplit("/", 1)[1] for ref in operation["reply"]["messages"]]
            assert replies == [f"{event}Ack", "ackRefused"]
            assert _payload_model(document, channel, f"{event}Ack") == socket_shapes.ACKS[event].__name__
            assert operation["summary"]


def test_the_customer_payloads_are_the_schemas_the_handlers_parse_with(document):
    """The init-style wire names and rules come straight from conversations/schemas.py."""
    send = document["components"]["schemas"]["SendMessage"]
    assert {"conversationId", "type", "text", "from", "to", "attachments", "activityType"} <= set(send["properties"])
    assert send["properties"]["text"]["title"] == "text"
    assert document["components"]["schemas"]["JoinConversation"]["required"] == ["conversationId", "participant"]


SERVER_EVENT_PATTERNS = (
    r'to_agent\([^,]+, "(\w+)"',
    r'Delivery\("(\w+)"',
    r'send_to\(sid, "(\w+)"',
)


SERVER_APPS = ("conversations", "agents", "routing", "connectors", "chatserver")


def _server_source() -> str:
    return "\n".join(path.read_text() for app in SERVER_APPS for path in (ROOT / app).glob("*.py"))


def _emitted_in_code() -> set[str]:
    source = _server_source()
    return {event for pattern in SERVER_EVENT_PATTERNS for event in re.findall(pattern, source)}


def test_every_event_the_server_emits_is_documented_as_received(document):
    received = {key.split(".", 1)[1] for key, op in document["operations"].items() if op["action"] == "receive"}
    emitted = _emitted_in_code()
    assert {"messageArrived", "conversationOffered", "agentInfo"} <= emitted  # the scan finds them
    assert emitted <= received


def test_every_activity_type_the_server_stores_is_listed():
    source = _server_source()
    stored = set(re.findall(r'activity\(\s*conversation,\s*"(\w+)"', source))
    stored |= set(re.findall(r'activity_type="(\w+)"', source))
    stored |= {"endOfConversation", "typing"}
    assert {"greetings", "handOff", "participantJoined"} <= stored
    assert stored <= set(socket_shapes.ACTIVITY_TYPES)


def test_every_error_code_is_in_the_error_schema(document):
    codes = document["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert sorted(codes) == sorted(error.code for error in ALL_ERRORS)


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves_and_operations_use_their_own_channel(document):
    for ref in _refs(document):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]
    for key, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel + "/messages/"), key


@pytest.mark.django_db
def test_the_document_is_served_beside_openapi_and_the_rest_docs_point_to_it():
    client = Client()
    response = client.get("/api/asyncapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["servers"]["chat"]["host"] == "testserver"
    assert set(served["operations"]) == set(asyncapi.asyncapi_document(host="x")["operations"])
    openapi = client.get("/api/openapi.json").json()
    assert "/api/asyncapi.json" in openapi["info"]["description"]
