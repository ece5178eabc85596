"""How stored things look on the wire (camelCase JSON, as in the Customer Channel API)."""

from datetime import datetime

from conversations.models import Conversation, Message, Participant

SYSTEM_SENDER = {"id": "system", "name": "Chat server", "role": "system"}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def participant_json(participant: Participant) -> dict:
    return {"id": participant.id, "name": participant.name, "role": participant.role}


def message_json(message: Message) -> dict:
    if message.sender_id:
        sender = {"id": message.sender_id, "name": message.sender_name, "role": message.sender_role}
    else:
        sender = SYSTEM_SENDER
    payload = {
        "id": message.id,
        "sequence": message.sequence,
        "conversationId": message.conversation_id,
        "type": message.type,
        "requestId": message.request_id,
        "timestamp": iso(message.created_at),
        "from": sender,
        "to": message.recipients,
        "text": message.text,
        "tag": message.tag,
        "language": message.language,
        "refId": message.ref_id,
        "attachments": message.attachments,
    }
    if message.type == Message.Type.ACTIVITY:
        payload["activityType"] = message.activity_type
        payload["info"] = message.info
    return payload


def conversation_json(conversation: Conversation) -> dict:
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "subject": conversation.subject,
        "language": conversation.language,
        "state": conversation.state,
        "createdAt": iso(conversation.created_at),
        "endedAt": iso(conversation.ended_at),
        "lastSequence": conversation.last_sequence,
        "verified": conversation.identity_verified,
        "customer": {
            "firstName": conversation.customer_first_name,
            "lastName": conversation.customer_last_name,
            "email": conversation.customer_email,
            "phone": conversation.customer_phone,
            "refId": conversation.customer_ref_id,
        },
    }


def conversation_info(conversation: Conversation, *, viewer: Participant, history, participants) -> dict:
    """The conversationInfo payload a participant gets on joining."""
    everyone = [participant_json(p) for p in participants]
    return {
        "conversation": conversation_json(conversation),
        "messages": [message_json(m) for m in history],
        "participants": everyone,
        "participant": everyone,  # the key the published document's sample uses
        "role": viewer.role,
        "me": participant_json(viewer),
        # A full page: more may follow; rejoin with lastSequence = the last message's sequence.
        "hasMore": getattr(history, "has_more", False),
    }


def agent_json(agent) -> dict:
    return {
        "id": agent.pk,
        "name": agent.display_name,
        "username": agent.user.get_username(),
        "state": agent.state,
        "maxChats": agent.max_chats,
    }
