# A heartbeat row per server process instead of one per agent socket (bench/README.md: the
# sweep's cost), and an index for the sweep's "gone past the grace period" query.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_agentprofile_queues"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServerProcess",
            fields=[
                ("server_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("seen_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.AlterField(
            model_name="agentprofile",
            name="disconnected_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
