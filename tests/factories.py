"""Builders for conversations in unit tests. They go through the services, as the API does,
so what they build is what a real conversation looks like in the database."""

from typing import Any

from conversations import schemas, services
from conversations.models import Conversation, Message, Participant

# The sample request body of the Customer Channel API document (with its missing comma put back).
SPEC_INIT_SAMPLE = {
    "firstName": "Kashif",
    "lastName": "",
    "email": "kashif@ef.com",
    "phone": "+1343122554",
    "channel": "web",
    "language": "en",
    "subject": "ADSL",
    "refId": "00923011234567",
    "comment": "Comment portion is optional",
    "url": "http://localhost:3001",
    "requestId": "99397bf7-a4fb-41c3-8292-a021b44262a6",
    "timestamp": "2018-05-07T06:52:21.661Z",
}

CUSTOMER = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0958",
    "channel": "web",
    "subject": "billing",
}


def start_conversation(**overrides: Any) -> Participant:
    """A new conversation; returns its customer (`customer.conversation` is the conversation).

    Overrides use the init request's wire names (`email=""` for a customer without one)."""
    request = schemas.parse(schemas.InitRequest, {**CUSTOMER, **overrides})
    return services.conversation_start(request=request).customer


def add_agent(conversation: Conversation, name: str = "Grace") -> Participant:
    return services.participant_add(conversation_id=conversation.id, role=Participant.Role.AGENT, name=name)


def send(participant: Participant, text: str = "", **fields: Any) -> Message:
    """A ChatMessage from `participant`; `fields` are further SendMessage wire fields
    (`tag="whisper"`, `to=[{"id": ...}]`, `attachments=[{"contentUrl": ...}]`)."""
    payload = {"conversationId": participant.conversation_id, "type": "ChatMessage", "text": text, **fields}
    message = schemas.parse(schemas.SendMessage, payload)
    result = services.message_send(
        conversation_id=participant.conversation_id, sender_id=participant.id, message=message
    )
    return result.message


def end(conversation: Conversation, by: Participant) -> Conversation:
    return services.conversation_end(conversation_id=conversation.id, participant_id=by.id)
