"""Callback requests, called as services on a controlled clock."""

from datetime import timedelta

import pytest

from callbacks import selectors, services
from callbacks.models import Callback, CallbackEvent
from callbacks.schemas import CallbackRequest
from chatserver.errors import (
    CallbackNotFound,
    CallbackNotOpen,
    InvalidPayload,
    RequestIdConflict,
    SlotFull,
    TooManyCallbacks,
)
from conversations.schemas import parse
from tests.callbacks.conftest import MONDAY_10, at

pytestmark = pytest.mark.django_db
PHONE = "+49 30 901820"


def ask(now=MONDAY_10, client_ip="203.0.113.5", **fields):
    payload = {"firstName": "Kashif", "phone": PHONE, "subject": "billing"} | fields
    return services.callback_request(request=parse(CallbackRequest, payload), client_ip=client_ip, now=now)


def test_as_soon_as_possible_in_open_hours_is_scheduled_now_with_its_history(office_queue):
    result = ask(now=at(7, 10), comment="About my invoice")
    callback = result.callback
    assert result.created
    assert (callback.state, callback.scheduled_for, callback.adjusted) == ("scheduled", at(7, 10), "")
    assert callback.phone == "+4930901820"
    assert callback.key_hash != result.key and len(result.key) >= 40
    assert selectors.callback_for_key(callback_id=callback.id, key=result.key) == callback
    events = list(callback.events.values_list("from_state", "to_state", "actor"))
    assert events == [("", "requested", "customer"), ("requested", "scheduled", "system")]


def test_the_phone_number_is_read_in_the_default_region(office_queue, settings):
    settings.CHAT_PHONE_REGION = "DE"
    assert ask(phone="030 901820").callback.phone == "+4930901820"


@pytest.mark.parametrize("phone", ["12", "not a number", "", "+49 30"])
def test_a_number_that_cannot_be_parsed_is_refused_naming_the_field(office_queue, phone):
    with pytest.raises(InvalidPayload) as refused:
        ask(phone=phone)
    assert "phone" in refused.value.fields
    assert not Callback.objects.exists()


def test_as_soon_as_possible_outside_hours_goes_to_the_next_opening(office_queue):
    callback = ask(now=at(7, 12, 30)).callback
    assert (callback.scheduled_for, callback.adjusted) == (at(7, 13), "outsideHours")


def test_a_window_outside_the_hours_moves_to_the_next_opening_and_says_so(office_queue):
    window = {"start": at(12, 10).isoformat(), "end": at(12, 11).isoformat()}  # a Saturday
    callback = ask(preferredTime=window).callback
    assert (callback.scheduled_for, callback.window_start, callback.window_end) == (at(14, 9), at(14, 9), at(14, 10))
    assert callback.adjusted == "outsideHours"
    assert selectors.customer_json(callback)["adjusted"] == "outsideHours"


def test_a_window_in_local_time_with_a_time_zone(office_queue):
    window = {"start": "2026-12-08T15:00:00", "end": "2026-12-08T16:00:00", "timeZone": "Europe/Berlin"}
    callback = ask(preferredTime=window).callback
    assert (callback.scheduled_for, callback.adjusted, callback.time_zone) == (at(8, 15), "", "Europe/Berlin")


def test_a_window_partly_open_starts_at_the_opening(office_queue):
    window = {"start": at(8, 8).isoformat(), "end": at(8, 10).isoformat()}
    callback = ask(preferredTime=window).callback
    assert (callback.scheduled_for, callback.adjusted) == (at(8, 9), "")


def test_a_window_in_the_past_is_refused_and_nothing_stored(office_queue):
    window = {"start": at(7, 8).isoformat(), "end": at(7, 9).isoformat()}
    with pytest.raises(InvalidPayload) as refused:
        ask(now=at(7, 10), preferredTime=window)
    assert refused.value.fields == {"preferredTime.end": "is in the past"}
    assert not Callback.objects.exists()


def test_a_window_without_an_offset_or_time_zone_is_refused(office_queue):
    with pytest.raises(InvalidPayload) as refused:
        ask(preferredTime={"start": "2026-12-08T15:00:00", "end": "2026-12-08T16:00:00"})
    assert "preferredTime" in " ".join(refused.value.fields)


def test_an_unknown_queue_is_refused_naming_the_field(office_queue):
    with pytest.raises(InvalidPayload) as refused:
        ask(subject="no such queue")
    assert "subject" in refused.value.fields
    assert not Callback.objects.exists()


def test_a_replayed_request_id_stores_one_request_and_renews_its_key(office_queue):
    first = ask(requestId="r-1")
    again = ask(requestId="r-1")
    assert Callback.objects.count() == 1
    assert (again.callback.pk, again.created) == (first.callback.pk, False)
    assert selectors.callback_for_key(callback_id=first.callback.pk, key=again.key)
    with pytest.raises(CallbackNotFound):
        selectors.callback_for_key(callback_id=first.callback.pk, key=first.key)


def test_a_request_id_reused_for_another_number_is_a_conflict(office_queue):
    ask(requestId="r-1")
    with pytest.raises(RequestIdConflict):
        ask(requestId="r-1", phone="+44 20 7946 0958")


def test_the_same_phone_and_queue_while_open_returns_the_open_request_without_its_key(office_queue):
    first = ask()
    again = ask(comment="please")
    assert Callback.objects.count() == 1
    assert (again.callback.pk, again.created, again.key) == (first.callback.pk, False, None)


def test_a_full_slot_moves_as_soon_as_possible_to_the_next_free_slot(office_queue, settings):
    settings.CHAT_CALLBACK_SLOT_MINUTES = 30
    office_queue.callbacks_per_slot = 1
    office_queue.save()
    ask(now=at(7, 10, 5))
    second = ask(now=at(7, 10, 6), phone="+44 20 7946 0958").callback
    assert (second.scheduled_for, second.adjusted) == (at(7, 10, 30), "slotFull")


def test_a_window_with_no_free_slot_is_refused_with_the_next_free_slot(office_queue):
    office_queue.callbacks_per_slot = 1
    office_queue.save()
    window = {"start": at(8, 10).isoformat(), "end": at(8, 10, 30).isoformat()}
    ask(preferredTime=window)
    with pytest.raises(SlotFull) as refused:
        ask(preferredTime=window, phone="+44 20 7946 0958")
    assert refused.value.as_dict()["nextFreeSlot"] == "2026-12-08T09:30:00Z"  # 10:30 in Berlin
    assert Callback.objects.count() == 1


def test_requests_per_phone_number_are_limited(office_queue, open_queue, settings):
    settings.CHAT_CALLBACK_MAX_PER_PHONE = 2
    ask(subject="billing", client_ip="203.0.113.1")
    ask(subject="support", client_ip="203.0.113.2")
    Callback.objects.update(state="completed")
    with pytest.raises(TooManyCallbacks) as refused:
        ask(subject="billing", client_ip="203.0.113.3")
    assert refused.value.http_status == 429 and "phone" in refused.value.message
    assert Callback.objects.count() == 2


def test_requests_per_client_address_are_limited(office_queue, settings):
    settings.CHAT_CALLBACK_MAX_PER_ADDRESS = 2
    ask(phone="+44 20 7946 0958")
    ask(phone="+1 650 253 0000")
    with pytest.raises(TooManyCallbacks) as refused:
        ask(phone="+49 30 901820")
    assert "address" in refused.value.message
    # Once the window (CHAT_CALLBACK_ADDRESS_WINDOW) has passed the address may ask again.
    assert ask(phone="+49 30 901820", now=MONDAY_10 + timedelta(hours=2)).created


def test_the_visitor_cancels_with_its_key_and_a_wrong_key_is_refused(office_queue):
    result = ask()
    with pytest.raises(CallbackNotFound):
        services.callback_cancel_by_customer(callback_id=result.callback.pk, key="wrong")
    cancelled = services.callback_cancel_by_customer(callback_id=result.callback.pk, key=result.key)
    assert cancelled.state == "cancelled"
    assert CallbackEvent.objects.filter(callback=cancelled, to_state="cancelled", actor="customer").exists()
    with pytest.raises(CallbackNotOpen):
        services.callback_cancel_by_customer(callback_id=result.callback.pk, key=result.key)
