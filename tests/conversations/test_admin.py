import hashlib
import html
import io
import re
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from connectors.models import Connector
from connectors.services import connector_create
from conversations import transcripts
from conversations.models import Conversation, Message
from tests.factories import add_agent, end, send, start_conversation
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db

ALAN = {
    "firstName": "Alan",
    "lastName": "Turing",
    "email": "alan@example.org",
    "phone": "+44 161 496 0000",
    "refId": "cust-alan",
    "channel": "sms",
    "subject": "delivery",
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """admin_client makes a superuser with a password; the production hasher takes 0.3 s a test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def changelist_url() -> str:
    return reverse("admin:conversations_conversation_changelist")


def change_url(conversation: Conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.id])


def listed(response) -> set[str]:
    """The ids of the conversations on a changelist page."""
    assert response.status_code == 200
    return {conversation.id for conversation in response.context["cl"].result_list}


def messages_shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def ended_chat(customer_says: str = "My invoice is wrong", agent_says: str = "Let me check that", **customer):
    customer = start_conversation(**customer)
    agent = add_agent(customer.conversation)
    send(customer, customer_says)
    send(agent, agent_says)
    return end(customer.conversation, by=agent)


def download(client, *conversations: Conversation):
    return client.post(
        changelist_url(),
        {"action": "download_transcripts", "_selected_action": [conversation.id for conversation in conversations]},
    )


@pytest.fixture
def ada() -> Conversation:
    return start_conversation(refId="cust-ada").conversation


@pytest.fixture
def alan() -> Conversation:
    return start_conversation(**ALAN).conversation


def test_changelist_lists_every_conversation(admin_client, ada, alan):
    response = admin_client.get(changelist_url())

    assert listed(response) == {ada.id, alan.id}
    assert "Ada Lovelace" in response.text
    assert ada.id[:8] in response.text


@pytest.mark.parametrize(
    "term",
    ["ada@example.com", "+44 20 7946 0958", "Lovelace", "Ada Lovelace", "cust-ada"],
)
def test_search_by_customer_email_phone_name_or_ref_finds_only_that_customer(admin_client, ada, alan, term):
    response = admin_client.get(changelist_url(), {"q": term})

    assert listed(response) == {ada.id}


def test_search_by_the_start_of_an_id_finds_that_conversation(admin_client, ada, alan):
    response = admin_client.get(changelist_url(), {"q": alan.id[:8]})

    assert listed(response) == {alan.id}


def test_filter_by_state_shows_only_conversations_in_that_state(admin_client, ada):
    finished = ended_chat(**ALAN)

    assert listed(admin_client.get(changelist_url(), {"state__exact": "ended"})) == {finished.id}
    assert listed(admin_client.get(changelist_url(), {"state__exact": "open"})) == {ada.id}


def test_the_list_shows_and_filters_which_visitors_the_site_verified(admin_client, ada, alan):
    Conversation.objects.filter(pk=alan.pk).update(identity_verified=True)
    response = admin_client.get(changelist_url())

    rows = [row.split("</tr>")[0] for row in response.text.split('<tr><td class="action-checkbox">')[1:]]
    alan_row = next(row for row in rows if ">Alan Turing" in row)
    ada_row = next(row for row in rows if ">Ada Lovelace</a>" in row)
    assert '>Alan Turing <span class="verified-mark"' in alan_row and "verified</span>" in alan_row
    assert "verified" not in ada_row
    assert listed(admin_client.get(changelist_url(), {"identity_verified__exact": "1"})) == {alan.id}
    assert listed(admin_client.get(changelist_url(), {"identity_verified__exact": "0"})) == {ada.id}


def test_the_change_page_says_whether_the_visitor_is_verified(admin_client, ada, alan):
    Conversation.objects.filter(pk=alan.pk).update(identity_verified=True)

    verified = admin_client.get(change_url(alan)).text
    assert 'data-testid="verified"' in verified and 'data-testid="unverified"' not in verified
    assert "Identity verified" in verified  # the field, in the Customer fieldset
    unverified = admin_client.get(change_url(ada)).text
    assert 'data-testid="unverified"' in unverified and 'data-testid="verified"' not in unverified


def test_change_page_shows_every_message_whispers_and_addressed_ones_included(admin_client):
    customer = start_conversation()
    grace = add_agent(customer.conversation, "Grace")
    linus = add_agent(customer.conversation, "Linus")
    send(customer, "Where is my parcel?")
    send(grace, "Customer is upset, be gentle", tag="whisper")
    send(grace, "Linus, can you take this one?", to=[{"id": linus.id}])
    send(linus, "It left the warehouse today")

    response = admin_client.get(change_url(customer.conversation))

    assert response.status_code == 200
    for text in (
        "Where is my parcel?",
        "Customer is upset, be gentle",
        "Linus, can you take this one?",
        "It left the warehouse today",
    ):
        assert text in response.text
    assert "whisper" in response.text


def test_html_a_customer_sends_is_shown_escaped_on_the_change_page(admin_client):
    customer = start_conversation(firstName="<i>Eve</i>")
    send(customer, '<script>alert("hi")</script>')

    response = admin_client.get(change_url(customer.conversation))

    assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;" in response.text
    assert "<script>alert" not in response.text
    assert "<i>Eve</i>" not in response.text


def test_messages_and_participants_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, ada):
    response = admin_client.get(change_url(ada))

    inlines = response.context["inline_admin_formsets"]
    assert [inline.opts.model for inline in inlines] == [ada.participants.model, Message]
    for inline in inlines:
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
    # The "Add another" row is cloned from an empty form, which is left out without add permission.
    assert 'id="messages-empty"' not in response.text
    assert 'id="participants-empty"' not in response.text
    assert 'name="messages-MAX_NUM_FORMS" value="0"' in response.text


def test_a_post_to_the_change_page_is_refused_and_changes_nothing(admin_client, ada):
    response = admin_client.post(
        change_url(ada),
        {
            "customer_email": "mallory@example.com",
            "messages-TOTAL_FORMS": "1",
            "messages-INITIAL_FORMS": "0",
            "messages-0-text": "Planted by an admin",
            "messages-0-sequence": "99",
        },
    )

    assert response.status_code == 403
    ada.refresh_from_db()
    assert ada.customer_email == "ada@example.com"
    assert not Message.objects.filter(conversation=ada).exists()


def test_conversation_fields_are_shown_but_not_editable(admin_client, ada):
    response = admin_client.get(change_url(ada))

    assert "ada@example.com" in response.text
    assert 'name="customer_email"' not in response.text
    assert admin_client.get(reverse("admin:conversations_conversation_add")).status_code == 403


def test_download_action_returns_the_pdf_of_one_ended_conversation(admin_client):
    conversation = ended_chat(customer_says="My invoice is wrong")

    response = download(admin_client, conversation)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{transcripts.transcript_filename(conversation)}"'
    )
    assert response.content.startswith(b"%PDF")
    assert "My invoice is wrong" in pdf_text(response.content)


def test_download_action_zips_the_pdfs_of_several_ended_conversations(admin_client):
    first = ended_chat(customer_says="First customer here")
    second = ended_chat(customer_says="Second customer here", **ALAN)

    response = download(admin_client, first, second)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="transcripts-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(transcripts.transcript_filename(c) for c in (first, second))
    assert "First customer here" in pdf_text(archive.read(transcripts.transcript_filename(first)))
    assert "Second customer here" in pdf_text(archive.read(transcripts.transcript_filename(second)))


def test_download_action_skips_open_conversations_and_says_so(admin_client, alan):
    finished = ended_chat()

    response = download(admin_client, finished, alan)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'filename="{transcripts.transcript_filename(finished)}"')
    [warning] = messages_shown(response)
    assert "Skipped 1 conversation(s) still open" in warning
    assert alan.id[:8] in warning


def test_download_action_with_only_open_conversations_goes_back_with_a_warning(admin_client, ada, alan):
    response = download(admin_client, ada, alan)

    assert response.status_code == 302
    assert response["Location"] == changelist_url()
    shown = messages_shown(response)
    assert "Skipped 2 conversation(s) still open" in shown[0]
    assert "None of the selected conversations has ended." in shown


def test_change_page_of_an_ended_conversation_links_its_transcript(admin_client):
    conversation = ended_chat(customer_says="Thanks for the help")
    transcript_url = reverse("admin:conversations_conversation_transcript", args=[conversation.id])

    page = admin_client.get(change_url(conversation))
    response = admin_client.get(transcript_url)

    assert f'href="{transcript_url}"' in page.text
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Thanks for the help" in pdf_text(response.content)


def test_an_open_conversation_has_no_transcript_link(admin_client, ada):
    transcript_url = reverse("admin:conversations_conversation_transcript", args=[ada.id])

    page = admin_client.get(change_url(ada))

    assert "Transcript (PDF)" not in page.text
    assert admin_client.get(transcript_url).status_code == 404


def test_the_transcript_link_needs_an_admin_login(client):
    conversation = ended_chat()

    response = client.get(reverse("admin:conversations_conversation_transcript", args=[conversation.id]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# Connectors

KEY_SHOWN = re.compile(r"shown only now; copy it into the connector's settings: ([A-Za-z0-9_-]+)")


def shown_key(response) -> str:
    [key] = KEY_SHOWN.findall(html.unescape(response.text))
    return key


def test_connector_pages_never_show_the_key_hash(admin_client):
    connector, _ = connector_create(connector_id="sms", name="SMS gateway")

    change_page = admin_client.get(reverse("admin:connectors_connector_change", args=["sms"]))
    changelist = admin_client.get(reverse("admin:connectors_connector_changelist"))

    assert change_page.status_code == 200
    assert "SMS gateway" in change_page.text
    for page in (change_page, changelist):
        assert connector.key_hash not in page.text
        assert "key_hash" not in page.text


def test_issuing_a_new_key_shows_it_once_and_stores_only_its_sha256(admin_client):
    _, old_key = connector_create(connector_id="sms", name="SMS gateway")
    changelist = reverse("admin:connectors_connector_changelist")

    response = admin_client.post(changelist, {"action": "issue_new_key", "_selected_action": ["sms"]}, follow=True)

    key = shown_key(response)
    connector = Connector.objects.get(id="sms")
    assert key != old_key
    assert connector.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert connector.name == "SMS gateway"
    assert key not in admin_client.get(changelist).text


def test_adding_a_connector_shows_its_key_once(admin_client):
    response = admin_client.post(
        reverse("admin:connectors_connector_add"),
        {"id": "whatsapp", "name": "WhatsApp bridge", "channel": "whatsapp"},
        follow=True,
    )

    key = shown_key(response)
    connector = Connector.objects.get(id="whatsapp")
    assert connector.name == "WhatsApp bridge"
    assert connector.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in admin_client.get(reverse("admin:connectors_connector_changelist")).text


def test_the_admin_login_is_throttled_like_the_agents(client, django_user_model):
    django_user_model.objects.create_superuser(username="boss", password="a long enough passphrase")
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "boss", "password": "a long enough passphrase"})
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "Too many failed logins" in response.content.decode()
