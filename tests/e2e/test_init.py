"""POST /api/customer/init against a running server."""

import httpx
import pytest
from asgiref.sync import sync_to_async

from conversations.models import Conversation, Participant
from tests.e2e.people import SAMPLE_INIT
from widget.models import Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


async def stored_counts() -> tuple[int, int]:
    return await sync_to_async(lambda: (Conversation.objects.count(), Participant.objects.count()))()


async def test_the_published_sample_body_starts_a_conversation(http):
    response = await http.post("/api/customer/init", json={**SAMPLE_INIT, "requestId": "r-1"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"conversationId", "participant", "requestId", "timestamp"}
    assert body["requestId"] == "r-1"
    assert body["participant"]["name"] == "Kashif"
    assert body["timestamp"].endswith("Z")
    conversation = await sync_to_async(Conversation.objects.get)(id=body["conversationId"])
    assert (conversation.channel, conversation.subject, conversation.customer_email) == ("web", "ADSL", "kashif@ef.com")


async def test_ids_that_grant_access_are_128_random_bits(http):
    bodies = [(await http.post("/api/customer/init", json=SAMPLE_INIT)).json() for _ in range(3)]
    ids = [b["conversationId"] for b in bodies] + [b["participant"]["id"] for b in bodies]
    assert len(set(ids)) == 6
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


async def test_bad_input_gets_400_naming_each_field_and_stores_nothing(http):
    before = await stored_counts()
    response = await http.post("/api/customer/init", json={"email": "not-an-email", "phone": ["+1"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD"
    assert set(error["fields"]) == {"email", "phone", "channel"}
    assert await stored_counts() == before


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"channel": "web"}, "payload", 400),  # no identifier at all
        ({"firstName": "K", "channel": "web site"}, "channel", 400),
        ({"firstName": "K", "channel": "web", "comment": "x" * 5000}, "comment", 413),
    ],
)
async def test_each_kind_of_bad_init_is_refused(http, body, field, status):
    before = await stored_counts()
    response = await http.post("/api/customer/init", json=body)
    assert response.status_code == status, response.text
    assert field in response.json()["error"]["fields"]
    assert await stored_counts() == before


async def test_a_body_that_is_not_json_is_refused(http):
    response = await http.post("/api/customer/init", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PAYLOAD"
    assert await stored_counts() == (0, 0)


async def test_a_replayed_request_id_returns_the_same_conversation(http):
    first = (await http.post("/api/customer/init", json={**SAMPLE_INIT, "requestId": "retry-me"})).json()
    again = (await http.post("/api/customer/init", json={**SAMPLE_INIT, "requestId": "retry-me"})).json()
    assert again["conversationId"] == first["conversationId"]
    assert again["participant"] == first["participant"]
    assert await stored_counts() == (1, 1)


async def test_a_request_id_reused_by_someone_else_is_a_conflict_not_their_conversation(http):
    await http.post("/api/customer/init", json={**SAMPLE_INIT, "requestId": "shared"})
    response = await http.post(
        "/api/customer/init", json={"firstName": "Mallory", "channel": "web", "requestId": "shared"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REQUEST_ID_CONFLICT"
    assert "conversationId" not in response.text


async def test_the_openapi_document_is_served(http):
    response = await http.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/customer/init" in response.json()["paths"]


async def test_long_names_are_refused_cleanly_not_crashed_on(http):
    response = await http.post("/api/customer/init", json={"firstName": "K" * 150, "channel": "web"})
    assert response.status_code == 413
    assert response.json()["error"]["fields"] == {"firstName": "String should have at most 100 characters"}
    assert await stored_counts() == (0, 0)


async def test_a_channel_in_capitals_is_taken_in_lower_case(http):
    response = await http.post("/api/customer/init", json={"firstName": "K", "Channel": "SMS"})
    assert response.status_code == 200
    conversation = await sync_to_async(Conversation.objects.get)(id=response.json()["conversationId"])
    assert conversation.channel == "sms"


async def test_a_widget_site_from_admin_may_call_init_and_another_origin_may_not(http):
    await sync_to_async(Site.objects.create)(name="Shop", origin="https://shop.example.com")
    preflight = await http.options(
        "/api/customer/init",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example.com"
    response = await http.post("/api/customer/init", json=SAMPLE_INIT, headers={"Origin": "https://shop.example.com"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert await stored_counts() == (1, 1)

    refused = await http.post("/api/customer/init", json=SAMPLE_INIT, headers={"Origin": "https://elsewhere.example"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert "access-control-allow-origin" not in refused.headers
    assert await stored_counts() == (1, 1)


async def test_a_body_larger_than_the_server_takes_is_refused_as_too_large(http):
    response = await http.post(
        "/api/customer/init", json={"firstName": "K", "channel": "web", "notes": "x" * 3_000_000}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await stored_counts() == (0, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"firstName": "nul\x00"},
        {"email": "k@example.com", "notes": "nul\x00"},
        {"timestamp": "0001-01-01T00:00:00+14:00"},
    ],
)
async def test_values_a_database_cannot_hold_are_refused_at_init(http, bad):
    response = await http.post("/api/customer/init", json={"firstName": "K", "channel": "web", **bad})
    assert response.status_code == 400, response.text
    assert await stored_counts() == (0, 0)


async def test_a_long_email_as_the_only_identifier_is_stored(http):
    email = "k" * 64 + "@" + ("e" * 60 + ".") * 3 + "com"
    response = await http.post("/api/customer/init", json={"email": email, "channel": "web"})
    assert response.status_code == 200, response.text
    assert len(response.json()["participant"]["name"]) == 200
