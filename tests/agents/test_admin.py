"""The admin of queues, agents, their tokens and offers: what an operator sees and may change."""

import html
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.urls import reverse
from django.utils import timezone

from agents import auth as agent_auth
from agents.models import AgentConnection, AgentProfile, AgentToken
from agents.services import agent_create
from chatserver.errors import Unauthorized
from conversations import services
from conversations.models import Conversation
from routing import presence
from routing.models import Offer, Queue
from tests.factories import end, start_conversation

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_client makes a superuser with a password; the production hasher takes 0.3 s a test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def billing() -> Queue:
    return Queue.objects.create(name="billing")


@pytest.fixture
def grace(billing) -> AgentProfile:
    return agent_create(username="grace", password=PASSWORD, queues=["billing"], name="Grace Hopper")


def waiting(first_name: str, subject: str = "billing") -> Conversation:
    """A conversation whose customer has joined, so that it waits in the queue its subject names."""
    customer = start_conversation(firstName=first_name, subject=subject)
    services.conversation_join(conversation_id=customer.conversation.id, participant_id=customer.join_key)
    customer.conversation.refresh_from_db()
    assert customer.conversation.queued_at is not None
    return customer.conversation


def assigned(first_name: str, agent: AgentProfile) -> Conversation:
    """A conversation that waited, then an agent took it: open, no longer waiting."""
    conversation = waiting(first_name)
    services.participant_add(conversation_id=conversation.id, role="agent", name=agent.display_name, agent_id=agent.pk)
    conversation.refresh_from_db()
    assert conversation.queued_at is None and conversation.is_open
    return conversation


def connect(agent: AgentProfile) -> None:
    presence.agent_connected(agent_id=agent.pk, sid=f"sid-{agent.pk}", server_id="test")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def row_of(response, text: str) -> str:
    """The changelist row (<tr>) that shows `text`."""
    assert response.status_code == 200
    [row] = [row for row in response.text.split("<tr")[1:] if text in row]
    return row


def cell(row: str, column: str) -> str:
    """The text of one column of a changelist row."""
    match = re.search(rf'<t[dh] class="field-{column}[^"]*">(.*?)</t[dh]>', row, re.S)
    assert match, f"no column {column} in {row}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def shows_true(row: str, column: str) -> bool:
    match = re.search(rf'<td class="field-{column}[^"]*">.*?alt="(True|False)"', row, re.S)
    assert match, f"no boolean column {column} in {row}"
    return match.group(1) == "True"


# Queues


def test_the_queue_changelist_counts_only_the_conversations_waiting_now(admin_client, billing, grace):
    Queue.objects.create(name="sales")
    waiting("Ada")
    waiting("Alan")
    assigned("Barbara", grace)
    gave_up = waiting("Charles")
    end(gave_up, by=gave_up.participants.get(role="customer"))

    response = admin_client.get(reverse("admin:routing_queue_changelist"))

    assert cell(row_of(response, ">billing<"), "waiting_now") == "2"
    assert cell(row_of(response, ">billing<"), "agent_count") == "1"
    assert cell(row_of(response, ">sales<"), "waiting_now") == "0"
    assert cell(row_of(response, ">sales<"), "agent_count") == "0"


def test_the_queue_changelist_shows_server_defaults_for_timeouts_left_empty(admin_client, settings):
    settings.CHAT_OFFER_TIMEOUT = 20
    settings.CHAT_QUEUE_MAX_WAIT = 0
    Queue.objects.create(name="billing", offer_timeout_seconds=45, max_wait_seconds=600)
    Queue.objects.create(name="sales")

    response = admin_client.get(reverse("admin:routing_queue_changelist"))

    billing, sales = row_of(response, ">billing<"), row_of(response, ">sales<")
    assert (cell(billing, "offer_timeout"), cell(billing, "max_wait")) == ("45 s", "600 s")
    assert (cell(sales, "offer_timeout"), cell(sales, "max_wait")) == ("default (20 s)", "default (never)")


def test_a_queue_page_lists_its_waiting_conversations_oldest_first_and_not_assigned_ones(admin_client, billing, grace):
    older = waiting("Ada")
    newer = waiting("Alan")
    taken = assigned("Barbara", grace)
    elsewhere = waiting("Dorothy", subject="sales")
    Conversation.objects.filter(pk=newer.pk).update(queued_at=older.queued_at + timezone.timedelta(minutes=1))

    response = admin_client.get(change_url(billing))

    assert response.status_code == 200
    linked = re.findall(r'href="/admin/conversations/conversation/([^/]+)/change/"', response.text)
    assert linked == [older.id, newer.id]
    assert taken.id[:8] not in response.text
    assert elsewhere.id[:8] not in response.text
    assert "Ada Lovelace (web)" in response.text


def test_a_customer_name_in_the_waiting_list_is_shown_escaped(admin_client, billing):
    waiting("<i>Eve</i>")

    response = admin_client.get(change_url(billing))

    assert "&lt;i&gt;Eve&lt;/i&gt; Lovelace (web)" in response.text
    assert "<i>Eve</i>" not in response.text


def test_a_queue_page_lists_its_agents_with_state_and_load(admin_client, billing, grace):
    agent_create(username="linus", password=PASSWORD, queues=["sales"], name="Linus Torvalds")
    assigned("Ada", grace)
    connect(grace)

    response = admin_client.get(change_url(billing))

    assert f'<a href="{change_url(grace)}">Grace Hopper</a>: Not ready, connected, 1 / 3 chats' in response.text
    assert "Linus" not in response.text


# The rest of a queue's form: business hours and callback settings (callbacks/, issue 9).
QUEUE_FORM = {
    "time_zone": "UTC",
    "callback_retry_delay_seconds": "900",
    "callback_max_attempts": "3",
    "callback_weight": "1",
    **{
        f"{inline}-{count}_FORMS": "0" for inline in ("opening_hours", "closed_dates") for count in ("TOTAL", "INITIAL")
    },
}


def test_making_a_queue_the_default_unsets_the_previous_default(admin_client, billing):
    general = Queue.objects.create(name="general", is_default=True)

    response = admin_client.post(
        change_url(billing), {"name": "billing", "description": "", "is_default": "on", **QUEUE_FORM}, follow=True
    )

    assert response.status_code == 200
    assert list(Queue.objects.filter(is_default=True)) == [billing]
    general.refresh_from_db()
    assert not general.is_default
    assert "'billing' is the default queue now, instead of 'general'." in html.unescape(response.text)


def test_adding_a_queue_that_is_not_the_default_leaves_the_default_alone(admin_client):
    general = Queue.objects.create(name="general", is_default=True)

    response = admin_client.post(reverse("admin:routing_queue_add"), {"name": "sales", "description": "", **QUEUE_FORM})

    assert response.status_code == 302
    assert list(Queue.objects.filter(is_default=True)) == [general]
    assert Queue.objects.filter(name="sales").exists()


# Conversations by queue


def test_the_conversation_changelist_shows_and_filters_by_queue_and_waiting_time(admin_client, billing, grace):
    ada = waiting("Ada")
    dorothy = waiting("Dorothy", subject="sales")
    taken = assigned("Barbara", grace)

    changelist = reverse("admin:conversations_conversation_changelist")
    response = admin_client.get(changelist)
    filtered = admin_client.get(changelist, {"queue__id__exact": billing.pk})

    assert cell(row_of(response, ada.id[:8]), "queue") == "billing"
    assert cell(row_of(response, dorothy.id[:8]), "queue") == "default"
    assert cell(row_of(response, ada.id[:8]), "agent") == "—"
    assert cell(row_of(response, ada.id[:8]), "waited").endswith(" s")  # waiting since it started
    assert cell(row_of(response, taken.id[:8]), "agent") == "Grace Hopper"
    assert {conversation.id for conversation in filtered.context["cl"].result_list} == {ada.id, taken.id}


# Agents


def test_the_agent_changelist_shows_state_connection_and_load(admin_client, billing, grace):
    agent_create(username="linus", password=PASSWORD, queues=["billing"], max_chats=2)
    assigned("Ada", grace)
    finished = assigned("Alan", grace)
    end(finished, by=finished.participants.get(role="customer"))
    presence.agent_set_state(agent_id=grace.pk, state=AgentProfile.State.READY)
    connect(grace)

    response = admin_client.get(reverse("admin:agents_agentprofile_changelist"))

    grace_row, linus_row = row_of(response, ">grace<"), row_of(response, ">linus<")
    assert (cell(grace_row, "state"), cell(grace_row, "chats")) == ("Ready", "1 / 3")
    assert shows_true(grace_row, "connected_now")
    assert cell(grace_row, "display_name") == "Grace Hopper"
    assert cell(grace_row, "queue_names") == "billing"
    assert (cell(linus_row, "state"), cell(linus_row, "chats")) == ("Not ready", "0 / 2")
    assert not shows_true(linus_row, "connected_now")


def test_the_agent_page_shows_state_and_load_but_does_not_let_them_be_edited(admin_client, grace):
    assigned("Ada", grace)

    response = admin_client.get(change_url(grace))

    assert response.status_code == 200
    assert "1 / 3" in response.text
    assert 'name="state"' not in response.text
    assert 'name="max_chats"' in response.text
    assert 'name="queues"' in response.text


def add_agent_form(queues: list[Queue], **fields) -> dict:
    return {
        "username": "katherine",
        "name": "Katherine Johnson",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "queues": [queue.pk for queue in queues],
        "max_chats": "5",
        **fields,
    }


def test_adding_an_agent_creates_a_user_who_can_log_in_with_that_profile(admin_client, billing):
    sales = Queue.objects.create(name="sales")
    Queue.objects.create(name="returns")

    response = admin_client.post(reverse("admin:agents_agentprofile_add"), add_agent_form([billing, sales]))

    assert response.status_code == 302
    user = authenticate(username="katherine", password=PASSWORD)
    assert user is not None
    assert (user.first_name, user.last_name) == ("Katherine", "Johnson")
    assert not user.is_staff
    assert user.agent.max_chats == 5
    assert {queue.name for queue in user.agent.queues.all()} == {"billing", "sales"}
    assert response["Location"] == reverse("admin:agents_agentprofile_changelist")


def form_errors(response) -> dict:
    assert response.status_code == 200
    return response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"password2": "correct horse staple"}, "password2", "The two password fields didn’t match."),
        ({"password1": "password123", "password2": "password123"}, "password2", "This password is too common."),
        (
            {"password1": "katherine1", "password2": "katherine1"},
            "password2",
            "The password is too similar to the username.",
        ),
        ({"max_chats": "0"}, "max_chats", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_adding_an_agent_with_a_bad_password_or_capacity_creates_nothing(admin_client, billing, fields, field, error):
    users_before = get_user_model().objects.count()

    response = admin_client.post(reverse("admin:agents_agentprofile_add"), add_agent_form([billing], **fields))

    assert error in form_errors(response)[field]
    assert get_user_model().objects.count() == users_before
    assert not AgentProfile.objects.exists()


def test_adding_an_agent_with_a_taken_username_leaves_that_user_alone(admin_client, admin_user, billing):
    response = admin_client.post(reverse("admin:agents_agentprofile_add"), add_agent_form([billing], username="ADMIN"))

    assert "A user with that username already exists." in form_errors(response)["username"]
    assert authenticate(username="admin", password="password") == admin_user
    assert authenticate(username="admin", password=PASSWORD) is None
    assert not AgentProfile.objects.exists()


# Tokens and offers


def test_token_pages_never_show_the_key_hash(admin_client, grace):
    _, token = agent_auth.agent_login(username="grace", password=PASSWORD, client_ip="127.0.0.1")

    changelist = admin_client.get(reverse("admin:agents_agenttoken_changelist"))
    change_page = admin_client.get(change_url(token))

    assert change_page.status_code == 200
    assert "Grace Hopper" in row_of(changelist, "Grace Hopper")
    for page in (changelist, change_page):
        assert token.key_hash not in page.text
        assert "key_hash" not in page.text


def test_the_revoke_action_revokes_the_selected_tokens_only(admin_client, grace):
    revoked_key, revoked = agent_auth.agent_login(username="grace", password=PASSWORD, client_ip="127.0.0.1")
    kept_key, kept = agent_auth.agent_login(username="grace", password=PASSWORD, client_ip="127.0.0.1")

    response = admin_client.post(
        reverse("admin:agents_agenttoken_changelist"),
        {"action": "revoke", "_selected_action": [revoked.pk]},
        follow=True,
    )

    assert "Revoked 1 token(s)." in response.text
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert revoked.revoked_at is not None
    assert kept.revoked_at is None
    with pytest.raises(Unauthorized):
        agent_auth.agent_for_token(revoked_key)
    assert agent_auth.agent_for_token(kept_key) == grace


def test_tokens_and_offers_cannot_be_added_or_changed_in_the_admin(admin_client, grace):
    _, token = agent_auth.agent_login(username="grace", password=PASSWORD, client_ip="127.0.0.1")
    revoked_at = token.revoked_at

    for model in ("agents_agenttoken", "routing_offer"):
        assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403
    response = admin_client.post(change_url(token), {"revoked_at_0": "2030-01-01", "revoked_at_1": "00:00:00"})

    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    assert AgentToken.objects.count() == 1


def test_offers_are_listed_and_a_conversation_offered_to_an_agent_can_still_be_deleted(admin_client, billing, grace):
    presence.agent_set_state(agent_id=grace.pk, state=AgentProfile.State.READY)
    connect(grace)
    conversation = waiting("Ada")
    offer = Offer.objects.get(conversation=conversation)

    offers = admin_client.get(reverse("admin:routing_offer_changelist"))
    deleted = admin_client.post(
        reverse("admin:conversations_conversation_delete", args=[conversation.pk]), {"post": "yes"}
    )

    row = row_of(offers, "Ada Lovelace")
    assert (cell(row, "agent"), cell(row, "state")) == ("Grace Hopper", "Pending")
    assert f'href="{change_url(conversation)}"' in row
    assert deleted.status_code == 302
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Offer.objects.filter(pk=offer.pk).exists()


def test_an_agent_with_tokens_offers_and_connections_can_be_deleted(admin_client, billing, grace):
    agent_auth.agent_login(username="grace", password=PASSWORD, client_ip="127.0.0.1")
    presence.agent_set_state(agent_id=grace.pk, state=AgentProfile.State.READY)
    connect(grace)
    waiting("Ada")

    response = admin_client.post(reverse("admin:agents_agentprofile_delete", args=[grace.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not AgentProfile.objects.exists()
    assert not (AgentToken.objects.exists() or Offer.objects.exists() or AgentConnection.objects.exists())
