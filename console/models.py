"""The console's own records: mediators' saved replies (macros)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from console import replies


class ReplyKind(models.TextChoices):
    MESSAGE = "message", "Message to the parties"
    REQUEST_INFO = "request_info", "Request for information"


class SavedReply(models.Model):
    """A text a mediator reuses on the case page, with placeholders (``console.replies``).

    Shared replies are offered to every mediator; personal ones to their owner only.
    """

    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ReplyKind.choices)
    body = models.TextField(max_length=20_000, help_text=replies.help_text())
    shared = models.BooleanField(
        default=False, help_text="Offered to every mediator; otherwise to you only."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_replies",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "title", "id"]
        verbose_name_plural = "saved replies"
        indexes = [models.Index(fields=["owner", "kind"], name="saved_reply_owner_kind")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.body:
            try:
                replies.check(self.body, kind=self.kind)
            except ValidationError as exc:
                raise ValidationError({"body": exc.messages}) from None

    @classmethod
    def offered_to(cls, user: object) -> models.QuerySet[SavedReply]:
        """The replies ``user`` may use: the shared ones and their own."""
        pk = getattr(user, "pk", None)
        return cls.objects.filter(Q(shared=True) | Q(owner_id=pk)).select_related(None)


class SavedView(models.Model):
    """A queue's filters, sort and search under a name (``console.views``): a mediator's
    own, or shared with every mediator ("Escalated, USD, over 500", "Overdue appeals")."""

    name = models.CharField(max_length=80)
    # The queue's query string (only its filter, sort and search parameters).
    query = models.CharField(max_length=1000)
    shared = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name
