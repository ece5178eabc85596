"""The per-message path in plain SQL.

Every sendMessage runs these few statements. Through the ORM they cost about 2 ms of Python
per message (building and compiling each query), most of a server process's time under load;
as fixed SQL strings they cost a tenth of that. Values still go through each model field's
own conversion (`get_db_prep_save`), so what is stored is what the ORM would have stored, and
everything else (reads of history, admin, routing) uses the ORM as usual.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from chatserver.ids import new_secret_id
from conversations.models import Conversation, Message, Participant

P = Participant._meta.db_table
C = Conversation._meta.db_table
M = Message._meta.db_table

MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "sequence",
    "type",
    "activity_type",
    "sender_id",
    "sender_name",
    "sender_role",
    "recipients",
    "tag",
    "text",
    "language",
    "ref_id",
    "attachments",
    "info",
    "request_id",
    "client_timestamp",
    "created_at",
)
INSERT_MESSAGE = f"INSERT INTO {M} ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join(['%s'] * len(MESSAGE_COLUMNS))})"  # noqa: S608
FIELDS = {name: Message._meta.get_field(name) for name in MESSAGE_COLUMNS}  # by attname for the foreign keys


@dataclass(frozen=True)
class Sender:
    id: str
    name: str
    role: str
    agent_id: int | None
    conversation_open: bool
    conversation_language: str

    @property
    def is_customer(self) -> bool:
        return self.role == Participant.Role.CUSTOMER


def sender_in(conversation_id: str, participant_id: str) -> Sender | None:
    """The participant, if it is present in that conversation, with its conversation's state."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, p.name, p.role, p.agent_id, c.state, c.language FROM {P} p "  # noqa: S608
            f"JOIN {C} c ON c.id = p.conversation_id "
            "WHERE p.id = %s AND p.conversation_id = %s AND p.left_at IS NULL",
            [participant_id, conversation_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pid, name, role, agent_id, state, language = row
    return Sender(pid, name, role, agent_id, state == Conversation.State.OPEN, language)


def sender_and_agents(conversation_id: str, participant_id: str) -> tuple[Sender | None, tuple[int, ...]]:
    """In one statement: the sender, if present in that conversation (with its conversation's
    state), and the agents present there (who get the message). A conversation has a handful
    of present participants, so reading them all costs what reading one does, and saves the
    message a statement (a round trip on PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, p.name, p.role, p.agent_id, c.state, c.language FROM {P} p "  # noqa: S608
            f"JOIN {C} c ON c.id = p.conversation_id "
            "WHERE p.conversation_id = %s AND p.left_at IS NULL",
            [conversation_id],
        )
        rows = cursor.fetchall()
    sender = None
    for pid, name, role, agent_id, state, language in rows:
        if pid == participant_id:
            sender = Sender(pid, name, role, agent_id, state == Conversation.State.OPEN, language)
    return sender, tuple(row[3] for row in rows if row[3] is not None)


def next_sequence(conversation_id: str, *, lines: int = 1, characters: int = 0) -> int | None:
    """Take the conversation's next sequence number (locking its row until commit) and count
    the lines and characters the message adds to its transcript (services._size_in_a_transcript),
    or None if the conversation has ended meanwhile or this would take it past its caps:
    CHAT_MAX_MESSAGES_PER_CONVERSATION lines or CHAT_MAX_CONVERSATION_TEXT characters. The caps
    ride on the statement every message runs anyway; `has_ended` tells the two refusals apart,
    on the refused path only."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {C} SET last_sequence = last_sequence + 1, "  # noqa: S608
            "transcript_lines = transcript_lines + %s, transcript_characters = transcript_characters + %s "
            "WHERE id = %s AND state = %s AND transcript_lines + %s <= %s AND transcript_characters + %s <= %s "
            "RETURNING last_sequence",
            [
                lines,
                characters,
                conversation_id,
                Conversation.State.OPEN,
                lines,
                settings.CHAT_MAX_MESSAGES_PER_CONVERSATION,
                characters,
                settings.CHAT_MAX_CONVERSATION_TEXT,
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def has_ended(conversation_id: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state FROM {C} WHERE id = %s", [conversation_id])  # noqa: S608
        row = cursor.fetchone()
    return row is None or row[0] != Conversation.State.OPEN


def insert(**values) -> Message:
    """Insert one message; returns it as a Message, as if the ORM had saved it."""
    values = {"id": new_secret_id(), "created_at": timezone.now(), **values}
    params = [FIELDS[column].get_db_prep_save(values[column], connection) for column in MESSAGE_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_MESSAGE, params)
    message = Message(**values)
    message._state.adding = False
    return message


def present_agent_ids(conversation_id: str) -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT agent_id FROM {P} "  # noqa: S608
            "WHERE conversation_id = %s AND left_at IS NULL AND agent_id IS NOT NULL",
            [conversation_id],
        )
        return tuple(row[0] for row in cursor.fetchall())
