"""Relaying Socket.IO events between processes through Redis, without losing any silently.

Redis pub/sub delivers at most once: what is published while a subscriber is away, or what a
publisher cannot hand to Redis, is gone. Everything is stored before it is sent, so a client
that rejoins with lastSequence gets it back; the point here is that the client learns it must:

- when this process's subscription drops and comes back, every connection of this process may
  have missed events: they are all dropped (their transport closed), reconnect and rejoin;
- when a publish fails, the other processes' clients missed it: once Redis takes messages
  again this process asks every other process (a `disconnect` message with `resync`) to drop
  its connections likewise.

The subscription is retried every CHAT_REDIS_RETRY seconds at most (python-socketio doubles
its wait up to a minute), so clients are back within a few seconds of Redis returning. Each
outage is logged once, not once per failed publish.
"""

import asyncio
import logging
import types

import socketio
from django.conf import settings

from chatserver.transport import DirectEmit

logger = logging.getLogger("chatserver.relay")


class ResyncingRedisManager(socketio.AsyncRedisManager, DirectEmit):  # DirectEmit: this process's deliveries
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._subscribed_once = False
        self._publish_failing = False
        self._announcing: asyncio.Task | None = None

    def _redis_connect(self):
        super()._redis_connect()
        pubsub = self.pubsub
        original_on_connect = pubsub.on_connect
        manager = self

        async def on_connect(pubsub_self, connection):
            # redis-py re-subscribes by itself after a reconnect; that is a drop as well.
            await original_on_connect(connection)
            manager._subscribed()

        # A bound method: redis-py keeps its connect callbacks as weak methods.
        pubsub.on_connect = types.MethodType(on_connect, pubsub)

    def _subscribed(self) -> None:
        if self._subscribed_once:
            logger.warning("the Redis subscription came back: every connection of this process resyncs")
            self._resync_local()

    def _resync_local(self) -> None:
        if self.server is not None and hasattr(self.server, "drop_all"):
            self.server.start_background_task(self.server.drop_all)

    async def _publish(self, data):
        for attempt in range(2):
            try:
                if not self.connected:
                    self._redis_connect()
                result = await self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:
                self.connected = False
                if attempt == 0:
                    continue
                if not self._publish_failing:
                    logger.error("cannot publish to Redis (%s): other processes' clients will resync", exc)
                self._publish_failing = True
                if self._announcing is None or self._announcing.done():
                    self._announcing = asyncio.ensure_future(self._announce_resync())
                return None
            if self._publish_failing:
                self._publish_failing = False
                logger.warning("publishing to Redis works again")
            return result
        return None

    async def _announce_resync(self) -> None:
        """Until Redis takes it: tell every other process to have its clients resync."""
        message = {"method": "disconnect", "resync": True, "sid": None, "namespace": "/", "host_id": self.host_id}
        while True:
            await asyncio.sleep(settings.CHAT_REDIS_RETRY / 2)
            try:
                if not self.connected:
                    self._redis_connect()
                await self.redis.publish(self.channel, self.json.dumps(message))
                return
            except Exception:
                self.connected = False

    async def _handle_disconnect(self, message):
        if message.get("resync"):
            logger.warning("another process could not publish: every connection of this process resyncs")
            self._resync_local()
            return
        await super()._handle_disconnect(message)

    async def _redis_listen_with_retries(self):
        """python-socketio's loop, with the wait between retries capped at CHAT_REDIS_RETRY."""
        retry_sleep = 0.25
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                    self._subscribed()
                    self._subscribed_once = True
                    retry_sleep = 0.25
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                if subscribed:
                    logger.error("lost the Redis subscription (%s); retrying", exc)
                subscribed = False
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, settings.CHAT_REDIS_RETRY)
