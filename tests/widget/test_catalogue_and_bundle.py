"""The shared catalogue, the read activity, the widget's scripts and their sizes, and docs."""

import gzip
import json
from pathlib import Path

import pytest

from chatserver.errors import InvalidPayload
from conversations import services
from conversations.schemas import SendMessage, parse
from tests.factories import start_conversation
from widget import bundle, catalogue
from widget.errors import WIDGET_ERRORS

ROOT = Path(__file__).resolve().parent.parent.parent
LOADER_LIMIT = 15 * 1024
WHOLE_LIMIT = 60 * 1024


def test_every_language_has_every_text_of_english():
    languages = catalogue.catalogue()
    assert set(languages) == {"en", "de", "ar"}
    for code, texts in languages.items():
        assert set(texts) == set(languages["en"]), code
    assert languages["ar"]["dir"] == "rtl"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("de", "Willkommen!"), ("ar-EG", "أهلاً"), ("fr", "Welcome!")])
def test_the_greeting_comes_from_the_catalogue_in_the_visitors_language(language, expected):
    customer = start_conversation(language=language)
    joined = services.conversation_join(conversation_id=customer.conversation_id, participant_id=customer.join_key)
    assert joined.greeting.info["text"].startswith(expected)


@pytest.mark.django_db
def test_an_operators_greeting_overrides_the_catalogue(settings):
    settings.CHAT_GREETING = "Hi from ops"
    customer = start_conversation(language="de")
    joined = services.conversation_join(conversation_id=customer.conversation_id, participant_id=customer.join_key)
    assert joined.greeting.info["text"] == "Hi from ops"


def read(info):
    return {"conversationId": "c", "type": "ActivityMessage", "activityType": "read", "info": info}


def test_a_read_activity_carries_the_last_sequence_read():
    assert parse(SendMessage, read({"sequence": 7})).info == {"sequence": 7}
    for bad in ({}, {"sequence": "7"}, {"sequence": -1}, {"sequence": True}):
        with pytest.raises(InvalidPayload):
            parse(SendMessage, read(bad))


def test_the_loader_and_the_whole_widget_stay_small_gzipped():
    loader = len(gzip.compress(bundle.loader().body, 9))
    panel = len(gzip.compress(bundle.panel().body, 9))
    print(f"widget.js {loader} B gz, panel.js {panel} B gz, whole {loader + panel} B gz")
    assert loader <= LOADER_LIMIT
    assert loader + panel <= WHOLE_LIMIT


def test_the_served_scripts_are_gzipped_and_the_panel_carries_socketio_without_a_global(client):
    loader = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert loader["Content-Encoding"] == "gzip" and len(loader.content) <= LOADER_LIMIT
    assert loader["Content-Type"].startswith("text/javascript")
    version = bundle.panel().etag.strip('"')
    assert f"/widget/panel.js?v={version}" in gzip.decompress(loader.content).decode()
    panel = client.get("/widget/panel.js", headers={"Accept-Encoding": "gzip"})
    assert len(loader.content) + len(panel.content) <= WHOLE_LIMIT
    text = gzip.decompress(panel.content).decode()
    assert "var module={exports:{}}" in text and "Socket.IO v4" in text
    assert json.dumps(catalogue.catalogue()["de"]["start"], ensure_ascii=False) in text
    assert client.get("/widget/panel.js", headers={"If-None-Match": panel["ETag"]}).status_code == 304


def test_the_demo_page_embeds_the_widget(client):
    page = client.get("/demo/").content.decode()
    assert '<script src="/widget.js"' in page and "async" in page


def test_the_widget_error_codes_are_documented_with_their_status():
    table = (ROOT / "docs" / "errors.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines() if line.startswith("| `")}
    for error in WIDGET_ERRORS:
        assert error.code in rows, f"{error.code} is missing from docs/errors.md"
        assert f"| {error.http_status} |" in rows[error.code]


def test_the_vendored_socketio_client_is_the_pinned_one():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["socket.io-client"]
    assert f"Socket.IO v{pinned}" in bundle.SOCKET_IO.read_text()[:200]
