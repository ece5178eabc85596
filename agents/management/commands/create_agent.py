import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agents.services import agent_create


class Command(BaseCommand):
    help = "Create an agent (a Django user with an agent profile), or update one's queues and capacity."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--queue", action="append", default=[], help="A queue the agent serves; repeat for more")
        parser.add_argument("--max-chats", type=int, default=3)
        parser.add_argument("--name", default="", help="Display name (first and last)")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input")

    def handle(self, *args, username: str, queue: list[str], max_chats: int, name: str, password_stdin: bool, **o):
        if max_chats < 1:
            raise CommandError("--max-chats must be at least 1")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif not sys.stdin.isatty():
            # getpass would fall back to reading a pipe, or die with EOFError when there is none.
            raise CommandError("No terminal to ask for the password: pipe it in with --password-stdin.")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        if not password:
            raise CommandError("The password is empty.")
        try:
            agent = agent_create(username=username, password=password, queues=queue, max_chats=max_chats, name=name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        queues = ", ".join(q.name for q in agent.queues.all()) or "none"
        self.stdout.write(f"Agent '{username}' ready (queues: {queues}; up to {agent.max_chats} chats).")
