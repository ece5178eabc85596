"""Connector registration. Connectors authenticate with an API key that is shown once at
creation and stored only as its SHA-256 (the key is 256 random bits, so a slow hash adds nothing)."""

import hmac
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chatserver.errors import ConnectorUnknown, Unauthorized
from chatserver.ids import digest
from connectors.models import Connector
from conversations.schemas import RegisterConnector

hash_key = digest


def connector_create(*, connector_id: str, name: str, channel: str | None = None) -> tuple[Connector, str]:
    """Create a connector, or give an existing one a new key. Returns the key in clear, once."""
    key = secrets.token_urlsafe(32)
    connector_id, channel = connector_id.lower(), (channel or connector_id).lower()  # as registration reads them
    connector, _ = Connector.objects.update_or_create(
        id=connector_id,
        defaults={"name": name or connector_id, "channel": channel, "key_hash": hash_key(key)},
    )
    return connector, key


@transaction.atomic
def connector_register(*, request: RegisterConnector, new_connection: bool = True) -> Connector:
    """A connector's socket says who it is; it is marked connected until that socket goes.
    A connection that registers again (new_connection=False) is not counted twice."""
    connector = Connector.objects.select_for_update().filter(id=request.id).first()
    if connector is None:
        raise ConnectorUnknown()
    if not connector.key_hash or not hmac.compare_digest(connector.key_hash, hash_key(request.key)):
        raise Unauthorized("Wrong or missing connector key.")
    connector.name = request.name or connector.name
    connector.connected = True
    connector.connected_sockets = F("connected_sockets") + (1 if new_connection else 0)
    connector.last_connected_at = timezone.now()
    connector.save(update_fields=["name", "connected", "connected_sockets", "last_connected_at", "updated_at"])
    connector.refresh_from_db()
    return connector


@transaction.atomic
def connector_disconnect(*, connector_id: str) -> None:
    connector = Connector.objects.select_for_update().filter(id=connector_id).first()
    if connector is None:
        return
    connector.connected_sockets = max(connector.connected_sockets - 1, 0)
    connector.connected = connector.connected_sockets > 0
    connector.last_disconnected_at = timezone.now()
    connector.save(update_fields=["connected_sockets", "connected", "last_disconnected_at", "updated_at"])
