"""The connector contract: what the server asks of every connector, built in or external.

A connector is the transport of one channel. The server stores each outbound message first
(connectors.models.OutboundMessage), then the background worker hands it to the channel's
connector (`send`); what the connector says decides the message's status:

- `send` returns a `Sent` (the provider took it: status "sent", with the provider's id);
- it raises `TransportError(message, permanent=...)`: permanent errors are final ("failed"),
  the others are tried again with backoff;
- it raises `NotReachable` when nobody can take the message right now (an external connector
  that is away): the message stays queued, untouched, until the connector is back.

Later, the provider reports what became of it (delivered, undelivered, read); the connector
passes that to `connectors.outbound.status_reported`. Healthchecks' hc/integrations is the model.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from connectors.models import OutboundMessage


class TransportError(Exception):
    """Sending failed. `permanent` says whether trying again can help (a bad number cannot,
    a timeout can); `code` is the provider's error code, if it gave one."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


class NotReachable(Exception):
    """No one can take the message now; it waits, without counting as an attempt."""


@dataclass(frozen=True)
class Sent:
    provider_message_id: str = ""
    # Extra statuses the provider already reported while sending (rare; most come later).
    extra: dict = field(default_factory=dict)


class Connector:
    """One channel's transport. Subclasses set `channel` and implement `send`."""

    channel: ClassVar[str] = ""
    # Contacts are phone numbers: `to` is validated and normalised with phonenumbers (E.164).
    contacts_are_phone_numbers: ClassVar[bool] = False

    def send(self, message: "OutboundMessage") -> Sent:
        raise NotImplementedError

    def delivers_here(self, message: "OutboundMessage") -> bool:
        """Whether this process can send it now (an external connector: is one of its sockets
        connected to this process?). The worker claims only what it can send."""
        return True
