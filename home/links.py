"""Where things are: the landing page and `manage.py serve`'s start-up message list the same links."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    title: str
    path: str
    what: str


LINKS = (
    Link("Demo chat", "/demo/", "a customer's chat window on a sample page: try a conversation"),
    Link("Agent desk", "/agent/", "agents log in, get ready and answer chats"),
    Link("Admin", "/admin/", "operators: conversations, transcripts, queues, agents, connectors"),
    Link("REST API", "/api/docs", "the OpenAPI document (/api/openapi.json), browsable"),
    Link("Socket.IO API", "/api/asyncapi.json", "the AsyncAPI document: every event, payload, ack and error code"),
    Link("Protocol docs", "/docs/", "the protocol as built, and the decisions taken"),
)


def public_host(host: str) -> str:
    """The host to print in links: a wildcard bind address is not one to browse to."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host  # noqa: S104 (compared, not bound)
