from django.db import migrations
from django.db.models import F


def customers_keep_their_id_as_key(apps, schema_editor):
    """Customers created before join keys joined with their participant id: it stays their key."""
    Participant = apps.get_model("conversations", "Participant")
    Participant.objects.filter(role="customer", join_key__isnull=True).update(join_key=F("id"))


class Migration(migrations.Migration):
    dependencies = [("conversations", "0005_agent_connection_credential")]

    operations = [migrations.RunPython(customers_keep_their_id_as_key, migrations.RunPython.noop)]
