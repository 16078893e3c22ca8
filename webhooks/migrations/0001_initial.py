"""The webhook models move from the api app to this one; their tables stay where they are.

State only: the tables ``api_webhookendpoint``, ``api_webhookdelivery`` and
``api_webhookattempt`` were created by ``api.0002_webhooks`` and keep their names, rows,
constraints and indexes (``db_table`` on each model). ``api.0003`` removes the models from
the api app's state after this migration has added them here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("api", "0002_webhooks"),
        ("mediation", "0004_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookEndpoint",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("url", models.URLField(max_length=2000)),
                        ("events", models.JSONField(default=list)),
                        ("description", models.CharField(blank=True, max_length=200)),
                        ("secret", models.CharField(max_length=100)),
                        ("previous_secret", models.CharField(blank=True, max_length=100)),
                        ("previous_secret_expires_at", models.DateTimeField(blank=True, null=True)),
                        ("active", models.BooleanField(default=True)),
                        ("disabled_reason", models.CharField(blank=True, max_length=300)),
                        ("disabled_at", models.DateTimeField(blank=True, null=True)),
                        ("consecutive_failures", models.PositiveIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "shop",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="webhook_endpoints",
                                to="mediation.shop",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_webhookendpoint",
                        "ordering": ["-id"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("event_type", models.CharField(max_length=60)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("retrying", "Retrying"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("round_attempts", models.PositiveIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("body", models.TextField(blank=True)),
                        ("last_response_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("last_duration_ms", models.PositiveIntegerField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="mediation.outboxevent",
                            ),
                        ),
                        (
                            "endpoint",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="webhooks.webhookendpoint",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_webhookdelivery",
                        "ordering": ["-id"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveIntegerField()),
                        ("started_at", models.DateTimeField()),
                        ("succeeded", models.BooleanField(default=False)),
                        ("response_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("manual", models.BooleanField(default=False)),
                        (
                            "delivery",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="log",
                                to="webhooks.webhookdelivery",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_webhookattempt",
                        "ordering": ["delivery", "number"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("delivery", "number"), name="webhook_attempt_unique"
                            )
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="webhookdelivery",
                    index=models.Index(
                        condition=models.Q(("status__in", ["pending", "retrying"])),
                        fields=["next_attempt_at"],
                        name="webhook_delivery_due_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="webhookdelivery",
                    constraint=models.UniqueConstraint(
                        fields=("endpoint", "event"), name="webhook_delivery_once"
                    ),
                ),
            ],
            # The tables exist (api.0002_webhooks): nothing to do in the database.
            database_operations=[],
        ),
    ]
