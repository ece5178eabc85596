"""Which connector carries which channel.

Built-in connectors (Twilio SMS) are there when their settings are; an external connector is
there when an operator has created it (create_connector / admin), whether or not it is
connected right now: what is queued for it waits until it registers.
"""

from collections.abc import Callable

from connectors.base import Connector

# channel -> a factory that returns its connector, or None when it is not configured
_built_in: dict[str, Callable[[], Connector | None]] = {}


def register_built_in(channel: str, factory: Callable[[], Connector | None]) -> None:
    """A built-in connector's app calls this from its ready()."""
    _built_in[channel] = factory


def built_in(channel: str) -> Connector | None:
    factory = _built_in.get(channel)
    return factory() if factory is not None else None


def connector_for(channel: str) -> Connector | None:
    """The connector of `channel`, or None if the channel has none."""
    if (connector := built_in(channel)) is not None:
        return connector
    from connectors.models import Connector as ConnectorRow
    from connectors.socketio.transport import SocketIOConnector

    if ConnectorRow.objects.filter(id=channel).exists():
        return SocketIOConnector(channel)
    return None


def contacts_are_phone_numbers(channel: str) -> bool:
    """SMS-like channels address customers by phone number."""
    connector = connector_for(channel)
    return channel == "sms" or (connector is not None and connector.contacts_are_phone_numbers)
