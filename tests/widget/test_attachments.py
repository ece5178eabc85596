"""POST /api/customer/attachments and the desk's /agent/attachments: what is refused, what is
stored, and how a stored file is served."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from agents.services import agent_create
from conversations.models import Participant
from tests.factories import end, start_conversation
from widget.models import Attachment

pytestmark = pytest.mark.django_db

URL = "/api/customer/attachments"


def png(size=(800, 600), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def upload(client, customer: Participant, name: str, data: bytes, content_type: str, key: str | None = None):
    return client.post(
        URL,
        {
            "conversationId": customer.conversation_id,
            "participantId": key or customer.join_key,
            "file": SimpleUploadedFile(name, data, content_type=content_type),
        },
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def assert_nothing_stored(media: Path) -> None:
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []


def test_an_image_is_re_encoded_with_a_thumbnail_and_served_inline_but_inert(client, media_in_a_temporary_folder):
    customer = start_conversation()
    response = upload(client, customer, "photo of the router.png", png(), "image/png")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["type"], body["name"]) == ("image/png", "photo_of_the_router.png")
    assert body["contentUrl"].startswith("http://testserver/widget/files/")
    stored = Attachment.objects.get()
    assert len(stored.key) == 32 and stored.key in body["contentUrl"]
    assert len(stored_files(media_in_a_temporary_folder)) == 2  # the image and its thumbnail

    thumbnail = client.get(body["thumbnailUrl"].removeprefix("http://testserver"))
    assert thumbnail.status_code == 200
    with Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))) as image:
        assert max(image.size) == 320
    full = client.get(body["contentUrl"].removeprefix("http://testserver"))
    assert full["Content-Type"] == "image/png"
    assert full["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in full["Content-Security-Policy"] and "default-src 'none'" in full["Content-Security-Policy"]
    assert not full.get("Content-Disposition", "").startswith("attachment")


def test_a_pdf_is_served_as_a_download_never_inline(client):
    customer = start_conversation()
    body = upload(client, customer, "bill.pdf", b"%PDF-1.4\n%test\n", "application/pdf").json()
    assert body["thumbnailUrl"] is None
    response = client.get(body["contentUrl"].removeprefix("http://testserver"))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith('attachment; filename="bill.pdf"')
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_key_finds_no_file(client):
    assert client.get("/widget/files/" + "0" * 32 + "/file").status_code == 404


def test_a_file_larger_than_the_limit_is_refused_and_nothing_is_stored(client, settings, media_in_a_temporary_folder):
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1000
    customer = start_conversation()
    response = upload(client, customer, "big.png", png((400, 400)), "image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "ATTACHMENT_TOO_LARGE"
    assert "1 KB" in response.json()["error"]["message"]
    assert_nothing_stored(media_in_a_temporary_folder)


def test_a_type_not_in_the_list_is_refused_and_nothing_is_stored(client, media_in_a_temporary_folder):
    customer = start_conversation()
    response = upload(client, customer, "setup.exe", b"MZ\x90\x00", "application/x-msdownload")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "ATTACHMENT_TYPE_NOT_ALLOWED"
    assert_nothing_stored(media_in_a_temporary_folder)


def test_a_file_that_claims_to_be_an_image_and_is_not_is_refused(client, media_in_a_temporary_folder):
    customer = start_conversation()
    response = upload(client, customer, "cat.png", b"<html><script>alert(1)</script></html>", "image/png")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "ATTACHMENT_NOT_VALID"
    assert_nothing_stored(media_in_a_temporary_folder)


def test_a_jpeg_sent_as_png_is_refused(client, media_in_a_temporary_folder):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="JPEG")
    response = upload(client, start_conversation(), "x.png", out.getvalue(), "image/png")
    assert response.status_code == 422
    assert_nothing_stored(media_in_a_temporary_folder)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.mark.parametrize(("claimed", "status"), [("image/svg+xml", 415), ("image/png", 422)])
def test_an_svg_with_a_script_is_refused_whatever_it_claims(client, media_in_a_temporary_folder, claimed, status):
    response = upload(client, start_conversation(), "logo.svg", SVG, claimed)
    assert response.status_code == status
    assert_nothing_stored(media_in_a_temporary_folder)


def test_the_join_key_of_another_conversation_is_refused(client, media_in_a_temporary_folder):
    customer = start_conversation()
    stranger = start_conversation(email="eve@example.com")
    response = upload(client, customer, "a.png", png(), "image/png", key=stranger.join_key)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_A_PARTICIPANT"
    public_id = upload(client, customer, "a.png", png(), "image/png", key=customer.id)
    assert public_id.status_code == 403  # the id everyone sees is not the key
    assert_nothing_stored(media_in_a_temporary_folder)


def test_an_ended_conversation_takes_no_more_files(client, media_in_a_temporary_folder):
    customer = start_conversation()
    end(customer.conversation, customer)
    response = upload(client, customer, "a.png", png(), "image/png")
    assert response.status_code == 409
    assert_nothing_stored(media_in_a_temporary_folder)


def test_an_agent_uploads_only_into_a_conversation_they_are_in(client, media_in_a_temporary_folder):
    profile = agent_create(username="alice", password="correct horse battery", queues=["default"], name="Alice")
    client.force_login(profile.user)
    customer = start_conversation()
    file = SimpleUploadedFile("a.png", png(), content_type="image/png")
    refused = client.post("/agent/attachments", {"conversationId": customer.conversation_id, "file": file})
    assert refused.status_code == 403
    assert_nothing_stored(media_in_a_temporary_folder)

    customer.conversation.participants.create(role="agent", name="Alice", agent=profile)
    file = SimpleUploadedFile("a.png", png(), content_type="image/png")
    accepted = client.post("/agent/attachments", {"conversationId": customer.conversation_id, "file": file})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["thumbnailUrl"]
    assert Attachment.objects.get().uploaded_by.agent == profile
