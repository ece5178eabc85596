"""The AsyncAPI 3.0 document of the Socket.IO API, generated from the code it describes: the
events are the handlers of the namespaces (conversations/sockets.py), each payload is the
pydantic schema its handler parses with (conversations/schemas.py), and the acks and server
events are the shapes of chatserver/socket_shapes.py. Served at /api/asyncapi.json."""

import copy
import functools
import inspect
import typing

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agents.sockets import AgentNamespace
from chatserver import socket_shapes as shapes
from chatserver.errors import ALL_ERRORS
from connectors.socketio.namespace import CustomerAndConnectorNamespace as CustomerNamespace

REF = "#/components/schemas/{model}"
CONNECTOR_EVENTS = ("registerConnector", "deliveryStatus")

DESCRIPTION = """\
The real-time half of the chat server: Socket.IO 5 (Engine.IO 4; socket.io-client 3.x and 4.x,
python-socketio 5.x) at path `/socket.io/`, over websocket or HTTP long-polling.

- **Customers** (web widgets) use the default namespace `/`: `POST /api/customer/init` (see
  [/api/docs](/api/docs)), then `joinConversation` with the join key it returned.
- **Connectors** (SMS, messengers) also use `/`: `registerConnector` once, then the customer
  events for every customer they speak for.
- **Agents** use `/agent`, authenticated with `auth: {token}` from `POST /api/agent/login`
  (or the agent desk's session cookie).

Each message's `name` is the Socket.IO event name. An operation's `reply` is the event's
**acknowledgement**: emit with a callback (`emitWithAck`, `sio.call`). It is either
`{"ok": true, ...}` or `{"ok": false, "error": {"code", "message", "fields"?}}`; branch on
`error.code` (the `Error` schema lists them all). Every client event is answered that way; an
event a namespace lacks gets `UNKNOWN_EVENT`.

The protocol in prose, with the order of events and every rule, is in [/docs/](/docs/).
"""

CHANNELS = {
    "customer": ("/", "Customers: the default namespace."),
    "connector": (
        "/",
        "Channel connectors: the default namespace too; after registerConnector they use the customer events.",
    ),
    "agent": (
        "/agent",
        "Agents: authenticated with auth {token} (POST /api/agent/login) or the desk's session cookie.",
    ),
}


# One line per client event (the test fails for a handler without one).


def handler_schemas(namespace: type) -> dict[str, type[BaseModel]]:
    """Each event a namespace handles, and the pydantic schema its handler parses the payload with."""
    events = {}
    for attribute, method in inspect.getmembers(namespace, inspect.isfunction):
        if not attribute.startswith("on_") or attribute in ("on_connect", "on_disconnect"):
            continue
        hints = typing.get_type_hints(inspect.unwrap(method))
        schema = next(
            hint
            for name, hint in hints.items()
            if name != "return" and isinstance(hint, type) and issubclass(hint, BaseModel)
        )
        events[attribute.removeprefix("on_")] = schema
    return events


def channel_events() -> dict[str, dict[str, type[BaseModel]]]:
    """Client events per channel."""
    customer = handler_schemas(CustomerNamespace)
    return {
        "customer": {event: schema for event, schema in customer.items() if event not in CONNECTOR_EVENTS},
        "connector": {event: schema for event, schema in customer.items() if event in CONNECTOR_EVENTS},
        "agent": handler_schemas(AgentNamespace),
    }


def server_events() -> dict[str, dict[str, tuple[type[BaseModel], str]]]:
    return {
        "customer": shapes.CUSTOMER_EVENTS,
        "connector": {**shapes.CUSTOMER_EVENTS, **shapes.CONNECTOR_EVENTS},
        "agent": shapes.AGENT_EVENTS,
    }


def _schemas(models: list[type[BaseModel]]) -> dict:
    inputs = [(model, "validation") for model in models if not issubclass(model, shapes.Shape)]
    outputs = [(model, "serialization") for model in models if issubclass(model, shapes.Shape)]
    _, definitions = models_json_schema([*inputs, *outputs], by_alias=True, ref_template=REF)
    schemas = definitions.get("$defs", {})
    error = schemas["Error"]
    error["properties"]["code"]["description"] = "; ".join(
        f"{e.code} ({e.http_status}): {e.default_message}" for e in ALL_ERRORS
    )
    return schemas


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


@functools.cache
def _document() -> dict:
    events, received = channel_events(), server_events()
    models: list[type[BaseModel]] = [shapes.AckRefused]
    messages: dict[str, dict] = {
        "ackRefused": {"name": "ack", "title": "Refused (any event)", "payload": _ref(shapes.AckRefused)}
    }
    channels: dict[str, dict] = {}
    operations: dict[str, dict] = {}
    for channel, (address, description) in CHANNELS.items():
        channel_messages: dict[str, dict] = {"ackRefused": {"$ref": "#/components/messages/ackRefused"}}
        for event, schema in events[channel].items():
            ack = shapes.ACKS[event]
            models += [schema, ack]
            messages.setdefault(event, {"name": event, "title": event, "payload": _ref(schema)})
            messages.setdefault(f"{event}Ack", {"name": "ack", "title": f"{event} ack", "payload": _ref(ack)})
            channel_messages[event] = {"$ref": f"#/components/messages/{event}"}
            channel_messages[f"{event}Ack"] = {"$ref": f"#/components/messages/{event}Ack"}
            operations[f"{channel}.{event}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel}"},
                "title": event,
                "summary": shapes.SUMMARIES[event],
                "messages": [{"$ref": f"#/channels/{channel}/messages/{event}"}],
                "reply": {
                    "channel": {"$ref": f"#/channels/{channel}"},
                    "messages": [
                        {"$ref": f"#/channels/{channel}/messages/{event}Ack"},
                        {"$ref": f"#/channels/{channel}/messages/ackRefused"},
                    ],
                },
            }
        for event, (shape, when) in received[channel].items():
            models.append(shape)
            messages.setdefault(event, {"name": event, "title": event, "payload": _ref(shape)})
            channel_messages[event] = {"$ref": f"#/components/messages/{event}"}
            operations[f"{channel}.{event}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "title": event,
                "summary": when,
                "messages": [{"$ref": f"#/channels/{channel}/messages/{event}"}],
            }
        channels[channel] = {"address": address, "description": description, "messages": channel_messages}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Customer chat server: Socket.IO API", "version": "1", "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": _schemas(list(dict.fromkeys(models))), "messages": messages},
    }


def asyncapi_document(*, host: str) -> dict:
    """The document, its server being `host` (as the client reached this server)."""
    document = copy.deepcopy(_document())
    document["servers"] = {
        "chat": {
            "host": host,
            "protocol": "ws",
            "pathname": "/socket.io/",
            "title": "This chat server",
            "description": "Socket.IO over websocket (or HTTP long-polling at the same path).",
        }
    }
    return document
