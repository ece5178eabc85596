"""GET /api/customer/transcript/<id>/<type> against a running server."""

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def http(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def test_an_ongoing_conversation_has_no_transcript_yet(http, customer):
    response = await http.get(f"/api/customer/transcript/{customer.conversation_id}/pdf")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "TRANSCRIPT_NOT_AVAILABLE"


async def test_an_unknown_conversation_has_no_transcript(http):
    assert (await http.get(f"/api/customer/transcript/{'f' * 32}/pdf")).status_code == 404


async def test_a_transcript_type_other_than_pdf_or_email_is_a_bad_request(http, customer):
    await customer.end()
    response = await http.get(f"/api/customer/transcript/{customer.conversation_id}/docx")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "UNSUPPORTED_TRANSCRIPT_TYPE"


async def test_emailing_a_transcript_without_a_customer_email_says_so(http, start_chat, outbox):
    customer = await start_chat(email="")
    await customer.end()
    sent_before = len(outbox.messages)
    response = await http.get(f"/api/customer/transcript/{customer.conversation_id}/email")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "NO_CUSTOMER_EMAIL"
    assert len(outbox.messages) == sent_before


async def test_the_pdf_transcript_is_served_inline_as_a_pdf(http, customer, agent):
    await agent.say("Thanks for waiting")
    await customer.end()
    response = await http.get(f"/api/customer/transcript/{customer.conversation_id}/pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response.headers["content-disposition"].startswith("inline; filename=")
