from django.core.management.base import BaseCommand

from connectors.campaigns import api_key_create


class Command(BaseCommand):
    help = "Create an API key for the campaign API and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for, e.g. 'crm'")

    def handle(self, *args, name: str, **options):
        api_key, key = api_key_create(name=name)
        self.stdout.write(f"API key '{api_key.name}' (#{api_key.pk}) created. The key, shown only now:\n{key}")
