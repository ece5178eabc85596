"""`python manage.py worker`: the background worker on its own (with Redis, beside servers that
run with CHAT_WORKER_IN_PROCESS=false): listens for wake-ups on the channel layer and polls."""

import asyncio

from django.core.management.base import BaseCommand, CommandError

from chatserver import worker


class Command(BaseCommand):
    help = "Run the background worker (transcript emails, outbound messages) in this process."

    def handle(self, *args, **options):
        from django.conf import settings

        if not settings.REDIS_URL:
            raise CommandError("A worker of its own needs REDIS_URL; without Redis `serve` runs the worker itself.")
        from chatserver.asgi import workers

        self.stdout.write("Background worker running; Ctrl-C stops it.")
        asyncio.run(worker.run_in_process(workers))
