"""Which pages may use the customer API: the server's own, CORS_ALLOWED_ORIGINS, the widget sites."""

import asyncio

import pytest

from widget import origins
from widget.models import Site

pytestmark = pytest.mark.django_db


def queues(client, origin):
    return client.get("/api/customer/queues", headers={"Origin": origin} if origin else {})


def test_with_nothing_configured_only_the_servers_own_pages_may_call(client):
    assert queues(client, None).status_code == 200
    assert queues(client, "http://testserver").status_code == 200
    refused = queues(client, "https://shop.example.com")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"


def test_a_site_added_in_admin_is_allowed_at_once_and_a_deactivated_one_is_not(client):
    assert queues(client, "https://shop.example.com").status_code == 403
    site = Site.objects.create(name="Shop", origin="https://shop.example.com")
    allowed = queues(client, "https://shop.example.com")
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com"
    site.is_active = False
    site.save()
    origins.forget_site_origins()  # what the admin does on save
    assert queues(client, "https://shop.example.com").status_code == 403


def test_the_setting_lists_origins_too(client, settings):
    settings.CHAT_CORS_ALLOWED_ORIGINS = ["https://a.example.com"]
    assert queues(client, "https://a.example.com").status_code == 200
    assert queues(client, "https://b.example.com").status_code == 403


def test_socketio_asks_the_same_question():
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "chat.example.com:8080"}
    assert origins.socketio_origin_check("http://chat.example.com:8080", environ)
    assert not origins.socketio_origin_check("https://shop.example.com", environ)
    Site.objects.create(name="Shop", origin="https://shop.example.com")
    assert origins.socketio_origin_check("https://shop.example.com", environ)


def test_the_agent_api_gets_no_cors_headers_even_for_a_site(client):
    Site.objects.create(name="Shop", origin="https://shop.example.com")
    response = client.post(
        "/api/agent/login",
        {"username": "x", "password": "y"},
        content_type="application/json",
        headers={"Origin": "https://shop.example.com"},
    )
    assert "Access-Control-Allow-Origin" not in response


def test_the_queue_list_names_each_queue_and_the_attachment_limits(client):
    from routing.models import Queue

    Queue.objects.create(name="billing", description="Invoices and payments")
    Queue.objects.create(name="adsl", description="Your line", is_default=True)
    body = queues(client, None).json()
    named = [{k: q[k] for k in ("name", "description", "isDefault", "openNow", "nextOpening")} for q in body["queues"]]
    assert named == [  # queues without hours are always open
        {"name": "adsl", "description": "Your line", "isDefault": True, "openNow": True, "nextOpening": None},
        {
            "name": "billing",
            "description": "Invoices and payments",
            "isDefault": False,
            "openNow": True,
            "nextOpening": None,
        },
    ]
    assert body["attachments"]["maxBytes"] == 10_000_000
    assert "image/png" in body["attachments"]["types"]


def test_on_the_event_loop_handshakes_from_refused_origins_do_not_each_read_the_database(monkeypatch):
    reads = []

    def read():
        reads.append(1)
        return frozenset({"https://shop.example.com"})

    monkeypatch.setattr(origins, "_read_on_a_thread_of_its_own", read)
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "chat.example.com"}

    async def handshakes():
        refused = [origins.socketio_origin_check(f"https://evil{i}.example", environ) for i in range(50)]
        return refused, origins.socketio_origin_check("https://shop.example.com", environ)

    refused, allowed = asyncio.run(handshakes())
    assert not any(refused) and allowed
    assert len(reads) == 1
