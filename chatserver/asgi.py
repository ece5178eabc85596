"""The one ASGI application: Socket.IO at /socket.io/, Django (REST, admin, static) for the rest,
and the background worker's channel (chatserver.worker)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

import socketio  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from agents.sockets import AgentNamespace  # noqa: E402
from chatserver import realtime, worker  # noqa: E402
from chatserver.guards import PollingSessionGuard  # noqa: E402
from connectors.socketio.namespace import CustomerAndConnectorNamespace  # noqa: E402
from routing.sweep import sweep_forever  # noqa: E402

realtime.sio.register_namespace(CustomerAndConnectorNamespace(realtime.CUSTOMER_NAMESPACE))
realtime.sio.register_namespace(AgentNamespace(realtime.AGENT_NAMESPACE))

socketio_app = PollingSessionGuard(
    socketio.ASGIApp(realtime.sio, other_asgi_app=ASGIStaticFilesHandler(django_asgi_app), socketio_path="socket.io"),
    realtime.sio,
)
workers = ChannelNameRouter({worker.WORKER_CHANNEL: worker.JobConsumer.as_asgi()})
router = ProtocolTypeRouter({"http": socketio_app, "websocket": socketio_app, "channel": workers})


async def application(scope, receive, send):
    if scope["type"] != "channel":  # not Channels' `runworker` (manage.py worker is the better one)
        # daphne sends no lifespan events: the process's loops start with its first connection.
        realtime.start_background("routing sweep", sweep_forever)
        if settings.CHAT_WORKER_IN_PROCESS:
            realtime.start_background("worker", lambda: worker.run_in_process(workers))
    await router(scope, receive, send)
