"""The widget's REST endpoints: /api/customer/queues and /api/customer/callback."""

import pytest
from django.test import Client

from callbacks.models import Callback
from routing.models import Queue
from widget.models import Site

pytestmark = pytest.mark.django_db

BODY = {"firstName": "Kashif", "lastName": "Awan", "phone": "+49 30 901820", "subject": "support"}


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="203.0.113.9")


def post(client, body):
    return client.post("/api/customer/callback", body, content_type="application/json")


def test_queues_lists_every_queue_with_open_now_and_next_opening(client, office_queue, open_queue):
    answer = client.get("/api/customer/queues")
    assert answer.status_code == 200
    queues = {q["name"]: q for q in answer.json()["queues"]}
    assert set(queues) == {"billing", "support"}
    assert queues["support"]["openNow"] is True and queues["support"]["nextOpening"] is None
    assert queues["support"]["hours"]["alwaysOpen"] is True
    billing = queues["billing"]
    assert billing["hours"]["timeZone"] == "Europe/Berlin"
    assert billing["openNow"] != (billing["nextOpening"] is not None)  # closed now exactly when it names an opening


def test_a_request_is_201_with_its_id_state_time_and_key(client, open_queue):
    answer = post(client, BODY | {"comment": "<b>invoice</b>"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) >= {"callbackId", "state", "scheduledFor", "key"}
    assert body["state"] in ("scheduled", "offered") and body["phone"] == "+4930901820"
    stored = Callback.objects.get()
    assert stored.client_ip == "203.0.113.9" and stored.key_hash != body["key"]
    assert stored.comment == "<b>invoice</b>"  # kept as text; the desk shows it as text


def test_the_key_reads_and_cancels_the_request_and_a_wrong_key_is_404(client, open_queue):
    created = post(client, BODY).json()
    url = f"/api/customer/callback/{created['callbackId']}"
    assert client.get(url, headers={"X-Callback-Key": created["key"]}).json()["callbackId"] == created["callbackId"]
    assert client.get(f"{url}?key={created['key']}").status_code == 200
    wrong = client.get(url, headers={"X-Callback-Key": "guess"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (404, "CALLBACK_NOT_FOUND")
    assert client.delete(url).status_code == 404
    cancelled = client.delete(url, headers={"X-Callback-Key": created["key"]})
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    again = client.delete(url, headers={"X-Callback-Key": created["key"]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "CALLBACK_NOT_OPEN")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "call me"}, "phone"),
        ({"subject": "nowhere"}, "subject"),
        ({"preferredTime": {"start": "2020-01-01T10:00:00Z", "end": "2020-01-01T11:00:00Z"}}, "preferredTime.end"),
        ({"firstName": ""}, "firstName"),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_store_nothing(client, open_queue, change, field):
    answer = post(client, BODY | change)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert any(name.startswith(field) for name in error["fields"]), error
    assert not Callback.objects.exists()


def test_a_replayed_request_id_answers_200_with_the_same_request(client, open_queue):
    first = post(client, BODY | {"requestId": "widget-1"})
    again = post(client, BODY | {"requestId": "widget-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["callbackId"] == first.json()["callbackId"] and again.json()["replayed"] is True
    assert Callback.objects.count() == 1


def test_too_many_requests_from_one_address_are_429(client, open_queue, settings):
    settings.CHAT_CALLBACK_MAX_PER_ADDRESS = 1
    assert post(client, BODY).status_code == 201
    answer = post(client, BODY | {"phone": "+44 20 7946 0958"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (429, "TOO_MANY_CALLBACKS")
    assert Queue.objects.count() == 1 and Callback.objects.count() == 1


def test_a_widget_on_another_site_may_send_the_key_header_and_delete(client):
    Site.objects.create(name="Shop", origin="https://shop.example.com")  # a site allowed to embed the widget
    preflight = client.options(
        "/api/customer/callback/0123",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "x-callback-key",
        },
    )
    assert "x-callback-key" in preflight["Access-Control-Allow-Headers"].lower()
    assert "DELETE" in preflight["Access-Control-Allow-Methods"]
