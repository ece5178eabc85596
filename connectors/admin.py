"""Connectors in the admin. The API key is shown once, in a message, when it is issued (on
adding a connector, or with the "Issue a new key" action); only its hash is stored, and that
is never shown."""

from django.contrib import admin, messages
from django.http import HttpRequest

from connectors.campaigns import api_key_revoke
from connectors.models import ApiKey, Connector, OptOut, OutboundMessage
from connectors.services import connector_create

# Kept up to date by the connectors' sockets, not by people.
LIVE_STATE = ("connected", "connected_sockets", "last_connected_at", "last_disconnected_at")


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "channel", "connected", "connected_sockets", "last_connected_at")
    list_filter = ("connected", "channel")
    search_fields = ("id", "name", "channel")
    fields = ("id", "name", "channel", *LIVE_STATE, "created_at", "updated_at")
    actions = ("issue_new_key",)

    def get_readonly_fields(self, request: HttpRequest, obj: Connector | None = None) -> tuple[str, ...]:
        if obj is None:
            return (*LIVE_STATE, "created_at", "updated_at")
        # The id is the primary key: changing it here would make a second connector.
        return ("id", *LIVE_STATE, "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Connector, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        connector, key = connector_create(connector_id=obj.id, name=obj.name, channel=obj.channel)
        obj.refresh_from_db()
        self._show_key_once(request, connector, key)

    @admin.action(description="Issue a new key (the old one stops working)", permissions=["change"])
    def issue_new_key(self, request: HttpRequest, queryset) -> None:
        for connector in queryset:
            connector, key = connector_create(connector_id=connector.id, name=connector.name, channel=connector.channel)
            self._show_key_once(request, connector, key)

    def _show_key_once(self, request: HttpRequest, connector: Connector, key: str) -> None:
        self.message_user(
            request,
            f"Key for connector '{connector.id}', shown only now; copy it into the connector's settings: {key}",
            messages.WARNING,
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key NAME` (it prints the key once); here they
    are revoked. The hash is never shown."""

    list_display = ("id", "name", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("name", "created_at", "revoked_at")
    readonly_fields = ("name", "created_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke (the key stops working at once)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        for api_key in queryset:
            api_key_revoke(api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "to", "status", "error_code", "campaign_id", "attempts", "created_at")
    list_filter = ("status", "channel")
    search_fields = ("id", "to", "campaign_id", "provider_message_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("channel", "contact", "reason", "created_at")
    list_filter = ("channel",)
    search_fields = ("contact",)
