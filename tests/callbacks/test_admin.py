"""Callbacks and business hours in the admin: what an operator sees and may change."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback
from callbacks.schemas import CallbackRequest
from conversations.schemas import parse
from routing.models import ClosedDate, OpeningHours, Queue

pytestmark = pytest.mark.django_db
LIST = reverse("admin:callbacks_callback_changelist")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ask(first_name="Kashif", phone="+49 30 901820", **fields) -> Callback:
    payload = {"firstName": first_name, "phone": phone, "subject": "support"} | fields
    return services.callback_request(request=parse(CallbackRequest, payload), client_ip=None).callback


def test_callbacks_are_listed_and_found_by_phone_however_it_is_typed_and_by_name(admin_client, open_queue):
    ask("Kashif")
    ask("Grace", phone="+44 20 7946 0958")
    page = admin_client.get(LIST, {"q": "+49 30 901820"}).content.decode()
    assert "Kashif" in page and "Grace" not in page
    page = admin_client.get(LIST, {"q": "grace"}).content.decode()
    assert "Grace" in page and "Kashif" not in page
    page = admin_client.get(LIST, {"state__exact": "scheduled", "queue__id__exact": open_queue.pk}).content.decode()
    assert "Kashif" in page and "Grace" in page


def test_the_change_page_shows_the_history_inline(admin_client, open_queue):
    callback = ask()
    page = admin_client.get(reverse("admin:callbacks_callback_change", args=[callback.pk])).content.decode()
    assert "History and call attempts" in page
    assert "Requested" in page and "Scheduled" in page


def test_cancel_and_reschedule_actions_go_into_the_history_with_the_operator(admin_client, admin_user, open_queue):
    first, second = ask("Kashif"), ask("Grace", phone="+44 20 7946 0958")
    admin_client.post(LIST, {"action": "cancel", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.state == "cancelled"
    assert first.events.filter(to_state="cancelled", actor="operator", user=admin_user).exists()

    later = timezone.localtime() + timedelta(days=2)
    form = admin_client.post(LIST, {"action": "reschedule", "_selected_action": [second.pk]})
    assert b"Reschedule callbacks" in form.content
    admin_client.post(
        LIST,
        {
            "action": "reschedule",
            "_selected_action": [second.pk],
            "at_0": later.strftime("%Y-%m-%d"),
            "at_1": later.strftime("%H:%M:%S"),
        },
    )
    second.refresh_from_db()
    assert second.state == "scheduled"
    assert abs(second.scheduled_for - later) < timedelta(seconds=1)
    assert second.events.filter(actor="operator", user=admin_user).exists()


def test_a_date_range_is_exported_as_csv_with_formulas_quoted(admin_client, open_queue):
    ask("=HYPERLINK(evil)")
    old = ask("Old", phone="+44 20 7946 0958")
    Callback.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    answer = admin_client.get(reverse("admin:callbacks_callback_export"), {"start": today, "end": today})
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0][:3] == ["id", "created_at", "queue"]
    assert [row[3] for row in rows[1:]] == ["'=HYPERLINK(evil)"]
    form = admin_client.get(reverse("admin:callbacks_callback_export"))
    assert b"Download CSV" in form.content


def test_queue_hours_closed_dates_and_retry_settings_are_edited_on_the_queue_page(admin_client):
    queue = Queue.objects.create(name="billing")
    url = reverse("admin:routing_queue_change", args=[queue.pk])
    page = admin_client.get(url).content.decode()
    assert "Opening hours" in page and "Closed dates" in page and "callback_retry_delay_seconds" in page
    answer = admin_client.post(
        url,
        {
            "name": "billing",
            "description": "",
            "time_zone": "Europe/Berlin",
            "callback_retry_delay_seconds": "120",
            "callback_max_attempts": "4",
            "callbacks_per_slot": "5",
            "callback_weight": "1",
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-0-weekday": "0",
            "opening_hours-0-opens": "09:00",
            "opening_hours-0-closes": "17:00",
            "closed_dates-TOTAL_FORMS": "1",
            "closed_dates-INITIAL_FORMS": "0",
            "closed_dates-0-date": "2026-12-25",
            "closed_dates-0-reason": "Christmas",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    queue.refresh_from_db()
    assert (queue.time_zone, queue.callback_retry_delay_seconds, queue.callback_max_attempts) == (
        "Europe/Berlin",
        120,
        4,
    )
    assert OpeningHours.objects.filter(queue=queue).count() == 1
    assert ClosedDate.objects.get(queue=queue).reason == "Christmas"


def test_an_unknown_time_zone_or_a_range_that_closes_before_it_opens_is_refused(admin_client):
    queue = Queue.objects.create(name="billing")
    url = reverse("admin:routing_queue_change", args=[queue.pk])
    answer = admin_client.post(
        url,
        {
            "name": "billing",
            "time_zone": "Mars/Olympus",
            "callback_retry_delay_seconds": "120",
            "callback_max_attempts": "4",
            "callback_weight": "1",
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-0-weekday": "0",
            "opening_hours-0-opens": "17:00",
            "opening_hours-0-closes": "09:00",
            "closed_dates-TOTAL_FORMS": "0",
            "closed_dates-INITIAL_FORMS": "0",
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "is not a known time zone" in page and "closes after it opens" in page
    assert not OpeningHours.objects.exists()


def test_expired_callbacks_are_listed_first(admin_client, open_queue):
    on_time = ask("Grace", phone="+44 20 7946 0958")
    late = ask("Kashif")
    Callback.objects.filter(pk=late.pk).update(
        state="expired", scheduled_for=on_time.scheduled_for + timedelta(hours=1)
    )
    page = admin_client.get(LIST).content.decode()
    assert page.index("Kashif") < page.index("Grace")
