"""The pure parts of the hardening: what a log line may say, and what a payload may hold."""

import json

import pytest

from chatserver import accesslog, guards
from chatserver.errors import PayloadTooLarge
from chatserver.payloads import refuse_oversized


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (
            "/socket.io/?EIO=4&transport=polling&t=abc&sid=Zx81_secret-sid",
            "/socket.io/?EIO=4&transport=polling&t=abc&sid=[redacted]",
        ),
        ("/api/customer/transcript/1fcd8cc8abd1bacc0cff5251b46f7544/pdf", "/api/customer/transcript/[redacted]/pdf"),
        (
            "/admin/conversations/conversation/1fcd8cc8abd1/change/",
            "/admin/conversations/conversation/[redacted]/change/",
        ),
        ("/api/agent/login?token=abc", "/api/agent/login?token=[redacted]"),
        ("/agent/", "/agent/"),
    ],
)
def test_paths_are_logged_without_their_secrets(path, logged):
    assert accesslog.redact_path(path) == logged


def test_other_log_lines_lose_sids_and_transcript_ids():
    line = "Bad Request: /socket.io/?EIO=4&sid=AbCdEf0123456789 and Not Found: /api/customer/transcript/abc123/pdf"
    assert accesslog.redact_text(line) == (
        "Bad Request: /socket.io/?EIO=4&sid=[redacted] and Not Found: /api/customer/transcript/[redacted]/pdf"
    )


def test_payloads_with_long_lists_or_too_many_values_are_refused_before_validation(settings):
    settings.CHAT_MAX_LIST_ITEMS, settings.CHAT_MAX_PAYLOAD_NODES = 100, 5_000
    refuse_oversized({"attachments": [{"contentUrl": "https://x.example/a"}] * 10, "text": "x" * 10_000})
    with pytest.raises(PayloadTooLarge) as refused:
        refuse_oversized({"attachments": [0] * 101})
    assert refused.value.fields == {"attachments": "too many items"}
    with pytest.raises(PayloadTooLarge):
        refuse_oversized({"info": {f"k{n}": [[1] * 99] * 99 for n in range(2)}})


def test_packets_are_counted_without_parsing(settings):
    settings.CHAT_MAX_PAYLOAD_NODES = 5_000
    huge = "421" + json.dumps(["sendMessage", {"attachments": [0] * 450_000}], separators=(",", ":"))
    assert guards.has_too_many_values(huge)
    strings = "421" + json.dumps(["sendMessage", {"attachments": [""] * 6_000}], separators=(",", ":"))
    assert guards.has_too_many_values(strings)
    commas_in_text = "421" + json.dumps(["sendMessage", {"text": "," * 9_000}])
    assert not guards.has_too_many_values(commas_in_text)
