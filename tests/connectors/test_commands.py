"""create_connector, as an operator runs it from the shell."""

import io

import pytest
from django.core.management import call_command

from connectors.models import Connector
from connectors.services import hash_key

pytestmark = pytest.mark.django_db


def test_create_connector_prints_a_key_once_and_stores_only_its_hash():
    out = io.StringIO()
    call_command("create_connector", "sms", "--name", "SMS gateway", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    connector = Connector.objects.get(id="sms")
    assert connector.key_hash == hash_key(key)
    assert key not in connector.key_hash
