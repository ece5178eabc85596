"""POST /api/campaign/messages and GET /api/campaign/messages/<id>: keys, input, rate limit."""

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chatserver.ids import digest
from connectors.campaigns import api_key_create, api_key_revoke
from connectors.models import ApiKey, OutboundMessage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MESSAGE = {"channel": "sms", "to": "+14155550123", "text": "Your appointment is tomorrow at 10"}


async def post(server, body: dict, headers: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post("/api/campaign/messages", json=body, headers=headers or {})


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def key() -> str:
    return (await sync_to_async(api_key_create)(name="crm"))[1]


async def stored() -> int:
    return await sync_to_async(OutboundMessage.objects.count)()


async def test_no_key_a_bad_key_and_a_revoked_key_get_401_and_store_nothing(connectors_server, key):
    revoked_model, revoked = await sync_to_async(api_key_create)(name="old")
    await sync_to_async(api_key_revoke)(revoked_model)
    answers = [
        await post(connectors_server, MESSAGE),
        await post(connectors_server, MESSAGE, {"Authorization": key}),  # not as a bearer
        await post(connectors_server, MESSAGE, bearer("cmp_guessed")),
        await post(connectors_server, MESSAGE, bearer(revoked)),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert {a.json()["error"]["code"] for a in answers} == {"UNAUTHORIZED"}
    assert answers[3].json()["error"]["message"] == "This API key was revoked."
    assert await stored() == 0
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        assert (await http.get("/api/campaign/messages/x")).status_code == 401
    assert key not in connectors_server.log()


async def test_bad_input_is_400_naming_the_field_and_stores_nothing(connectors_server, key):
    cases = {
        "channel": {**MESSAGE, "channel": "Not a slug!"},
        "to": {**MESSAGE, "to": "+1 555 not a number"},
        "payload": {**MESSAGE, "text": ""},
    }
    for field, body in cases.items():
        response = await post(connectors_server, body, bearer(key))
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["error"]["fields"], (field, response.json())
    missing = await post(connectors_server, {"channel": "sms"}, bearer(key))
    assert missing.status_code == 400 and "to" in missing.json()["error"]["fields"]
    assert (
        await post(connectors_server, {**MESSAGE, "to": "+11234567890"}, bearer(key))
    ).status_code == 400  # no such area code
    assert await stored() == 0


async def test_a_number_is_stored_in_international_form(connectors_server, key):
    response = await post(connectors_server, {**MESSAGE, "to": "(415) 555-0123"}, bearer(key))
    assert response.status_code == 202
    record = await sync_to_async(OutboundMessage.objects.get)(id=response.json()["id"])
    assert record.to == "+14155550123"


async def test_a_channel_without_a_connector_is_stored_as_failed_with_the_reason(connectors_server, key):
    response = await post(connectors_server, {**MESSAGE, "channel": "telegram", "to": "@lena"}, bearer(key))
    assert response.status_code == 202
    assert response.json()["status"] == "failed"
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        status = (await http.get(f"/api/campaign/messages/{response.json()['id']}", headers=bearer(key))).json()
    assert status["status"] == "failed"
    assert status["error"] == {"code": "NO_CONNECTOR", "message": "No connector carries channel 'telegram'."}


async def test_each_key_sees_only_its_own_messages(connectors_server, key):
    other = (await sync_to_async(api_key_create)(name="someone else"))[1]
    sent = (await post(connectors_server, MESSAGE, bearer(key))).json()
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        mine = await http.get(f"/api/campaign/messages/{sent['id']}", headers=bearer(key))
        theirs = await http.get(f"/api/campaign/messages/{sent['id']}", headers=bearer(other))
    assert mine.status_code == 200 and mine.json()["id"] == sent["id"]
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "MESSAGE_NOT_FOUND"


async def test_a_key_sending_too_fast_gets_429(connectors_server, key):
    other = (await sync_to_async(api_key_create)(name="another client"))[1]
    answers = [(await post(connectors_server, MESSAGE, bearer(key))).status_code for _ in range(11)]
    assert answers == [202] * 10 + [429]
    assert await stored() == 10
    assert (await post(connectors_server, MESSAGE, bearer(other))).status_code == 202  # per key


async def test_the_campaign_api_is_in_the_openapi_document(connectors_server):
    async with httpx.AsyncClient(base_url=connectors_server.url) as http:
        document = (await http.get("/api/openapi.json")).json()
    assert "/api/campaign/messages" in document["paths"]
    assert "/api/campaign/messages/{message_id}" in document["paths"]
    assert document["paths"]["/api/campaign/messages"]["post"]["security"]


def test_create_api_key_prints_the_key_once_and_stores_only_its_hash(capsys):
    call_command("create_api_key", "crm")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    api_key = ApiKey.objects.get(name="crm")
    assert api_key.key_hash == digest(key) and key not in api_key.key_hash
