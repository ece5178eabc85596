# Agents moved here from `conversations`. Their tables keep their names (db_table), so this
# changes Django's idea of where the models live and nothing in the database.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("conversations", "0007_message_ordering_by_column"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AgentProfile",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("max_chats", models.PositiveIntegerField(default=3)),
                        ("state", models.CharField(choices=[("ready", "Ready"), ("notReady", "Not ready")], default="notReady", max_length=16)),
                        ("idle_since", models.DateTimeField(blank=True, help_text="When the agent last got ready or was last given a chat.", null=True)),
                        ("disconnected_at", models.DateTimeField(blank=True, null=True)),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="agent", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "conversations_agentprofile", "ordering": ["user__username"]},
                ),
                migrations.CreateModel(
                    name="AgentToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("agent", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="tokens", to="agents.agentprofile")),
                    ],
                    options={"db_table": "conversations_agenttoken"},
                ),
                migrations.CreateModel(
                    name="AgentConnection",
                    fields=[
                        ("sid", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("server_id", models.CharField(db_index=True, max_length=64)),
                        ("connected_at", models.DateTimeField(auto_now_add=True)),
                        ("seen_at", models.DateTimeField(db_index=True)),
                        ("session_key", models.CharField(blank=True, max_length=40)),
                        ("agent", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="connections", to="agents.agentprofile")),
                        ("token", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="agents.agenttoken")),
                    ],
                    options={"db_table": "conversations_agentconnection"},
                ),
            ],
        ),
    ]
