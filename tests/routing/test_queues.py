"""Routing reads and the connector registry, called directly."""

import pytest

from connectors.services import connector_create
from routing.models import Queue
from routing.queues import queue_for_subject

pytestmark = pytest.mark.django_db


def test_the_subject_names_a_queue_whatever_its_case():
    billing = Queue.objects.create(name="Billing")
    assert queue_for_subject("BILLING") == billing


def test_an_unknown_subject_goes_to_the_queue_marked_default():
    Queue.objects.create(name="sales")
    support = Queue.objects.create(name="support", is_default=True)
    assert queue_for_subject("no such queue") == support
    assert queue_for_subject("") == support


def test_with_no_default_marked_the_default_queue_is_made_even_when_its_name_is_capitalised():
    existing = Queue.objects.create(name="Default")
    assert queue_for_subject("") == existing
    existing.refresh_from_db()
    assert existing.is_default
    assert Queue.objects.count() == 1


def test_a_connector_created_in_capitals_is_found_by_registration():
    connector, key = connector_create(connector_id="SMS", name="SMS gateway")
    assert (connector.id, connector.channel) == ("sms", "sms")
    assert len(key) >= 40
