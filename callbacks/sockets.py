"""The /agent events of callbacks, mixed into agents.sockets.AgentNamespace: the desk lists its
callback offers and tasks, accepts or rejects an offer, records the outcome of a call, and
schedules a callback from a chat. Server events: callbackOffered, callbackOfferWithdrawn,
callbackUpdated (docs/callbacks.md)."""

from django.utils import timezone

from callbacks import selectors, services
from callbacks.schemas import CallbackOutcome, CallbackRef, MyCallbacks, ScheduleCallback
from chatserver import realtime
from chatserver.db import run_sync
from chatserver.dispatch import perform
from conversations.sockets import acknowledged


class CallbackEvents:
    """Needs `agent_id(sid)` of the namespace it is mixed into."""

    @acknowledged(MyCallbacks)
    async def on_myCallbacks(self, sid: str, request: MyCallbacks) -> dict:
        agent_id = await self.agent_id(sid)
        return await run_sync(selectors.agent_callbacks, agent_id=agent_id, now=timezone.now())

    @acknowledged(CallbackRef)
    async def on_acceptCallback(self, sid: str, request: CallbackRef) -> dict:
        done = await perform(
            services.callback_accept, agent_id=await self.agent_id(sid), callback_id=request.callback_id
        )
        await realtime.publish(done.deliveries)
        return {"callback": await run_sync(selectors.agent_json, callback=done.value)}

    @acknowledged(CallbackRef)
    async def on_rejectCallback(self, sid: str, request: CallbackRef) -> dict:
        done = await perform(
            services.callback_reject, agent_id=await self.agent_id(sid), callback_id=request.callback_id
        )
        await realtime.publish(done.deliveries)
        return {"callbackId": request.callback_id}

    @acknowledged(CallbackOutcome)
    async def on_callbackOutcome(self, sid: str, request: CallbackOutcome) -> dict:
        done = await perform(
            services.callback_outcome,
            agent_id=await self.agent_id(sid),
            callback_id=request.callback_id,
            outcome=request.outcome,
            note=request.note,
        )
        await realtime.publish(done.deliveries)
        return {"callback": await run_sync(selectors.agent_json, callback=done.value)}

    @acknowledged(ScheduleCallback)
    async def on_scheduleCallback(self, sid: str, request: ScheduleCallback) -> dict:
        done = await perform(services.callback_schedule_from_chat, agent_id=await self.agent_id(sid), request=request)
        await realtime.publish(done.deliveries)
        result = done.value
        return {"callback": await run_sync(selectors.agent_json, callback=result.callback), "created": result.created}
