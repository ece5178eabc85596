"""Agents are managed here; what the server keeps up to date (an agent's state, load and
connections) is shown, never edited. Tokens are shown and can be revoked."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from agents import auth
from agents.models import AgentProfile, AgentToken
from agents.services import agent_create, agent_password_validate
from chatserver.admin import ReadOnlyAdmin, change_link
from routing.selectors import agents_with_live_state


class AgentCreationForm(SetPasswordMixin, forms.ModelForm):
    """Adds an agent in one step: its Django user (username, name, password) and its profile."""

    username = get_user_model()._meta.get_field("username").formfield()
    name = forms.CharField(
        max_length=150, required=False, help_text="First and last name, shown to customers; empty: the username."
    )
    password1, password2 = SetPasswordMixin.create_password_fields()
    # As create_agent: an agent who can take no chat is not one.
    max_chats = forms.IntegerField(min_value=1, initial=3, help_text="Open chats and pending offers at a time.")

    class Meta:
        model = AgentProfile
        fields = ("queues", "max_chats")

    def clean_username(self) -> str:
        # agent_create would update an existing user, password included: adding is for new ones.
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with that username already exists.", code="unique")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        self.validate_passwords()
        if cleaned.get("password2") and "password2" not in self.errors:
            try:
                agent_password_validate(
                    username=cleaned.get("username", ""), password=cleaned["password2"], name=cleaned.get("name", "")
                )
            except ValidationError as error:
                self.add_error("password2", error)
        return cleaned


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    """State, idle time and connections are the server's: they are shown, not edited."""

    add_form = AgentCreationForm
    add_fieldsets = (
        (None, {"fields": ("username", "name", "password1", "password2")}),
        ("Routing", {"fields": ("queues", "max_chats")}),
    )
    list_display = ("user", "display_name", "state", "connected_now", "chats", "queue_names")
    list_filter = ("state", "queues")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    filter_horizontal = ("queues",)
    fieldsets = (
        (None, {"fields": ("user_link", "display_name", "queues", "max_chats")}),
        ("Now", {"fields": ("state", "connected_now", "chats", "idle_since", "disconnected_at")}),
    )
    readonly_fields = ("user_link", "display_name", "state", "connected_now", "chats", "idle_since", "disconnected_at")

    def get_queryset(self, request: HttpRequest):
        agents = super().get_queryset(request).select_related("user").prefetch_related("queues")
        return agents_with_live_state(agents)

    def get_fieldsets(self, request: HttpRequest, obj: AgentProfile | None = None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: AgentProfile | None = None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: AgentProfile | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request: HttpRequest, obj: AgentProfile, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        agent = agent_create(
            username=data["username"],
            password=data["password1"],
            name=data["name"],
            queues=[queue.name for queue in data["queues"]],
            max_chats=data["max_chats"],
        )
        obj.pk = agent.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change:  # on adding, agent_create has set the queues
            super().save_related(request, form, formsets, change)

    @admin.display(description="User")
    def user_link(self, agent: AgentProfile) -> str:
        return change_link(agent.user, agent.user.get_username())

    @admin.display(description="Connected", boolean=True, ordering="connected")
    def connected_now(self, agent: AgentProfile) -> bool:
        return agent.connected

    @admin.display(description="Load / max chats", ordering="load")
    def chats(self, agent: AgentProfile) -> str:
        return f"{agent.load} / {agent.max_chats}"

    @admin.display(description="Queues")
    def queue_names(self, agent: AgentProfile) -> str:
        return ", ".join(queue.name for queue in agent.queues.all())


@admin.register(AgentToken)
class AgentTokenAdmin(ReadOnlyAdmin):
    """Only the SHA-256 of a token is stored, and it is not shown."""

    list_display = ("agent", "created_at", "expires_at", "revoked_at")
    list_select_related = ("agent__user",)
    search_fields = ("agent__user__username",)
    fields = ("agent", "created_at", "expires_at", "revoked_at")
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # Revoking is the one change allowed here.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Revoke (sockets connected with it are closed)", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = auth.tokens_revoke(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
