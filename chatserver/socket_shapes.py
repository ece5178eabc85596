"""What the server sends over Socket.IO: the acks of every client event and every server
event, as pydantic models. They document the shapes that conversations/wire.py and the
handlers build (for the AsyncAPI document, chatserver/asyncapi.py); they validate nothing at
run time. tests/test_asyncapi.py checks real traffic against them (no field more, none less),
so they cannot drift from what is sent.

What clients send is described by conversations/schemas.py, which the handlers parse with.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatserver.errors import ALL_ERRORS

# Activity types the server stores and sends (clients may send "typing" only).
ACTIVITY_TYPES = (
    "typing",
    "greetings",
    "participantJoined",
    "participantLeft",
    "participantAdded",
    "participantRemoved",
    "handOff",
    "noAgentAvailable",
    "endOfConversation",
    "read",  # sent by clients too (widget, desk): info.sequence, the last message read
    "outsideBusinessHours",
    "callbackState",
    "deliveryFailed",  # connectors: for agents only (a whisper), docs/connectors.md
    "optedOut",
    "optedIn",
)
ERROR_CODES = tuple(error.code for error in ALL_ERRORS)


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timestamp = str  # ISO 8601 in UTC with a Z, for example "2024-05-07T06:52:21.661042Z"


class Participant(Shape):
    id: str = Field(description="The participant's public id (a customer's join key never appears here).")
    name: str
    role: Literal["customer", "agent", "bot", "system"]


class Recipient(Shape):
    id: str
    name: str


class MessageAttachment(Shape):
    type: str
    name: str
    contentUrl: str
    thumbnailUrl: str | None = None


class Message(Shape):
    """messageArrived: one stored message. `activityType` and `info` only on ActivityMessage."""

    id: str
    sequence: int = Field(description="1, 2, 3… per conversation: order by it, resync with lastSequence.")
    conversationId: str
    type: Literal["ChatMessage", "ActivityMessage"]
    requestId: str | None
    timestamp: Timestamp
    from_: Participant = Field(alias="from")
    to: list[Recipient] = Field(description="Empty: everyone in the conversation.")
    text: str
    tag: Literal["", "whisper"]
    language: str
    refId: str
    attachments: list[MessageAttachment]
    activityType: Literal[ACTIVITY_TYPES] | None = None  # type: ignore[valid-type]
    info: dict[str, Any] | None = None


class Customer(Shape):
    firstName: str
    lastName: str
    email: str
    phone: str
    refId: str


class Conversation(Shape):
    id: str
    channel: str
    subject: str
    language: str
    state: Literal["open", "ended", "abandoned"]
    createdAt: Timestamp
    endedAt: Timestamp | None
    lastSequence: int
    customer: Customer
    verified: bool = Field(description="The site signed the visitor's identity (the widget's identityHash).")


class ConversationInfo(Shape):
    """Sent to a connection that joins (or accepts, or reconnects as an agent)."""

    conversation: Conversation
    messages: list[Message] = Field(description="The history this participant may see, oldest first.")
    participants: list[Participant]
    participant: list[Participant] = Field(description="The same list, under the key of the published sample.")
    role: Literal["customer", "agent", "bot", "system"]
    me: Participant
    hasMore: bool = Field(description="A full page: join again with lastSequence to get the rest.")


class Agent(Shape):
    id: int
    name: str
    username: str
    state: Literal["ready", "notReady"]
    maxChats: int


class AgentInfo(Shape):
    agent: Agent


class OfferedCustomer(Customer):
    name: str


class ConversationOffered(Shape):
    conversation: Conversation
    customer: OfferedCustomer
    queue: str
    expiresAt: Timestamp


class ConversationIdOnly(Shape):
    conversationId: str


class ConversationAssigned(Shape):
    conversationId: str
    participant: Participant


class Error(Shape):
    code: Literal[ERROR_CODES]  # type: ignore[valid-type]
    message: str = Field(description="For people; branch on code.")
    fields: dict[str, str] | None = Field(None, description="Dotted path of each bad field → what is wrong.")


class AckRefused(Shape):
    ok: Literal[False]
    error: Error


class Ack(Shape):
    ok: Literal[True]


class JoinAck(Ack):
    conversationId: str
    participant: Participant


class SendAck(Ack):
    id: str
    sequence: int
    timestamp: Timestamp
    duplicate: bool = Field(description="True: this requestId was sent before; nothing new was stored.")


class EndAck(Ack):
    conversationId: str
    endedAt: Timestamp


class Connector(Shape):
    id: str
    name: str
    channel: str


class RegisterAck(Ack):
    connector: Connector


class AgentAck(Ack):
    agent: Agent


class ConversationAck(Ack):
    conversationId: str


class DirectoryQueue(Shape):
    name: str
    description: str
    waiting: int


class DirectoryAgent(Agent):
    connected: bool
    load: int
    queues: list[str]


class DirectoryAck(Ack):
    queues: list[DirectoryQueue]
    agents: list[DirectoryAgent]


# What each client event does, in a line.
SUMMARIES = {
    "joinConversation": "Join a conversation: a customer with its join key, an agent with its participant id.",
    "sendMessage": "Store and deliver a ChatMessage, or a typing ActivityMessage.",
    "endConversation": "End the conversation for everyone.",
    "registerConnector": "Say which connector this connection is (its id and key from create_connector).",
    "agentState": "Go ready (offers come) or notReady (pending offers are withdrawn).",
    "acceptConversation": "Accept a pending offer: you join the conversation and get its conversationInfo.",
    "rejectConversation": "Decline a pending offer; it goes to the next agent.",
    "leaveConversation": "Leave a conversation; with no agent left it goes back to its queue.",
    "transferConversation": "Hand the conversation to a queue or to an agent, and leave it.",
    "addAgent": "Bring another agent into the conversation (a conference).",
    "directory": "The queues and agents, to choose where to transfer.",
}

# The ack of each client event when it succeeds (a refused one is AckRefused).
ACKS: dict[str, type[Ack]] = {
    "joinConversation": JoinAck,
    "sendMessage": SendAck,
    "endConversation": EndAck,
    "registerConnector": RegisterAck,
    "agentState": AgentAck,
    "acceptConversation": JoinAck,
    "rejectConversation": ConversationAck,
    "leaveConversation": ConversationAck,
    "transferConversation": ConversationAck,
    "addAgent": ConversationAck,
    "directory": DirectoryAck,
}

# Server events, per namespace: (payload, when it is sent).
CUSTOMER_EVENTS: dict[str, tuple[type[Shape], str]] = {
    "conversationInfo": (ConversationInfo, "After joinConversation, before its ack: the history and who is in."),
    "messageArrived": (Message, "Every message this participant may see, but on the connection that sent it."),
}
# Only to connections registered as a connector, on top of what customers get.
CONNECTOR_EVENTS: dict[str, tuple[type[Shape], str]] = {}
AGENT_EVENTS: dict[str, tuple[type[Shape], str]] = {
    "agentInfo": (AgentInfo, "Right after connecting."),
    "conversationInfo": (ConversationInfo, "After connecting (one per open chat), on accept and on join."),
    "conversationOffered": (ConversationOffered, "A waiting conversation is offered to you; answer before expiresAt."),
    "offerWithdrawn": (ConversationIdOnly, "An offer to you ended without your answer."),
    "conversationAssigned": (ConversationAssigned, "Another agent added you or transferred to you: join it."),
    "conversationRemoved": (ConversationIdOnly, "You left, transferred it away, or were away past the grace period."),
    "messageArrived": (Message, "Every message of your conversations, whispers included, on all your connections."),
}
