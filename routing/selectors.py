"""Routing's reads: who can take a chat, how loaded agents are, what an offer shows."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.models import AgentProfile
from conversations import wire
from conversations.models import Conversation, Participant
from routing.models import Offer, Queue


def with_load(agents):
    """Annotate `load`: open chats plus pending offers (plus the weight of its callbacks)."""
    chats = (
        Participant.objects.present()
        .filter(agent=OuterRef("pk"), conversation__state=Conversation.State.OPEN)
        .values("agent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    offers = Offer.objects.pending().filter(agent=OuterRef("pk")).values("agent").annotate(n=Count("pk")).values("n")
    from callbacks.selectors import callback_load  # issue 9: offered and accepted callbacks take capacity too

    return agents.annotate(
        load=Coalesce(Subquery(chats), Value(0)) + Coalesce(Subquery(offers), Value(0)) + callback_load(OuterRef("pk"))
    )


def agents_with_live_state(agents):
    """Annotate `load` (open chats and pending offers, as routing counts them) and `connected`
    (a live /agent socket)."""
    return with_load(agents).annotate(connected=Exists(AgentProfile.objects.connected().filter(pk=OuterRef("pk"))))


def agent_load(agent: AgentProfile) -> int:
    return with_load(AgentProfile.objects.filter(pk=agent.pk)).values_list("load", flat=True).get()


def candidates(conversation: Conversation):
    """Ready, connected agents of the conversation's queue with free capacity: first an agent
    who had it until she was away too long (she is back), then the longest idle; not those in
    it, nor those who declined, transferred or left it lately (CHAT_REOFFER_AFTER)."""
    lately = timezone.now() - timedelta(seconds=settings.CHAT_REOFFER_AFTER)
    declined_lately = Offer.objects.filter(
        conversation=conversation,
        state__in=[Offer.State.REJECTED, Offer.State.EXPIRED, Offer.State.WITHDRAWN],
        answered_at__gte=lately,
    ).values("agent")
    agents_in_it = conversation.participants.agents()
    present_or_gave_it_up = agents_in_it.filter(
        Q(left_at__isnull=True) | Q(left_at__gte=lately) & ~Q(left_reason=Participant.LeftReason.ABSENT)
    ).values("agent")
    had_it_until_away = agents_in_it.filter(left_reason=Participant.LeftReason.ABSENT, agent=OuterRef("pk"))
    return (
        with_load(AgentProfile.objects.connected().ready().filter(queues=conversation.queue))
        .filter(load__lt=F("max_chats"))
        .exclude(pk__in=declined_lately)
        .exclude(pk__in=present_or_gave_it_up)
        .order_by(Exists(had_it_until_away).desc(), F("idle_since").asc(nulls_first=True), "pk")
    )


def queues_with_room(queue_ids) -> set[int]:
    """Which of these queues have a connected, ready agent with a free slot (one query)."""
    agents = with_load(AgentProfile.objects.connected().ready()).filter(load__lt=F("max_chats"))
    return set(Queue.objects.filter(pk__in=queue_ids, agents__in=agents).values_list("pk", flat=True))


def queue_ids_of(agent_id: int) -> list[int]:
    return list(Queue.objects.filter(agents=agent_id).values_list("pk", flat=True))


def queues_of_agents_in(conversation_id: str) -> set[int]:
    """The queues of the agents of a conversation: where a slot frees up when it ends."""
    return set(
        Queue.objects.filter(agents__participations__conversation_id=conversation_id).values_list("pk", flat=True)
    )


def needs_an_agent(conversation: Conversation) -> bool:
    return (
        conversation.is_open
        and conversation.queued_at is None
        and not conversation.participants.agents().present().exists()
    )


def offer_payload(offer: Offer) -> dict:
    conversation = offer.conversation
    return {
        "conversation": wire.conversation_json(conversation),
        "customer": wire.conversation_json(conversation)["customer"] | {"name": conversation.customer_name},
        "queue": conversation.queue.name if conversation.queue else "",
        "expiresAt": wire.iso(offer.expires_at),
    }


def directory() -> dict:
    """Queues and agents, for an agent choosing where to transfer a conversation."""
    connected = set(AgentProfile.objects.connected().values_list("pk", flat=True))
    agents = with_load(AgentProfile.objects.select_related("user").prefetch_related("queues"))
    waiting = Q(conversations__queued_at__isnull=False, conversations__state=Conversation.State.OPEN)
    return {
        "queues": [
            {"name": q.name, "description": q.description, "waiting": q.waiting}
            for q in Queue.objects.order_by("name").annotate(waiting=Count("conversations", filter=waiting))
        ],
        "agents": [
            wire.agent_json(agent)
            | {"connected": agent.pk in connected, "load": agent.load, "queues": [q.name for q in agent.queues.all()]}
            for agent in agents
        ],
    }
