"""`python manage.py serve`: the chat server under daphne, on uvloop, at HOST:PORT (default 127.0.0.1:8080)."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the chat server (Socket.IO, REST, admin) with daphne."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.CHAT_HOST)
        parser.add_argument("--port", type=int, default=settings.CHAT_PORT)

    def handle(self, *args, host: str, port: int, **options):
        try:
            import uvloop

            # Must come before daphne installs its Twisted reactor on a new event loop.
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        except ImportError:
            pass
        from daphne import cli

        from chatserver import accesslog, backpressure

        backpressure.install()
        cli.AccessLogGenerator = accesslog.RedactingAccessLog  # sids and transcript ids never logged

        self.stdout.write(f"Chat server on http://{host}:{port}/ (admin at /admin/, API docs at /api/docs)")
        # X-Forwarded-For names the client only behind a proxy that sets it; otherwise anyone
        # could pick their own address (and slip past the per-address login limit).
        proxy = ["--proxy-headers"] if settings.CHAT_TRUST_PROXY_HEADERS else []
        cli.CommandLineInterface().run(["-b", host, "-p", str(port), *proxy, "chatserver.asgi:application"])
