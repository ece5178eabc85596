"""The landing page, the protocol documents, and the first-run set-up page (home/first_run.py)."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from home import first_run
from home.forms import FirstOperatorForm
from home.links import LINKS

DOCS_DIR = Path(settings.BASE_DIR) / "docs"
SESSION_TOKEN_KEY = "first_run_token"


def _site() -> dict:
    return {"site_name": settings.CHAT_SITE_NAME}


def landing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home/landing.html",
        {**_site(), "links": LINKS, "operator_exists": first_run.operator_exists()},
    )


def _documents() -> list[str]:
    return sorted(path.name for path in DOCS_DIR.glob("*.md"))


def docs_index(request: HttpRequest) -> HttpResponse:
    return render(request, "home/docs.html", {**_site(), "documents": _documents()})


def docs_file(request: HttpRequest, name: str) -> HttpResponse:
    """A protocol document as it is in the repository (Markdown, shown as plain text)."""
    if name not in _documents():  # only the files listed, never a path
        raise Http404("No such document.")
    response = HttpResponse((DOCS_DIR / name).read_text(), content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def asyncapi_json(request: HttpRequest) -> HttpResponse:
    """The Socket.IO API as an AsyncAPI 3.0 document (chatserver/asyncapi.py), beside /api/openapi.json."""
    # Imported here: it loads the Socket.IO handlers, which the other pages do not need.
    from chatserver.asyncapi import asyncapi_document

    return JsonResponse(asyncapi_document(host=request.get_host()), json_dumps_params={"indent": 1})


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "home/setup_refused.html", {**_site(), "reason": reason}, status=status)


@csrf_protect
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Creates the first operator. Gone (404) once one exists."""
    if first_run.operator_exists():
        raise Http404("The first operator exists: set-up is done.")
    if first_run.too_many_failures(request):
        return _refused(request, "throttled", 429)
    token = request.GET.get("token", "")
    if token:
        if not first_run.setup_token_valid(token):
            first_run.failure_count(request)
            return _refused(request, "token", 403)
        # Keep the token out of the address bar, history and Referer from here on.
        request.session[SESSION_TOKEN_KEY] = token
        return redirect("first-run-setup")
    allowed = first_run.from_this_machine(request) or first_run.setup_token_valid(
        request.session.get(SESSION_TOKEN_KEY, "")
    )
    if not allowed:
        if request.method == "POST":
            first_run.failure_count(request)
        return _refused(request, "remote", 403)

    form = FirstOperatorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            first_run.failure_count(request)
        else:
            data = form.cleaned_data
            try:
                user = first_run.first_operator_create(
                    username=data["username"],
                    email=data["email"],
                    password=data["password1"],
                    agent_queue=data["queue"] if data["be_agent"] else "",
                    agent_name=data["agent_name"],
                )
            except first_run.OperatorExists:
                raise Http404("The first operator exists: set-up is done.") from None
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            agent = " and agent" if data["be_agent"] else ""
            messages.success(request, f"Operator{agent} '{user.get_username()}' created; you are logged in.")
            return redirect("landing")
    return render(request, "home/setup.html", {**_site(), "form": form})
