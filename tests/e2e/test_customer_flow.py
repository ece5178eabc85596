"""The whole flow of the Customer Channel API against a running server, as a customer lives it."""

import asyncio
import io

import httpx
import pytest
from pypdf import PdfReader

from tests.e2e.people import init_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_a_customer_chats_with_an_agent_from_init_to_emailed_transcript(server, connect, add_agent, outbox):
    started = await init_conversation(server.url, requestId="99397bf7-a4fb-41c3-8292-a021b44262a6")
    assert started["requestId"] == "99397bf7-a4fb-41c3-8292-a021b44262a6"
    assert started["participant"]["name"] == "Kashif"
    conversation_id = started["conversationId"]

    customer = await connect(conversation_id, started["participant"]["id"], "Kashif")
    joined = await customer.join()
    assert joined["ok"] is True
    info = await customer.wait_for("conversationInfo")
    assert info["conversation"]["id"] == conversation_id
    assert info["role"] == "customer"
    assert [p["name"] for p in info["participants"]] == ["Kashif"]
    greeting = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "greetings")
    assert greeting["type"] == "ActivityMessage"

    agent = await add_agent(customer, "Alice")
    joined_notice = await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "participantJoined")
    assert joined_notice["info"]["participant"]["name"] == "Alice"

    ack = await customer.say("Hello, what is the status of my request")
    assert ack["ok"] and ack["sequence"] > joined_notice["sequence"]
    arrived = await agent.wait_for_text("Hello, what is the status of my request")
    assert arrived["from"]["id"] == customer.public_id != customer.participant_id
    assert arrived["sequence"] == ack["sequence"]

    typing = await agent.emit(
        "sendMessage", {"conversationId": conversation_id, "type": "ActivityMessage", "activityType": "typing"}
    )
    assert typing["ok"]
    await customer.wait_for("messageArrived", lambda m: m.get("activityType") == "typing")

    assert (await agent.say("Supervisor: this one is a VIP", tag="whisper"))["ok"]
    assert (await agent.say("Your request is being processed."))["ok"]
    await customer.wait_for_text("Your request is being processed.")
    assert "Supervisor: this one is a VIP" not in customer.texts()

    assert (await customer.end())["ok"]
    for person in (customer, agent):
        await person.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")
    refused = await customer.say("Are you still there?")
    assert refused == {
        "ok": False,
        "error": {"code": "CONVERSATION_ENDED", "message": "The conversation has ended."},
    }

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        pdf = await http.get(f"/api/customer/transcript/{conversation_id}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Hello, what is the status of my request" in text
        assert "Your request is being processed." in text
        assert "VIP" not in text
        assert "Are you still there?" not in text

        mails_before = len(outbox.messages)
        emailed = await http.get(f"/api/customer/transcript/{conversation_id}/email")
        assert emailed.status_code == 202
        assert emailed.json() == {"status": "queued"}
    mail = await asyncio.to_thread(outbox.mail_to, "kashif@ef.com", after=mails_before)
    assert mail["To"] == "kashif@ef.com"
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "Your request is being processed." in parts["text/plain"].get_payload(decode=True).decode()
    assert "VIP" not in parts["text/plain"].get_payload(decode=True).decode()
    assert parts["application/pdf"].get_payload(decode=True).startswith(b"%PDF")
