"""Twilio SMS out of the box, against a local fake Twilio: signed webhooks in, replies out,
status callbacks, MMS, opt-out."""

import asyncio

import httpx
import pytest
from asgiref.sync import sync_to_async

from connectors.models import InboundReceipt, OptOut, OutboundMessage
from conversations.models import Conversation, Message
from tests.connectors.conftest import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, PUBLIC_URL, post_twilio, signature
from tests.connectors.helpers import chat_texts, conversations_of, eventually, outbound

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INBOUND = "/connectors/twilio/sms/inbound"
STATUS = "/connectors/twilio/sms/status"
CUSTOMER = "+15017122661"


def sms(body: str, sid: str, sender: str = CUSTOMER, **more) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **more,
    }


async def sms_in(server, body: str, sid: str, sender: str = CUSTOMER, **more) -> str:
    """An SMS arrives through the signed webhook; returns the conversation it went to."""
    response = await post_twilio(server, INBOUND, sms(body, sid, sender, **more))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    [conversation_id] = await sync_to_async(conversations_of)("sms", sender)
    return conversation_id


async def status_callback(server, sid: str, status: str, **more):
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "MessageStatus": status, "To": CUSTOMER, **more}
    return await post_twilio(server, STATUS, params)


def is_status(status: str):
    return lambda payload: payload["status"] == status


async def test_an_sms_comes_in_the_agent_replies_and_the_delivered_callback_reaches_the_desk(
    connectors_server, desk_agent, fake_twilio
):
    conversation_id = await sms_in(connectors_server, "My router is down", "SMin0001")
    assert await sync_to_async(chat_texts)(conversation_id) == ["My router is down"]
    agent = await desk_agent(conversation_id)
    info = await agent.wait_for("conversationInfo", lambda i: i["conversation"]["id"] == conversation_id)
    assert info["conversation"]["channel"] == "sms"
    assert info["conversation"]["customer"]["phone"] == CUSTOMER

    ack = await agent.say("Let me check that for you")
    assert ack["ok"], ack
    [sent] = await eventually(lambda: fake_twilio.sent_to(CUSTOMER))
    assert sent["Body"] == "Let me check that for you"
    assert sent["From"] == OUR_NUMBER
    assert sent["StatusCallback"] == PUBLIC_URL + STATUS
    await agent.wait_for("messageStatus", is_status("sent"))

    assert (await status_callback(connectors_server, sent["sid"], "sending")).status_code == 204
    assert (await status_callback(connectors_server, sent["sid"], "delivered")).status_code == 204
    delivered = await agent.wait_for("messageStatus", is_status("delivered"))
    assert delivered["messageId"] == ack["id"] and delivered["sequence"] == ack["sequence"]
    assert delivered["error"] is None
    record = await sync_to_async(OutboundMessage.objects.get)(provider_message_id=sent["sid"])
    assert record.status == "delivered"
    assert [entry["status"] for entry in record.history] == ["queued", "sent", "sending", "delivered"]
    # A late "sent" does not take it back.
    await status_callback(connectors_server, sent["sid"], "sent")
    assert (await sync_to_async(outbound)(record.id)).status == "delivered"
    assert len(fake_twilio.sent) == 1  # the customer's own message was not echoed back


async def test_an_undelivered_reply_is_shown_to_the_agent_and_never_to_the_customer(
    connectors_server, desk_agent, fake_twilio
):
    conversation_id = await sms_in(connectors_server, "Hello?", "SMin0002")
    agent = await desk_agent(conversation_id)
    assert (await agent.say("Are you there?"))["ok"]
    [sent] = await eventually(lambda: fake_twilio.sent_to(CUSTOMER))

    response = await status_callback(connectors_server, sent["sid"], "undelivered", ErrorCode="30003")
    assert response.status_code == 204
    failed = await agent.wait_for("messageArrived", lambda m: m.get("activityType") == "deliveryFailed")
    assert failed["tag"] == "whisper"
    assert failed["info"]["status"] == "undelivered"
    assert failed["info"]["error"] == {"code": "30003", "message": "Unreachable destination handset."}
    status = await agent.wait_for("messageStatus", is_status("undelivered"))
    assert status["error"]["code"] == "30003"
    stored = await sync_to_async(Message.objects.get)(conversation_id=conversation_id, activity_type="deliveryFailed")
    assert stored.tag == "whisper"  # kept out of the customer's history and transcript


async def test_a_bad_or_missing_signature_is_refused_and_stores_nothing(connectors_server):
    params = sms("Let me in", "SMin0003")
    missing = await post_twilio(connectors_server, INBOUND, params, sign=False)
    wrong_token = await post_twilio(
        connectors_server,
        INBOUND,
        params,
        sign=False,
        **{"X-Twilio-Signature": signature(PUBLIC_URL + INBOUND, params, "guess")},
    )
    # Signed for the address the server listens on, not the public one Twilio calls.
    wrong_url = await post_twilio(connectors_server, INBOUND, params, signed_url=connectors_server.url + INBOUND)
    tampered = await post_twilio(
        connectors_server,
        INBOUND,
        {**params, "Body": "changed"},
        sign=False,
        **{"X-Twilio-Signature": signature(PUBLIC_URL + INBOUND, params)},
    )
    assert [r.status_code for r in (missing, wrong_token, wrong_url, tampered)] == [403, 403, 403, 403]
    assert not await sync_to_async(Conversation.objects.exists)()
    assert not await sync_to_async(InboundReceipt.objects.exists)()
    status = await post_twilio(
        connectors_server, STATUS, {"MessageSid": "SM1", "MessageStatus": "delivered"}, sign=False
    )
    assert status.status_code == 403
    log = connectors_server.log()
    assert "no X-Twilio-Signature header" in log and "the signature does not match" in log
    assert AUTH_TOKEN not in log


async def test_a_webhook_url_with_a_query_string_is_verified_with_it(connectors_server):
    path = INBOUND + "?account=main&region=eu"
    response = await post_twilio(connectors_server, path, sms("Query strings are fine", "SMin0004"))
    assert response.status_code == 200
    [conversation_id] = await sync_to_async(conversations_of)("sms", CUSTOMER)
    assert await sync_to_async(chat_texts)(conversation_id) == ["Query strings are fine"]


async def test_a_replayed_message_sid_is_stored_once(connectors_server):
    first = await sms_in(connectors_server, "Only once please", "SMin0005")
    again = await sms_in(connectors_server, "Only once please", "SMin0005")
    assert first == again
    assert await sync_to_async(chat_texts)(first) == ["Only once please"]


async def test_two_simultaneous_sms_from_a_new_number_make_one_conversation(connectors_server):
    responses = await asyncio.gather(
        *(post_twilio(connectors_server, INBOUND, sms(f"part {n}", f"SMin01{n:02d}", "+15017120000")) for n in range(4))
    )
    assert [r.status_code for r in responses] == [200] * 4
    [conversation_id] = await sync_to_async(conversations_of)("sms", "+15017120000")
    assert sorted(await sync_to_async(chat_texts)(conversation_id)) == ["part 0", "part 1", "part 2", "part 3"]
    assert await sync_to_async(Conversation.objects.count)() == 1


async def test_an_mms_keeps_every_media_item_and_refuses_one_too_large(connectors_server, fake_twilio):
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0001/Media"
    png, jpeg = b"\x89PNG\r\n\x1a\n" + b"1" * 500, b"\xff\xd8\xff" + b"2" * 700
    fake_twilio.media.update(
        {
            f"{base}/ME1": (png, "image/png"),
            f"{base}/ME2": (jpeg, "image/jpeg"),
            f"{base}/ME3": (b"3" * 200_000, "video/mp4"),
        }
    )
    more = {"NumMedia": "3"}
    for index, (name, kind) in enumerate([("ME1", "image/png"), ("ME2", "image/jpeg"), ("ME3", "video/mp4")]):
        more[f"MediaUrl{index}"] = f"{fake_twilio.url}{base}/{name}"
        more[f"MediaContentType{index}"] = kind
    conversation_id = await sms_in(connectors_server, "Photos of the router", "MM0001", **more)

    message = await sync_to_async(Message.objects.get)(conversation_id=conversation_id, type="ChatMessage")
    assert [a["type"] for a in message.attachments] == ["image/png", "image/jpeg"]
    assert message.info == {"mediaRefused": [{"index": 2, "reason": "larger than 100000 bytes"}]}
    async with httpx.AsyncClient() as http:
        for attachment, body in zip(message.attachments, (png, jpeg), strict=True):
            assert attachment["contentUrl"].startswith(PUBLIC_URL + "/connectors/media/")
            served = await http.get(attachment["contentUrl"].replace(PUBLIC_URL, connectors_server.url))
            assert served.status_code == 200 and served.content == body
            assert served.headers["X-Content-Type-Options"] == "nosniff"
        guessed = await http.get(connectors_server.url + "/connectors/media/not-a-token")
        assert guessed.status_code == 404
    assert fake_twilio.media_auth and all(auth.startswith("Basic ") for auth in fake_twilio.media_auth)


async def campaign_key() -> str:
    from connectors.campaigns import api_key_create

    return (await sync_to_async(api_key_create)(name="crm"))[1]


async def campaign(server, key: str, **body) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post(
            "/api/campaign/messages",
            json={"channel": "sms", "to": CUSTOMER, "text": "Our summer offer", **body},
            headers={"Authorization": f"Bearer {key}"},
        )


async def test_stop_suppresses_a_later_campaign_message_and_start_undoes_it(connectors_server, fake_twilio):
    key = await campaign_key()
    stop = await post_twilio(connectors_server, INBOUND, sms("Stop", "SMin0006"))
    assert stop.status_code == 200
    assert await sync_to_async(OptOut.objects.filter(channel="sms", contact=CUSTOMER).exists)()
    assert not await sync_to_async(Conversation.objects.exists)()  # a keyword opens no conversation

    suppressed = await campaign(connectors_server, key, campaignId="summer")
    assert suppressed.status_code == 202 and suppressed.json()["status"] == "suppressed"
    # Writing again opens a conversation; its agents are told the number is opted out.
    conversation_id = await sms_in(connectors_server, "What was that offer?", "SMin0017")
    notes = await sync_to_async(list)(
        Message.objects.filter(conversation_id=conversation_id, tag="whisper").values_list("activity_type", flat=True)
    )
    assert notes == ["optedOut"]

    start = await post_twilio(connectors_server, INBOUND, sms("START", "SMin0007"))
    assert start.status_code == 200
    assert await sync_to_async(
        Message.objects.filter(conversation_id=conversation_id, activity_type="optedIn").exists
    )()
    queued = await campaign(connectors_server, key, campaignId="summer")
    assert queued.json()["status"] == "queued"
    [sent] = await eventually(lambda: fake_twilio.sent_to(CUSTOMER))
    assert sent["Body"] == "Our summer offer"  # only the one after START went out
    await asyncio.sleep(0.5)
    assert len(fake_twilio.sent_to(CUSTOMER)) == 1


async def test_an_agent_sees_that_the_customer_opted_out(connectors_server, desk_agent):
    conversation_id = await sms_in(connectors_server, "Hi", "SMin0008")
    agent = await desk_agent(conversation_id)
    assert (await post_twilio(connectors_server, INBOUND, sms("UNSUBSCRIBE", "SMin0009"))).status_code == 200
    note = await agent.wait_for("messageArrived", lambda m: m.get("activityType") == "optedOut")
    assert note["info"] == {"channel": "sms", "reason": "UNSUBSCRIBE"} and note["tag"] == "whisper"
    assert (await agent.say("Sorry to see you go"))["ok"]
    failed = await agent.wait_for("messageStatus", is_status("suppressed"))
    assert failed["error"]["code"] == "OPTED_OUT"


async def test_help_is_answered_with_the_configured_text(connectors_server, fake_twilio):
    response = await post_twilio(connectors_server, INBOUND, sms(" help ", "SMin0010"))
    assert response.status_code == 200
    assert "<Message>Acme support: reply to chat. STOP to opt out.</Message>" in response.text
    assert not await sync_to_async(Conversation.objects.exists)()
    assert not await sync_to_async(OptOut.objects.exists)()


async def test_twilio_error_21610_fails_the_message_and_marks_the_number_opted_out(connectors_server, fake_twilio):
    fake_twilio.refuse[CUSTOMER] = (400, 21610, "Attempt to send to unsubscribed recipient")
    response = await campaign(connectors_server, await campaign_key())
    record = await eventually(lambda: outbound(response.json()["id"]), lambda o: o.status != "queued")
    assert (record.status, record.error_code) == ("failed", "21610")
    assert await sync_to_async(OptOut.objects.filter(channel="sms", contact=CUSTOMER).exists)()


async def test_a_failure_twilio_may_recover_from_is_retried(connectors_server, fake_twilio):
    fake_twilio.refuse[CUSTOMER] = (503, 20503, "Service unavailable")
    response = await campaign(connectors_server, await campaign_key())
    await eventually(lambda: outbound(response.json()["id"]), lambda o: o.attempts >= 1)
    del fake_twilio.refuse[CUSTOMER]
    record = await eventually(lambda: outbound(response.json()["id"]), lambda o: o.status == "sent")
    assert "retrying" in [entry["status"] for entry in record.history]
    assert len(fake_twilio.sent_to(CUSTOMER)) == 1


async def test_a_reply_longer_than_1600_characters_goes_in_parts_in_order(connectors_server, desk_agent, fake_twilio):
    conversation_id = await sms_in(connectors_server, "Tell me everything", "SMin0011")
    agent = await desk_agent(conversation_id)
    words = [f"word{n:04d}" for n in range(400)]  # 3,599 characters
    assert (await agent.say(" ".join(words)))["ok"]
    parts = await eventually(lambda: fake_twilio.sent_to(CUSTOMER), lambda sent: len(sent) >= 3)
    assert all(len(part["Body"]) <= 1600 for part in parts)
    assert " ".join(part["Body"] for part in parts).split() == words


async def test_a_reply_to_a_campaign_starts_a_conversation_carrying_its_id(connectors_server, fake_twilio):
    response = await campaign(connectors_server, await campaign_key(), campaignId="spring-2027")
    assert response.status_code == 202
    await eventually(lambda: fake_twilio.sent_to(CUSTOMER))
    conversation_id = await sms_in(connectors_server, "Yes, tell me more", "SMin0012")
    conversation = await sync_to_async(Conversation.objects.get)(id=conversation_id)
    assert conversation.extra["campaignId"] == "spring-2027"
    assert conversation.queued_at is not None  # routed to agents like any other


async def test_a_conversation_whose_sms_customer_went_quiet_is_ended_and_the_next_sms_starts_anew(
    connectors_server, desk_agent
):
    from datetime import timedelta

    from django.utils import timezone

    from connectors.models import ContactConversation

    conversation_id = await sms_in(connectors_server, "Thanks, that is all", "SMin0013")
    agent = await desk_agent(conversation_id)
    await sync_to_async(ContactConversation.objects.filter(conversation_id=conversation_id).update)(
        last_inbound_at=timezone.now() - timedelta(hours=2)  # CHAT_IDLE_END_AFTER is an hour here
    )
    ended = await agent.wait_for("messageArrived", lambda m: m.get("activityType") == "endOfConversation")
    assert ended["info"]["reason"] == "idle" and ended["info"]["idleSeconds"] == 3600
    assert ended["info"]["endedBy"]["role"] == "system"
    assert (await sync_to_async(Conversation.objects.get)(id=conversation_id)).state == "ended"

    response = await post_twilio(connectors_server, INBOUND, sms("One more question", "SMin0014"))
    assert response.status_code == 200
    conversations = await sync_to_async(conversations_of)("sms", CUSTOMER)
    assert len(conversations) == 2
    [new] = [c for c in conversations if c != conversation_id]
    assert await sync_to_async(chat_texts)(new) == ["One more question"]
