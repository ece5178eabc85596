"""Operators in the admin: revoking campaign keys, reading outbound messages and opt-outs."""

import pytest
from django.urls import reverse

from chatserver.errors import Unauthorized
from connectors import outbound
from connectors.campaigns import api_key_authenticate, api_key_create
from connectors.models import ApiKey, OptOut

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_an_operator_revokes_a_key_and_it_stops_working(admin_client):
    api_key, key = api_key_create(name="crm")
    assert api_key_authenticate(key) == api_key
    response = admin_client.post(
        reverse("admin:connectors_apikey_changelist"),
        {"action": "revoke", "_selected_action": [api_key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert ApiKey.objects.get().revoked_at is not None
    with pytest.raises(Unauthorized):
        api_key_authenticate(key)
    page = admin_client.get(reverse("admin:connectors_apikey_change", args=[api_key.pk])).content.decode()
    assert api_key.key_hash not in page and key not in page


def test_outbound_messages_and_opt_outs_are_listed_for_operators(admin_client):
    failed = outbound.outbound_create(channel="telegram", to="@lena", text="Hello")
    OptOut.objects.create(channel="sms", contact="+15017122661", reason="STOP")
    messages = admin_client.get(reverse("admin:connectors_outboundmessage_changelist")).content.decode()
    assert "@lena" in messages and "NO_CONNECTOR" in messages
    detail = admin_client.get(reverse("admin:connectors_outboundmessage_change", args=[failed.pk]))
    assert detail.status_code == 200  # read-only
    opt_outs = admin_client.get(reverse("admin:connectors_optout_changelist")).content.decode()
    assert "+15017122661" in opt_outs
    assert admin_client.get(reverse("admin:connectors_apikey_add")).status_code == 403  # keys come from the command
