from django.core.management.base import BaseCommand

from connectors.services import connector_create


class Command(BaseCommand):
    help = "Create a channel connector (or give it a new key) and print its API key once."

    def add_arguments(self, parser):
        parser.add_argument("connector_id", help="The connector id, which is also its channel name, e.g. sms")
        parser.add_argument("--name", default="", help="Friendly name")

    def handle(self, *args, connector_id: str, name: str, **options):
        connector, key = connector_create(connector_id=connector_id.lower(), name=name)
        self.stdout.write(f"Connector '{connector.id}' ready. Its key, shown only now:\n{key}")
