"""identityHash at init: a valid one marks the conversation verified; a wrong one, or none where
the site requires it, is 401 and stores nothing."""

import pytest

from conversations import wire
from conversations.models import Conversation
from widget import identity
from widget.models import Site

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"


def init(client, origin=SHOP, **fields):
    body = {"firstName": "Ada", "channel": "web", "refId": "cust-42", **fields}
    return client.post("/api/customer/init", body, content_type="application/json", headers={"Origin": origin})


@pytest.fixture
def site():
    return Site.objects.create(name="Shop", origin=SHOP)


def test_a_valid_hash_of_the_ref_id_marks_the_conversation_verified_for_agents(client, site):
    signed = identity.identity_hash(identity.site_secret(site), "cust-42")
    response = init(client, identityHash=signed)
    assert response.status_code == 200, response.content
    conversation = Conversation.objects.get()
    assert conversation.identity_verified
    assert wire.conversation_json(conversation)["verified"] is True


def test_the_email_is_signed_when_there_is_no_ref_id(client, site):
    signed = identity.identity_hash(identity.site_secret(site), "ada@example.com")
    assert init(client, refId="", email="ada@example.com", identityHash=signed).status_code == 200
    assert Conversation.objects.get().identity_verified


def test_no_hash_on_a_site_that_does_not_require_one_is_unverified(client, site):
    assert init(client).status_code == 200
    conversation = Conversation.objects.get()
    assert not conversation.identity_verified
    assert wire.conversation_json(conversation)["verified"] is False


def test_a_wrong_hash_is_refused_and_stores_nothing(client, site):
    other_site = Site.objects.create(name="Other", origin="https://other.example.com")
    forged = identity.identity_hash(identity.site_secret(other_site), "cust-42")  # another site's secret
    response = init(client, identityHash=forged)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "IDENTITY_NOT_VERIFIED"
    assert Conversation.objects.count() == 0


def test_a_hash_from_a_page_that_is_no_widget_site_is_refused(client, site):
    signed = identity.identity_hash(identity.site_secret(site), "cust-42")
    assert init(client, origin="http://testserver", identityHash=signed).status_code == 401
    assert Conversation.objects.count() == 0


def test_a_site_that_requires_identity_refuses_a_claimed_visitor_without_a_hash(client, site):
    site.require_identity = True
    site.save()
    response = init(client)
    assert response.status_code == 401
    assert Conversation.objects.count() == 0
    signed = identity.identity_hash(identity.site_secret(site), "cust-42")
    assert init(client, identityHash=signed).status_code == 200
    assert init(client, refId="").status_code == 200  # an anonymous visitor claims nobody
    assert list(Conversation.objects.values_list("identity_verified", flat=True).order_by("created_at")) == [
        True,
        False,
    ]


def test_the_secret_is_not_stored_and_changes_with_its_salt(site):
    secret = identity.site_secret(site)
    stored = Site.objects.filter(pk=site.pk).values().get()
    assert secret not in {str(value) for value in stored.values()}
    site.secret_salt = "another"
    assert identity.site_secret(site) != secret


def test_a_hash_that_is_not_hex_is_an_invalid_payload(client, site):
    response = init(client, identityHash="é" * 64)
    assert response.status_code == 400
    assert "identityHash" in response.json()["error"]["fields"]
    assert Conversation.objects.count() == 0
