# Agents, queues and offers now live in the `agents` and `routing` apps (their tables did not
# move: see agents/0001 and routing/0001). Here `conversations` lets go of them, and the
# content types (so the permissions operators were given) follow them to their new apps.
import django.db.models.deletion
from django.db import migrations, models

MOVED = {"agentprofile": "agents", "agenttoken": "agents", "agentconnection": "agents", "queue": "routing", "offer": "routing"}


def _relabel(apps, model: str, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model=model).exists():
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):
    for model, app_label in MOVED.items():
        _relabel(apps, model, "conversations", app_label)


def move_content_types_back(apps, schema_editor):
    for model, app_label in MOVED.items():
        _relabel(apps, model, app_label, "conversations")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0007_message_ordering_by_column"),
        ("agents", "0002_agentprofile_queues"),
        ("routing", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="participant",
                    name="agent",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="participations", to="agents.agentprofile"),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="queue",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="conversations", to="routing.queue"),
                ),
                migrations.DeleteModel(name="Offer"),
                migrations.DeleteModel(name="AgentConnection"),
                migrations.DeleteModel(name="AgentToken"),
                migrations.DeleteModel(name="AgentProfile"),
                migrations.DeleteModel(name="Queue"),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
