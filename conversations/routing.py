"""Routing: queues, offers to agents, hand-off, transfer, and the periodic sweep.

All routing state lives in the database (Conversation.queued_at, Offer, AgentConnection), so
a restart loses no queued conversation and several server processes can route side by side:
rows are locked while they change, and a unique index allows one pending offer a conversation.
Like the other services, these return deliveries for the realtime module to send after commit.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations import selectors, timeline, wire
from conversations.deliveries import Audience, Delivery
from conversations.errors import (
    AgentNotFound,
    AgentUnavailable,
    ConversationNotFound,
    NotAllowed,
    NotAParticipant,
    NotOffered,
    QueueNotFound,
)
from conversations.models import AgentConnection, AgentProfile, Conversation, Offer, Participant, Queue

logger = logging.getLogger(__name__)

CANDIDATES_TRIED = 5
# One waiting chat that every free agent declined lately must not hold up the rest of its queue.
MISSES_BEFORE_LEAVING_A_QUEUE = 3
WAITING_ROUTED_PER_SWEEP = 50


@dataclass
class AssignResult(selectors.ParticipantView):
    deliveries: list[Delivery] = field(default_factory=list)


def to_agent(agent_id: int, event: str, payload: dict) -> Delivery:
    return Delivery(event, payload, Audience(customers=False, agent_ids=(agent_id,)))


# --- reads -----------------------------------------------------------------------------------


def queue_for_subject(subject: str) -> Queue:
    """The queue named by `subject` (case-insensitive), else the default queue."""
    if subject and (queue := Queue.objects.filter(name__iexact=subject).first()):
        return queue
    default = Queue.objects.filter(is_default=True).first()
    if default is None:
        default = Queue.objects.filter(name__iexact=settings.CHAT_DEFAULT_QUEUE).first() or Queue(
            name=settings.CHAT_DEFAULT_QUEUE
        )
        default.is_default = True
        default.save()
    return default


def _live_connection_cutoff():
    return timezone.now() - timedelta(seconds=settings.CHAT_CONNECTION_STALE)


def connected_agents():
    """Agents with at least one live /agent socket."""
    live = AgentConnection.objects.filter(agent=OuterRef("pk"), seen_at__gte=_live_connection_cutoff())
    return AgentProfile.objects.filter(Exists(live), user__is_active=True)


def with_load(agents):
    """Annotate `load`: open chats plus pending offers."""
    chats = (
        Participant.objects.filter(agent=OuterRef("pk"), left_at__isnull=True, conversation__state="open")
        .values("agent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    offers = (
        Offer.objects.filter(agent=OuterRef("pk"), state=Offer.State.PENDING).values("agent").annotate(n=Count("pk"))
    ).values("n")
    return agents.annotate(load=Coalesce(Subquery(chats), Value(0)) + Coalesce(Subquery(offers), Value(0)))


def agent_load(agent: AgentProfile) -> int:
    return with_load(AgentProfile.objects.filter(pk=agent.pk)).values_list("load", flat=True).get()


def _offer_timeout(queue: Queue) -> int:
    return queue.offer_timeout_seconds or settings.CHAT_OFFER_TIMEOUT


def _max_wait(queue: Queue) -> int:
    return queue.max_wait_seconds if queue.max_wait_seconds is not None else settings.CHAT_QUEUE_MAX_WAIT


def _candidates(conversation: Conversation):
    """Ready, connected agents of the conversation's queue with free capacity, longest idle
    first; not those in it, nor those who declined or left it lately (CHAT_REOFFER_AFTER)."""
    lately = timezone.now() - timedelta(seconds=settings.CHAT_REOFFER_AFTER)
    declined_lately = Offer.objects.filter(
        conversation=conversation,
        state__in=[Offer.State.REJECTED, Offer.State.EXPIRED, Offer.State.WITHDRAWN],
        answered_at__gte=lately,
    ).values("agent")
    present_or_left_lately = conversation.participants.filter(
        Q(left_at__isnull=True) | Q(left_at__gte=lately), agent__isnull=False
    ).values("agent")
    return (
        with_load(connected_agents().filter(state=AgentProfile.State.READY, queues=conversation.queue))
        .filter(load__lt=F("max_chats"))
        .exclude(pk__in=declined_lately)
        .exclude(pk__in=present_or_left_lately)
        .order_by(F("idle_since").asc(nulls_first=True), "pk")
    )


# --- offering --------------------------------------------------------------------------------


def _customer_payload(conversation: Conversation) -> dict:
    return wire.conversation_json(conversation)["customer"] | {"name": conversation.customer_name}


def offer_payload(offer: Offer) -> dict:
    conversation = offer.conversation
    return {
        "conversation": wire.conversation_json(conversation),
        "customer": _customer_payload(conversation),
        "queue": conversation.queue.name if conversation.queue else "",
        "expiresAt": wire.iso(offer.expires_at),
    }


def _offer_next(conversation: Conversation, *, announce_no_agent: bool) -> list[Delivery]:
    """Offer a queued conversation (row locked by the caller) to the next eligible agent.
    Lock order everywhere: conversation, then offer, then agent."""
    if conversation.offers.filter(state=Offer.State.PENDING).exists():
        return []
    if conversation.queue is None:  # its queue was deleted in admin
        conversation.queue = queue_for_subject("")
        conversation.save(update_fields=["queue"])
    for candidate in _candidates(conversation)[:CANDIDATES_TRIED]:
        agent = AgentProfile.objects.select_for_update().get(pk=candidate.pk)  # serialises its offers
        if agent_load(agent) >= agent.max_chats:
            continue
        offer = Offer.objects.create(
            conversation=conversation,
            agent=agent,
            expires_at=timezone.now() + timedelta(seconds=_offer_timeout(conversation.queue)),
        )
        return [to_agent(agent.pk, "conversationOffered", offer_payload(offer))]
    if announce_no_agent and not connected_agents().filter(state="ready", queues=conversation.queue).exists():
        notice = timeline.activity(conversation, "noAgentAvailable", info={"queue": conversation.queue.name})
        conversation.save(update_fields=["last_sequence"])
        return [timeline.broadcast(notice)]
    return []


def enqueue(conversation: Conversation, *, queue: Queue | None = None) -> list[Delivery]:
    """Put a conversation (row locked by the caller) in its queue: the customer gets handOff,
    then the next agent an offer, or the customer noAgentAvailable."""
    conversation.queue = queue or conversation.queue or queue_for_subject(conversation.subject)
    conversation.queued_at = timezone.now()
    hand_off = timeline.activity(conversation, "handOff", info={"queue": conversation.queue.name})
    conversation.save(update_fields=["queue", "queued_at", "last_sequence"])
    return [timeline.broadcast(hand_off), *_offer_next(conversation, announce_no_agent=True)]


def needs_an_agent(conversation: Conversation) -> bool:
    return (
        conversation.is_open
        and conversation.queued_at is None
        and not conversation.participants.filter(role=Participant.Role.AGENT, left_at__isnull=True).exists()
    )


def _queues_with_room(queue_ids) -> set[int]:
    """Which of these queues have a connected, ready agent with a free slot (one query)."""
    agents = with_load(connected_agents().filter(state=AgentProfile.State.READY)).filter(load__lt=F("max_chats"))
    return set(Queue.objects.filter(pk__in=queue_ids, agents__in=agents).values_list("pk", flat=True))


def route_waiting(queue_ids, limit: int = WAITING_ROUTED_PER_SWEEP) -> list[Delivery]:
    """Offer waiting conversations of these queues (oldest first) that have no pending offer,
    each in its own transaction; call it outside any. A queue is left as soon as nobody in it
    takes an offer, so a long queue with no free agent costs one query, not one per waiting chat."""
    deliveries: list[Delivery] = []
    for queue_id in _queues_with_room(list(queue_ids)):
        waiting = (
            Conversation.objects.filter(state="open", queued_at__isnull=False, queue_id=queue_id)
            .exclude(offers__state=Offer.State.PENDING)
            .order_by("queued_at")
            .values_list("pk", flat=True)[:limit]
        )
        misses = 0
        for conversation_id in list(waiting):
            offered = _safely(_route_one, conversation_id)
            deliveries += offered
            misses = 0 if offered else misses + 1
            if misses == MISSES_BEFORE_LEAVING_A_QUEUE:  # nobody here takes these: leave the rest
                break
    return deliveries


@transaction.atomic
def _route_one(conversation_id: str) -> list[Delivery]:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_open or conversation.queued_at is None:
        return []
    return _offer_next(conversation, announce_no_agent=False)


def _safely(step, *args, **kwargs) -> list[Delivery]:
    """One step of routing work in its own transaction: a failure is logged and skipped (the
    next sweep tries again) instead of stopping the steps after it."""
    try:
        return step(*args, **kwargs)
    except DatabaseError as error:  # a lock timeout or deadlock with another process
        logger.warning("routing: %s failed: %s", step.__name__, error)
    except Exception:
        logger.exception("routing: %s failed", step.__name__)
    return []


def _queue_ids_of(agent: AgentProfile) -> list[int]:
    return list(agent.queues.values_list("pk", flat=True))


def _withdraw_offers(offers, *, state: str = Offer.State.WITHDRAWN) -> list[Delivery]:
    deliveries = []
    now = timezone.now()
    for offer in offers:
        offer.state = state
        offer.answered_at = now
        offer.save(update_fields=["state", "answered_at"])
        deliveries.append(to_agent(offer.agent_id, "offerWithdrawn", {"conversationId": offer.conversation_id}))
    return deliveries


# --- agent actions ---------------------------------------------------------------------------


def _locked_conversation(conversation_id: str) -> Conversation:
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def _assign(conversation: Conversation, agent: AgentProfile, *, activity_type: str) -> AssignResult:
    """Make the agent a participant (row of the conversation locked by the caller)."""
    participant = conversation.participants.create(
        role=Participant.Role.AGENT, agent=agent, name=agent.display_name[:200], joined_at=timezone.now()
    )
    conversation.queued_at = None
    notice = timeline.activity(conversation, activity_type, info={"participant": wire.participant_json(participant)})
    conversation.save(update_fields=["queued_at", "last_sequence"])
    AgentProfile.objects.filter(pk=agent.pk).update(idle_since=timezone.now())
    return AssignResult(
        conversation=conversation,
        participant=participant,
        history=selectors.conversation_history(conversation=conversation, viewer=participant),
        participants=selectors.participants_of(conversation),
        deliveries=[timeline.broadcast(notice)],
    )


@transaction.atomic
def offer_accept(*, agent_id: int, conversation_id: str) -> AssignResult:
    conversation = _locked_conversation(conversation_id)
    timeline.require_open(conversation)
    offer = conversation.offers.filter(agent_id=agent_id, state=Offer.State.PENDING).first()
    if offer is None or offer.expires_at < timezone.now() or conversation.queued_at is None:
        raise NotOffered()
    offer.state = Offer.State.ACCEPTED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    return _assign(conversation, offer.agent, activity_type="participantJoined")


@transaction.atomic
def offer_reject(*, agent_id: int, conversation_id: str) -> list[Delivery]:
    conversation = _locked_conversation(conversation_id)
    offer = conversation.offers.filter(agent_id=agent_id, state=Offer.State.PENDING).first()
    if offer is None:
        raise NotOffered()
    offer.state = Offer.State.REJECTED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    if not conversation.is_open:
        return []
    return _offer_next(conversation, announce_no_agent=True)


def agent_set_state(*, agent_id: int, state: str) -> tuple[AgentProfile, list[Delivery]]:
    agent, deliveries = _set_state(agent_id=agent_id, state=state)
    return agent, deliveries + route_waiting(_queue_ids_of(agent))


@transaction.atomic
def _set_state(*, agent_id: int, state: str) -> tuple[AgentProfile, list[Delivery]]:
    """Not ready withdraws the agent's pending offers; their conversations go to others.
    Offers are changed before the agent row (the lock order of the rest of routing)."""
    withdrawn: list[Delivery] = []
    if state != AgentProfile.State.READY:
        withdrawn = _withdraw_offers(Offer.objects.filter(agent_id=agent_id, state=Offer.State.PENDING))
    agent = AgentProfile.objects.select_related("user").get(pk=agent_id)
    if agent.state != state:
        agent.state = state
        if state == AgentProfile.State.READY:
            agent.idle_since = timezone.now()
        agent.save(update_fields=["state", "idle_since"])
    return agent, withdrawn


def _agent_participant(conversation: Conversation, agent_id: int) -> Participant:
    participant = conversation.participants.filter(agent_id=agent_id, left_at__isnull=True).first()
    if participant is None:
        raise NotAParticipant("You are not an agent of this conversation.")
    return participant


def _remove(conversation: Conversation, participant: Participant, *, activity_type: str) -> list[Delivery]:
    """Take an agent out (row of the conversation locked by the caller). The caller routes
    the agent's queues afterwards: it has a free slot now."""
    participant.left_at = timezone.now()
    participant.save(update_fields=["left_at"])
    notice = timeline.activity(conversation, activity_type, info={"participant": wire.participant_json(participant)})
    conversation.save(update_fields=["last_sequence"])
    return [
        timeline.broadcast(notice),
        to_agent(participant.agent_id, "conversationRemoved", {"conversationId": conversation.pk}),
    ]


def agent_leave(*, agent_id: int, conversation_id: str) -> list[Delivery]:
    return _leave(agent_id=agent_id, conversation_id=conversation_id) + route_waiting(
        _queue_ids_of(AgentProfile.objects.get(pk=agent_id))
    )


@transaction.atomic
def _leave(*, agent_id: int, conversation_id: str) -> list[Delivery]:
    conversation = _locked_conversation(conversation_id)
    timeline.require_open(conversation)
    deliveries = _remove(conversation, _agent_participant(conversation, agent_id), activity_type="participantLeft")
    if needs_an_agent(conversation):
        deliveries += enqueue(conversation)
    return deliveries


def conversation_transfer(
    *, agent_id: int, conversation_id: str, queue_name: str | None = None, to_agent_id: int | None = None
) -> list[Delivery]:
    """Hand a conversation on: to another agent at once, or back to a queue for its next agent."""
    deliveries = _transfer(
        agent_id=agent_id, conversation_id=conversation_id, queue_name=queue_name, to_agent_id=to_agent_id
    )
    return deliveries + route_waiting(_queue_ids_of(AgentProfile.objects.get(pk=agent_id)))


@transaction.atomic
def _transfer(
    *, agent_id: int, conversation_id: str, queue_name: str | None, to_agent_id: int | None
) -> list[Delivery]:
    conversation = _locked_conversation(conversation_id)
    timeline.require_open(conversation)
    leaving = _agent_participant(conversation, agent_id)
    if to_agent_id is not None:
        result = _add_agent(conversation, to_agent_id)
        return result.deliveries + _remove(conversation, leaving, activity_type="participantRemoved")
    queue = Queue.objects.filter(name__iexact=queue_name or "").first()
    if queue is None:
        raise QueueNotFound()
    deliveries = _remove(conversation, leaving, activity_type="participantRemoved")
    if needs_an_agent(conversation):
        deliveries += enqueue(conversation, queue=queue)
    else:
        conversation.queue = queue
        conversation.save(update_fields=["queue"])
    return deliveries


def _add_agent(conversation: Conversation, agent_id: int) -> AssignResult:
    target = connected_agents().select_for_update(of=("self",)).select_related("user").filter(pk=agent_id).first()
    if target is None:
        if not AgentProfile.objects.filter(pk=agent_id).exists():
            raise AgentNotFound()
        raise AgentUnavailable()
    if conversation.participants.filter(agent=target, left_at__isnull=True).exists():
        raise NotAllowed("That agent is already in this conversation.")
    if agent_load(target) >= target.max_chats:
        raise AgentUnavailable()
    result = _assign(conversation, target, activity_type="participantAdded")
    result.deliveries.append(
        to_agent(
            target.pk,
            "conversationAssigned",
            {"conversationId": conversation.pk, "participant": wire.participant_json(result.participant)},
        )
    )
    return result


@transaction.atomic
def conversation_add_agent(*, agent_id: int, conversation_id: str, to_agent_id: int) -> list[Delivery]:
    """Conference: a second agent joins, the first stays."""
    conversation = _locked_conversation(conversation_id)
    timeline.require_open(conversation)
    _agent_participant(conversation, agent_id)
    return _add_agent(conversation, to_agent_id).deliveries


# --- connections -----------------------------------------------------------------------------


@dataclass
class AgentSession:
    agent: AgentProfile
    chats: list[tuple[Conversation, Participant]]
    offers: list[Offer]
    deliveries: list[Delivery] = field(default_factory=list)


def agent_connected(
    *, agent_id: int, sid: str, server_id: str, token_id: int | None = None, session_key: str = ""
) -> AgentSession:
    session = _connect(agent_id=agent_id, sid=sid, server_id=server_id, token_id=token_id, session_key=session_key)
    session.deliveries = route_waiting(_queue_ids_of(session.agent))
    return session


@transaction.atomic
def _connect(*, agent_id: int, sid: str, server_id: str, token_id: int | None, session_key: str) -> AgentSession:
    now = timezone.now()
    AgentConnection.objects.update_or_create(
        sid=sid,
        defaults={
            "agent_id": agent_id,
            "server_id": server_id,
            "seen_at": now,
            "token_id": token_id,
            "session_key": session_key,
        },
    )
    AgentProfile.objects.filter(pk=agent_id, disconnected_at__isnull=False).update(disconnected_at=None)
    agent = AgentProfile.objects.select_related("user").get(pk=agent_id)
    chats = [
        (participant.conversation, participant)
        for participant in Participant.objects.select_related("conversation").filter(
            agent=agent, left_at__isnull=True, conversation__state="open"
        )
    ]
    offers = list(
        Offer.objects.select_related("conversation__queue").filter(
            agent=agent, state=Offer.State.PENDING, expires_at__gt=now
        )
    )
    return AgentSession(agent=agent, chats=chats, offers=offers)


def agent_disconnected(*, sid: str) -> list[Delivery]:
    """The socket is gone. When it was the agent's last, its offers go to the next agent at
    once; its chats wait for it for CHAT_AGENT_GRACE seconds (see sweep)."""
    deliveries: list[Delivery] = []
    for offer_id in _disconnect(sid=sid):
        deliveries += _safely(_reoffer_one, offer_id, state=Offer.State.WITHDRAWN)
    return deliveries


@transaction.atomic
def _disconnect(*, sid: str) -> list[int]:
    """Forget the connection; the ids of the offers to pass on if it was the agent's last."""
    connection = AgentConnection.objects.filter(sid=sid).first()
    if connection is None:
        return []
    connection.delete()
    if connected_agents().filter(pk=connection.agent_id).exists():
        return []
    AgentProfile.objects.filter(pk=connection.agent_id).update(disconnected_at=timezone.now())
    return list(
        Offer.objects.filter(agent_id=connection.agent_id, state=Offer.State.PENDING).values_list("pk", flat=True)
    )


@transaction.atomic
def _reoffer_one(offer_id: int, *, state: str) -> list[Delivery]:
    """End a pending offer (expired, or its agent went) and offer the conversation on."""
    conversation_id = Offer.objects.filter(pk=offer_id).values_list("conversation_id", flat=True).first()
    if conversation_id is None:
        return []
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    offer = Offer.objects.select_for_update().filter(pk=offer_id, state=Offer.State.PENDING).first()
    if offer is None:  # answered meanwhile
        return []
    deliveries = _withdraw_offers([offer], state=state)
    if conversation.is_open and conversation.queued_at is not None:
        deliveries += _offer_next(conversation, announce_no_agent=True)
    return deliveries


def sweep(*, server_id: str, live_sids: list[str]) -> list[Delivery]:
    """Run by every server process each CHAT_SWEEP_INTERVAL: keep this process's agent
    connections alive, expire unanswered offers, give up on agents gone past the grace period,
    end conversations that waited too long, and offer waiting conversations. Each step runs in
    transactions of its own, so one bad row or a lock conflict holds up nothing else."""
    now = timezone.now()
    _safely(_heartbeat, server_id=server_id, live_sids=live_sids, now=now)
    _safely(_adopt_orphans)
    deliveries: list[Delivery] = []
    expired = Offer.objects.filter(state=Offer.State.PENDING, expires_at__lte=now).values_list("pk", flat=True)
    for offer_id in list(expired[:WAITING_ROUTED_PER_SWEEP]):
        deliveries += _safely(_reoffer_one, offer_id, state=Offer.State.EXPIRED)
    gone = Offer.objects.filter(state=Offer.State.PENDING).exclude(agent__in=connected_agents())
    for offer_id in list(gone.values_list("pk", flat=True)[:WAITING_ROUTED_PER_SWEEP]):
        deliveries += _safely(_reoffer_one, offer_id, state=Offer.State.WITHDRAWN)
    deliveries += _release_absent_agents(now)
    deliveries += _end_overdue(now)
    queue_ids = Conversation.objects.filter(state="open", queued_at__isnull=False).values_list("queue_id", flat=True)
    return deliveries + route_waiting(set(queue_ids))


@transaction.atomic
def _heartbeat(*, server_id: str, live_sids: list[str], now) -> list[Delivery]:
    AgentConnection.objects.filter(server_id=server_id, sid__in=live_sids).update(seen_at=now)
    AgentConnection.objects.filter(seen_at__lt=now - 10 * timedelta(seconds=settings.CHAT_CONNECTION_STALE)).delete()
    return []


@transaction.atomic
def _adopt_orphans() -> list[Delivery]:
    """A queue deleted in admin leaves its waiting conversations without one: the default takes them."""
    orphans = Conversation.objects.filter(state="open", queued_at__isnull=False, queue__isnull=True)
    if orphans.exists():
        orphans.update(queue=queue_for_subject(""))
    return []


def _release_absent_agents(now) -> list[Delivery]:
    cutoff = now - timedelta(seconds=settings.CHAT_AGENT_GRACE)
    # Gone past the grace period: back as "not ready", so no chat is offered before they say so.
    AgentProfile.objects.filter(disconnected_at__lte=cutoff, state=AgentProfile.State.READY).update(
        state=AgentProfile.State.NOT_READY
    )
    absent = Participant.objects.filter(
        role=Participant.Role.AGENT, left_at__isnull=True, conversation__state="open"
    ).filter(Q(agent__disconnected_at__lte=cutoff) | ~Q(agent__in=connected_agents()) & Q(agent__disconnected_at=None))
    deliveries: list[Delivery] = []
    for participant_id in list(absent.values_list("pk", flat=True)[:WAITING_ROUTED_PER_SWEEP]):
        deliveries += _safely(_release_one, participant_id, now=now)
    return deliveries


@transaction.atomic
def _release_one(participant_id: str, *, now) -> list[Delivery]:
    conversation_id = Participant.objects.values_list("conversation_id", flat=True).get(pk=participant_id)
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    participant = Participant.objects.select_related("agent").get(pk=participant_id)
    if participant.left_at is not None or not conversation.is_open:
        return []
    if participant.agent and participant.agent.disconnected_at is None:
        # Stale connection rows (a server process died): start the grace period now.
        AgentProfile.objects.filter(pk=participant.agent_id).update(disconnected_at=now)
        return []
    deliveries = _remove(conversation, participant, activity_type="participantLeft")
    if needs_an_agent(conversation):
        deliveries += enqueue(conversation)
    return deliveries


def _end_overdue(now) -> list[Delivery]:
    """End conversations that waited longer than their queue allows, queue by queue."""
    deliveries: list[Delivery] = []
    for queue in Queue.objects.all():
        max_wait = _max_wait(queue)
        if not max_wait:
            continue
        overdue = Conversation.objects.filter(
            state="open", queue=queue, queued_at__lte=now - timedelta(seconds=max_wait)
        ).order_by("queued_at")
        for conversation_id in list(overdue.values_list("pk", flat=True)[:WAITING_ROUTED_PER_SWEEP]):
            deliveries += _safely(_end_overdue_one, conversation_id)
    return deliveries


@transaction.atomic
def _end_overdue_one(conversation_id: str) -> list[Delivery]:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_open or conversation.queued_at is None:
        return []
    return end_waiting(conversation, reason="noAgentAvailable")


def end_waiting(conversation: Conversation, *, reason: str) -> list[Delivery]:
    """End a conversation (row locked) on the server's own account, e.g. it waited too long."""
    ended = timeline.close(conversation, info={"reason": reason})
    return [timeline.broadcast(ended), *withdraw_all(conversation)]


def queues_of_agents_in(conversation_id: str) -> set[int]:
    """The queues of the agents of a conversation: where a slot frees up when it ends."""
    return set(
        Queue.objects.filter(agents__participations__conversation_id=conversation_id).values_list("pk", flat=True)
    )


def withdraw_all(conversation: Conversation) -> list[Delivery]:
    """The conversation ended: its pending offer is withdrawn."""
    return _withdraw_offers(Offer.objects.select_for_update().filter(conversation=conversation, state="pending"))


def directory() -> dict:
    """Queues and agents, for an agent choosing where to transfer a conversation."""
    connected = set(connected_agents().values_list("pk", flat=True))
    agents = with_load(AgentProfile.objects.select_related("user").prefetch_related("queues"))
    return {
        "queues": [
            {"name": q.name, "description": q.description, "waiting": q.waiting}
            for q in Queue.objects.order_by("name").annotate(
                waiting=Count(
                    "conversations", filter=Q(conversations__queued_at__isnull=False, conversations__state="open")
                )
            )
        ],
        "agents": [
            wire.agent_json(agent)
            | {"connected": agent.pk in connected, "load": agent.load, "queues": [q.name for q in agent.queues.all()]}
            for agent in agents
        ],
    }
