"""The product's tables as the baseline sees them: unmanaged models of a few columns (the
product's migrations own the tables; nothing here creates or alters them)."""

from __future__ import annotations

from django.db import models


class Dispute(models.Model):
    state = models.CharField(max_length=30)
    version = models.PositiveIntegerField()
    requested_outcome = models.CharField(max_length=30)
    requested_amount = models.PositiveBigIntegerField()
    counter_rounds = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField()

    objects: models.Manager[Dispute] = models.Manager()

    class Meta:
        managed = False
        db_table = "mediation_dispute"

    def __str__(self) -> str:
        return f"Dispute #{self.pk}"


class Message(models.Model):
    dispute_id = models.BigIntegerField()
    author_id = models.IntegerField()
    author_role = models.CharField(max_length=20)
    body = models.TextField()
    internal = models.BooleanField(default=False)
    reported = models.BooleanField(default=False)
    report_reason = models.TextField(default="", blank=True)
    reported_by_id = models.IntegerField(null=True)
    reported_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()

    objects: models.Manager[Message] = models.Manager()

    class Meta:
        managed = False
        db_table = "mediation_message"

    def __str__(self) -> str:
        return f"Message #{self.pk}"
