"""The widget's pages and files: /widget.js, /widget/panel.js, /demo/, attachment downloads,
and the desk's upload endpoint for agents."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_POST

from chatserver.errors import ChatError, InvalidPayload, NotAParticipant
from conversations.models import Participant
from widget import attachments, bundle
from widget.models import Attachment

# A downloaded file can run nothing, load nothing and is never sniffed into something active.
DOWNLOAD_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _script_response(request: HttpRequest, script: bundle.Script, *, max_age: int) -> HttpResponse:
    # gzip_page turns the ETag weak (W/"..."); either form names the same script.
    if request.headers.get("If-None-Match", "").removeprefix("W/") == script.etag:
        response = HttpResponseNotModified()
        response["ETag"] = script.etag
        return response
    response = HttpResponse(script.body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = script.etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _scripts():
    if settings.DEBUG:  # edits show without a restart
        bundle.forget()
    return bundle


@require_GET
@gzip_page
def loader_js(request: HttpRequest) -> HttpResponse:
    # Short: a new panel version (named in the loader) reaches visitors within minutes.
    return _script_response(request, _scripts().loader(), max_age=300)


@require_GET
@gzip_page
def panel_js(request: HttpRequest) -> HttpResponse:
    # Requested with ?v=<its ETag> by the loader, so it can be kept for a long time.
    return _script_response(request, _scripts().panel(), max_age=86400 * 30)


@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    return render(request, "widget/demo.html", {"site_name": settings.CHAT_SITE_NAME})


@require_GET
def attachment_file(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    attachment = Attachment.objects.filter(key=key).first()
    field = None if attachment is None else {"file": attachment.file, "thumbnail": attachment.thumbnail}.get(kind)
    if not field:
        raise Http404("No such file.")
    image = attachment.is_image and attachment.content_type in attachments.IMAGE_FORMATS
    content_type = attachment.content_type if image else "application/octet-stream"
    if kind == "thumbnail":
        content_type = "image/png" if field.name.endswith(".png") else "image/jpeg"
    response = FileResponse(
        field.open("rb"), content_type=content_type, as_attachment=not image, filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # thumbnails show in the widget on other sites
    response["Cache-Control"] = "private, max-age=86400"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
@login_required
def agent_attachment(request: HttpRequest) -> HttpResponse:
    """An agent attaches a file from the desk (session and CSRF token): only into an open
    conversation the agent is in."""
    try:
        agent = getattr(request.user, "agent", None)
        upload = request.FILES.get("file")
        conversation_id = request.POST.get("conversationId", "")[:64]
        if upload is None or not conversation_id:
            raise InvalidPayload("Send conversationId and file as multipart/form-data.")
        uploader = (
            Participant.objects.select_related("conversation")
            .filter(conversation_id=conversation_id, agent=agent, left_at__isnull=True)
            .first()
            if agent
            else None
        )
        if uploader is None:
            raise NotAParticipant("You are not in this conversation.")
        stored = attachments.attachment_store(uploader=uploader, upload=upload)
    except ChatError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.http_status)
    return JsonResponse(attachments.attachment_json(stored, absolute=request.build_absolute_uri))
