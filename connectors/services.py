"""Connector keys. Connectors authenticate with an API key that is shown once at creation and
stored only as its SHA-256 (the key is 256 random bits, so a slow hash adds nothing)."""

import secrets

from chatserver.ids import digest
from connectors.models import Connector

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
