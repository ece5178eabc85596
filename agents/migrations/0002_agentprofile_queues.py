# Part of the move from `conversations` (see 0001): the agents' queues, once routing has its
# Queue. The join table keeps its name, conversations_agentprofile_queues.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
        ("routing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AddField(
                    model_name="agentprofile",
                    name="queues",
                    field=models.ManyToManyField(blank=True, related_name="agents", to="routing.queue"),
                ),
            ],
        ),
    ]
