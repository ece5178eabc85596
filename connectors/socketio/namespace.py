"""The events of external connectors on the default namespace: `registerConnector` and
`deliveryStatus` (protocol: docs/connectors.md). Customers share the namespace."""

from typing import Any

from chatserver import realtime, worker
from chatserver.db import run_sync
from chatserver.dispatch import perform
from chatserver.errors import NotAllowed
from connectors import outbound
from connectors.schemas import DeliveryStatus
from connectors.socketio import services
from connectors.socketio.transport import room_of_connector
from conversations.schemas import RegisterConnector
from conversations.sockets import CustomerNamespace, acknowledged


class CustomerAndConnectorNamespace(CustomerNamespace):
    @acknowledged(RegisterConnector)
    async def on_registerConnector(self, sid: str, request: RegisterConnector) -> dict:
        registered = (await self.session_of(sid)).get("connector")
        if registered not in (None, request.id):
            raise NotAllowed(f"This connection is connector '{registered}' already.")
        done = await perform(services.connector_register, request=request, new_connection=registered is None)
        connector = done.value
        async with self.session(sid) as session:
            session["connector"] = connector.id
        await realtime.sio.enter_room(sid, room_of_connector(connector.id), namespace=self.namespace)
        await realtime.publish(done.deliveries, caller=sid)
        # In the room now: what was queued while the connector was away goes out, from this
        # process (the one that holds the connection), without holding up this ack.
        realtime.sio.start_background_task(worker.run_kinds, [outbound.OUTBOUND_JOB])
        return {"connector": {"id": connector.id, "name": connector.name, "channel": connector.channel}}

    @acknowledged(DeliveryStatus)
    async def on_deliveryStatus(self, sid: str, report: DeliveryStatus) -> dict:
        connector_id = (await self.session_of(sid)).get("connector")
        if connector_id is None:
            raise NotAllowed("Register as a connector first.")
        done = await perform(
            outbound.status_reported,
            channel=connector_id,
            outbound_id=report.id,
            status=report.status,
            error_code=report.error.code if report.error else "",
            error_text=report.error.message if report.error else "",
        )
        await realtime.publish(done.deliveries, caller=sid)
        if done.value is None:
            raise NotAllowed("No message with that id was sent through this connector.")
        return {"id": done.value.id, "status": done.value.status}

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = await self.get_session(sid)
        if connector_id := session.get("connector"):
            await run_sync(services.connector_disconnect, connector_id=connector_id)
