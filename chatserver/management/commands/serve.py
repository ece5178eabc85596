"""`python manage.py serve`: the chat server under daphne, on uvloop, at HOST:PORT (default 127.0.0.1:8080)."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from home import first_run
from home.links import LINKS, public_host


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

        from chatserver import accesslog, backpressure, transport

        backpressure.install()
        transport.uncoloured_autobahn_logs()
        cli.AccessLogGenerator = accesslog.RedactingAccessLog  # sids and transcript ids never logged

        self.stdout.write(start_up_message(host, port))
        # X-Forwarded-For names the client only behind a proxy that sets it; otherwise anyone
        # could pick their own address (and slip past the per-address login limit).
        proxy = ["--proxy-headers"] if settings.CHAT_TRUST_PROXY_HEADERS else []
        cli.CommandLineInterface().run(["-b", host, "-p", str(port), *proxy, "chatserver.asgi:application"])


def start_up_message(host: str, port: int) -> str:
    """Where everything is (the landing page's links), and how to create the first operator."""
    base = f"http://{public_host(host)}:{port}"
    lines = [f"Chat server on {base}/", *(f"  {link.title:<14} {base}{link.path}" for link in LINKS)]
    try:
        needs_operator = not first_run.operator_exists()
    except DatabaseError:
        return "\n".join([*lines, "The database is not ready: run `manage.py migrate` first."])
    if needs_operator:
        token = first_run.setup_token_issue()
        lines += [
            "No operator account yet. Create the first one in the browser:",
            f"  on this machine  {base}/setup/",
            f"  from elsewhere   http://<this host>:{port}/setup/?token={token}",
            "  (or run `manage.py createsuperuser`)",
        ]
    return "\n".join(lines)
