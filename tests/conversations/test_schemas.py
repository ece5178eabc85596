from datetime import UTC, datetime

import pytest
from django.conf import settings

from chatserver.errors import InvalidPayload, PayloadTooLarge
from conversations.schemas import InitRequest, SendMessage, parse
from tests.factories import SPEC_INIT_SAMPLE

CHAT = {"conversationId": "c0ffee", "type": "ChatMessage", "text": "Hello"}


def refusal(model, data, error=InvalidPayload) -> dict[str, str]:
    """The fields `parse` names when it refuses `data`."""
    with pytest.raises(error) as refused:
        parse(model, data)
    assert type(refused.value) is error
    return refused.value.fields


def test_init_request_accepts_the_sample_body_of_the_spec():
    request = parse(InitRequest, SPEC_INIT_SAMPLE)

    assert request.first_name == "Kashif"
    assert request.last_name == ""
    assert request.email == "kashif@ef.com"
    assert request.phone == "+1343122554"
    assert request.channel == "web"
    assert request.language == "en"
    assert request.subject == "ADSL"
    assert request.ref_id == "00923011234567"
    assert request.comment == "Comment portion is optional"
    assert request.url == "http://localhost:3001"
    assert request.request_id == "99397bf7-a4fb-41c3-8292-a021b44262a6"
    assert request.timestamp == datetime(2018, 5, 7, 6, 52, 21, 661000, tzinfo=UTC)
    assert request.model_extra == {}


def test_init_request_matches_capitalised_keys_as_the_spec_spells_them():
    request = parse(InitRequest, {"Email": "kashif@ef.com", "Channel": "sms", "Phone": "+1343122554", "RefId": "42"})

    assert (request.email, request.channel, request.phone, request.ref_id) == (
        "kashif@ef.com",
        "sms",
        "+1343122554",
        "42",
    )
    assert request.model_extra == {}


def test_init_request_keeps_other_fields_the_client_defines():
    request = parse(InitRequest, {"channel": "web", "email": "kashif@ef.com", "accountType": "gold"})

    assert request.model_extra == {"accountType": "gold"}


def test_init_request_without_a_channel_is_refused_naming_the_channel():
    body = {key: value for key, value in SPEC_INIT_SAMPLE.items() if key != "channel"}

    assert list(refusal(InitRequest, body)) == ["channel"]


def test_init_request_without_any_identifier_is_refused():
    fields = refusal(InitRequest, {"channel": "web", "language": "en", "firstName": "   "})

    assert list(fields) == ["payload"]
    assert "identifier" in fields["payload"]


def test_init_request_with_a_bad_email_is_refused_naming_the_email():
    assert list(refusal(InitRequest, {**SPEC_INIT_SAMPLE, "email": "kashif-at-ef.com"})) == ["email"]


def test_init_request_with_spaces_in_the_channel_is_refused_naming_the_channel():
    assert list(refusal(InitRequest, {**SPEC_INIT_SAMPLE, "channel": "web chat"})) == ["channel"]


def test_payload_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidPayload):
        parse(InitRequest, ["channel", "web"])


def test_send_message_accepts_a_chat_message_with_an_https_attachment():
    message = parse(
        SendMessage,
        {**CHAT, "attachments": [{"contentUrl": "https://files.example.com/a.png", "type": "image/png"}]},
    )

    assert message.text == "Hello"
    assert message.attachments[0].content_url == "https://files.example.com/a.png"


def test_empty_chat_message_is_refused():
    fields = refusal(SendMessage, {**CHAT, "text": "   "})

    assert list(fields) == ["payload"]
    assert "needs text or attachments" in fields["payload"]


def test_activity_type_a_client_may_not_send_is_refused():
    body = {"conversationId": "c0ffee", "type": "ActivityMessage", "activityType": "endOfConversation"}

    assert "typing" in refusal(SendMessage, body)["payload"]


def test_tag_other_than_blank_or_whisper_is_refused():
    assert list(refusal(SendMessage, {**CHAT, "tag": "secret"})) == ["tag"]


def test_text_longer_than_the_limit_is_refused_as_too_large():
    text = "x" * (settings.CHAT_MAX_TEXT_LENGTH + 1)

    assert list(refusal(SendMessage, {**CHAT, "text": text}, error=PayloadTooLarge)) == ["text"]


def test_text_of_the_wrong_type_is_refused():
    assert list(refusal(SendMessage, {**CHAT, "text": ["Hello"]})) == ["text"]


def test_more_attachments_than_the_limit_are_refused_as_too_large():
    attachments = [{"contentUrl": "https://files.example.com/a.png"}] * (settings.CHAT_MAX_ATTACHMENTS + 1)

    assert list(refusal(SendMessage, {**CHAT, "attachments": attachments}, error=PayloadTooLarge)) == ["attachments"]


@pytest.mark.parametrize("field", ["contentUrl", "thumbnailUrl"])
def test_javascript_url_in_an_attachment_is_refused(field):
    attachment = {"contentUrl": "https://files.example.com/a.png", field: "javascript:alert(1)"}

    assert list(refusal(SendMessage, {**CHAT, "attachments": [attachment]})) == [f"attachments.0.{field}"]
