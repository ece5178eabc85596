# Queues and offers moved here from `conversations`. Their tables keep their names (db_table),
# so this changes Django's idea of where the models live and nothing in the database.
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("agents", "0001_initial"),
        ("conversations", "0007_message_ordering_by_column"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Queue",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("description", models.CharField(blank=True, max_length=200)),
                        ("is_default", models.BooleanField(default=False, help_text="Takes conversations whose subject names no queue.")),
                        ("offer_timeout_seconds", models.PositiveIntegerField(blank=True, help_text="How long an agent has to accept an offer; empty: the server default.", null=True, validators=[django.core.validators.MinValueValidator(1)])),
                        ("max_wait_seconds", models.PositiveIntegerField(blank=True, help_text="End conversations that waited this long for an agent; empty: the server default (0: never).", null=True)),
                    ],
                    options={
                        "db_table": "conversations_queue",
                        "ordering": ["name"],
                        "constraints": [models.UniqueConstraint(django.db.models.functions.text.Lower("name"), name="queue_name_unique_whatever_its_case")],
                    },
                ),
                migrations.CreateModel(
                    name="Offer",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("state", models.CharField(choices=[("pending", "Pending"), ("accepted", "Accepted"), ("rejected", "Rejected"), ("expired", "Expired"), ("withdrawn", "Withdrawn")], default="pending", max_length=16)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField(db_index=True)),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("agent", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="offers", to="agents.agentprofile")),
                        ("conversation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="offers", to="conversations.conversation")),
                    ],
                    options={
                        "db_table": "conversations_offer",
                        "ordering": ["-created_at"],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("state", "pending")), fields=("conversation",), name="one_pending_offer_per_conversation")],
                    },
                ),
            ],
        ),
    ]
