"""The agent desk: a login page and one page that talks to the /agent namespace from the
browser (static/agent/desk.js), authenticated by the Django session cookie."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents import auth as agent_auth
from chatserver.errors import TooManyAttempts


class ThrottledLogin:
    """A login form throttled like POST /api/agent/login and sharing its counters, so that
    neither the desk nor the admin is a way around the limit on password guesses."""

    def clean(self):
        throttle = {"username": self.cleaned_data.get("username") or "", "client_ip": _client_ip(self.request)}
        try:
            agent_auth.login_attempt(**throttle)
        except TooManyAttempts as error:
            raise forms.ValidationError(error.message, code="too_many_attempts") from None
        cleaned = super().clean()
        agent_auth.login_succeeded(**throttle)
        return cleaned


class DeskLoginForm(ThrottledLogin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    pass


def _client_ip(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request else ""


def _site() -> dict:
    return {"site_name": settings.CHAT_SITE_NAME}


login = auth_views.LoginView.as_view(
    template_name="agent/login.html",
    authentication_form=DeskLoginForm,
    redirect_authenticated_user=True,
    next_page="agent-desk",
    extra_context=_site(),
)

logout = auth_views.LogoutView.as_view(next_page="agent-login")


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    agent = getattr(request.user, "agent", None)  # the AgentProfile, if this user is an agent
    if agent is None:
        return render(request, "agent/not_an_agent.html", _site(), status=403)
    return render(request, "agent/desk.html", {**_site(), "agent": agent})
