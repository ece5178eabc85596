"""The one ASGI application: Socket.IO at /socket.io/, Django (REST, admin, static) for the rest."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

import socketio  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from conversations.realtime import AGENT_NAMESPACE, CUSTOMER_NAMESPACE, sio  # noqa: E402
from conversations.sockets import AgentNamespace, CustomerNamespace  # noqa: E402

sio.register_namespace(CustomerNamespace(CUSTOMER_NAMESPACE))
sio.register_namespace(AgentNamespace(AGENT_NAMESPACE))

application = socketio.ASGIApp(
    sio,
    other_asgi_app=ProtocolTypeRouter({"http": ASGIStaticFilesHandler(django_asgi_app)}),
    socketio_path="socket.io",
)
